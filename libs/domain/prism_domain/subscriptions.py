"""Subscriptions and their quantity history (SPEC O7, P2).

A subscription holds a product for a customer from its start date, on a billing term. Its
quantity is a history of `QuantityChange`s, each effective from a date; the quantity on a day
is the one of the latest change effective on or before it. Two changes effective on the same
day are ordered by `sequence` (the order they were recorded, later wins), so the history means
the same whatever order its entries are read in.

Cancellation works like a change to zero from `cancelled_from` (the first day no longer in
service), and freezes the history: nothing can change on or after that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from prism_domain.catalogue import BillingTerm
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.periods import Period, add_years

EntityId = int | str


@dataclass(frozen=True, slots=True)
class QuantityChange:
    effective_from: date
    quantity: int
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class QuantitySegment:
    """Days of a billing period over which the quantity does not change."""

    period: Period
    quantity: int


def _check_quantity(value: object, *, field: str, minimum: int, errors: list[FieldError]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(field, ErrorCode.INVALID, "Quantity must be a whole number."))
    elif value < minimum:
        errors.append(
            FieldError(field, ErrorCode.OUT_OF_RANGE, f"Quantity must be at least {minimum}.")
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """Build with `Subscription.create`, change with `change_quantity` / `cancel`."""

    id: EntityId
    customer_id: EntityId
    sku: str
    billing_term: BillingTerm
    start: date
    history: tuple[QuantityChange, ...]
    cancelled_from: date | None = None

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.history, key=lambda c: (c.effective_from, c.sequence)))
        object.__setattr__(self, "history", ordered)

    @classmethod
    def create(
        cls,
        *,
        id: EntityId,
        customer_id: EntityId,
        sku: str,
        billing_term: BillingTerm,
        start: date,
        quantity: int,
        changes: Iterable[QuantityChange] = (),
        cancelled_from: date | None = None,
    ) -> Subscription:
        """O7: a subscription starts with at least one licence; `changes` replay P2 history."""
        errors: list[FieldError] = []
        _check_quantity(quantity, field="quantity", minimum=1, errors=errors)
        changes = tuple(changes)
        if cancelled_from is not None and cancelled_from < start:
            errors.append(
                FieldError(
                    "cancelled_from",
                    ErrorCode.OUT_OF_RANGE,
                    f"A subscription cannot be cancelled before it starts ({start}).",
                )
            )
        for index, change in enumerate(changes):
            errors.extend(_change_errors(change, start, cancelled_from, f"changes[{index}]"))
        keys: dict[tuple[date, int], int] = {(start, 0): quantity}
        for index, change in enumerate(changes):
            key = (change.effective_from, change.sequence)
            if keys.setdefault(key, change.quantity) != change.quantity:
                errors.append(
                    FieldError(
                        f"changes[{index}].sequence",
                        ErrorCode.DUPLICATE,
                        f"Two different quantities are recorded for {change.effective_from} "
                        f"with sequence {change.sequence}.",
                    )
                )
        if errors:
            raise DomainValidationError(errors)
        return cls(
            id=id,
            customer_id=customer_id,
            sku=sku,
            billing_term=billing_term,
            start=start,
            history=(QuantityChange(start, quantity, 0), *changes),
            cancelled_from=cancelled_from,
        )

    def change_quantity(
        self, effective_from: date, quantity: int, *, sequence: int | None = None
    ) -> Subscription:
        """P2: a new quantity from `effective_from`; history is kept, never rewritten."""
        seq = max(c.sequence for c in self.history) + 1 if sequence is None else sequence
        change = QuantityChange(effective_from, quantity, seq)
        errors = _change_errors(change, self.start, self.cancelled_from, None)
        if any(
            (c.effective_from, c.sequence) == (effective_from, seq) and c.quantity != quantity
            for c in self.history
        ):
            errors.append(
                FieldError(
                    "sequence",
                    ErrorCode.DUPLICATE,
                    f"Another quantity is recorded for {effective_from} with sequence {seq}.",
                )
            )
        if errors:
            raise DomainValidationError(errors)
        return replace(self, history=(*self.history, change))

    def cancel(self, cancelled_from: date) -> Subscription:
        """Stop service from `cancelled_from`; changes effective later are refused as errors."""
        errors: list[FieldError] = []
        if self.cancelled_from is not None:
            errors.append(
                FieldError(
                    "cancelled_from",
                    ErrorCode.INVALID,
                    f"The subscription is already cancelled from {self.cancelled_from}.",
                )
            )
        elif cancelled_from < self.start:
            errors.append(
                FieldError(
                    "cancelled_from",
                    ErrorCode.OUT_OF_RANGE,
                    f"A subscription cannot be cancelled before it starts ({self.start}).",
                )
            )
        elif any(c.effective_from >= cancelled_from for c in self.history[1:]):
            errors.append(
                FieldError(
                    "cancelled_from",
                    ErrorCode.OUT_OF_RANGE,
                    "A quantity change is recorded on or after that date.",
                )
            )
        if errors:
            raise DomainValidationError(errors)
        return replace(self, cancelled_from=cancelled_from)

    def is_active_on(self, day: date) -> bool:
        return self.start <= day and (self.cancelled_from is None or day < self.cancelled_from)

    def quantity_on(self, day: date) -> int:
        if not self.is_active_on(day):
            return 0
        quantity = 0
        for change in self.history:
            if change.effective_from > day:
                break
            quantity = change.quantity
        return quantity

    def segments(self, period: Period) -> tuple[QuantitySegment, ...]:
        """P3: constant-quantity runs of days of `period`, from the start date on.

        Adjacent runs with the same quantity are merged (a "change" to the same quantity
        changes nothing). A run at quantity 0 is kept only in the period where the quantity
        drops to zero (a reduction or a cancellation, even on the period's first day), so the
        PSA sync learns the date of the drop (S5); later periods have no segments.
        """
        billed = period.intersection(Period(self.start, max(self.start, period.end)))
        if billed is None:
            return ()
        cuts = [c.effective_from for c in self.history]
        if self.cancelled_from is not None:
            cuts.append(self.cancelled_from)
        runs: list[QuantitySegment] = []
        for part in billed.split_at(cuts):
            quantity = self.quantity_on(part.start)
            if runs and runs[-1].quantity == quantity:
                runs[-1] = QuantitySegment(Period(runs[-1].period.start, part.end), quantity)
            else:
                runs.append(QuantitySegment(part, quantity))
        return tuple(
            run
            for run in runs
            if run.quantity or self.quantity_on(run.period.start - timedelta(days=1))
        )

    def term_containing(self, day: date) -> Period:
        """The billing term holding `day`: its calendar month, or its year from the start."""
        if self.billing_term is BillingTerm.MONTHLY:
            return Period.month_of(day)
        years = max(day.year - self.start.year, 0)
        while years > 0 and add_years(self.start, years) > day:
            years -= 1
        first = add_years(self.start, years)
        return Period(first, add_years(self.start, years + 1) - timedelta(days=1))


def _change_errors(
    change: QuantityChange, start: date, cancelled_from: date | None, prefix: str | None
) -> list[FieldError]:
    def name(leaf: str) -> str:
        return f"{prefix}.{leaf}" if prefix else leaf

    errors: list[FieldError] = []
    _check_quantity(change.quantity, field=name("quantity"), minimum=0, errors=errors)
    if change.effective_from < start:
        errors.append(
            FieldError(
                name("effective_from"),
                ErrorCode.OUT_OF_RANGE,
                f"A quantity change cannot take effect before the subscription starts ({start}).",
            )
        )
    elif cancelled_from is not None and change.effective_from >= cancelled_from:
        errors.append(
            FieldError(
                name("effective_from"),
                ErrorCode.OUT_OF_RANGE,
                f"The subscription is cancelled from {cancelled_from}.",
            )
        )
    return errors
