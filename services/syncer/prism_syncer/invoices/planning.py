"""Invoice sync planning (SPEC S5, S6, S10), in PSA-neutral terms.

An issued invoice says, for each customer and product, how many units were billed from
which day. The PSA must end up agreeing: for every synced customer, the contract service of
each monthly product holds exactly the invoiced units from each change's effective date.

Planning turns invoice lines into *targets* (units from a date, at a price and cost); it
never computes the PSA's deltas. Those are computed when applying, from the units the PSA
holds at that moment (`delta`), so a retried, duplicated or interrupted sync writes only what
is still missing and never applies a change twice (S10). Manual edits made in the PSA are
corrected the same way: the next invoice's targets win (S5).

The desired timeline (S11). What a contract service must hold on a day follows from *all*
issued invoices of the partner and program, not only from the invoice being synced: on a day
an invoice covers, that invoice's quantity of the product (0 when it has no line for it that
day); between invoices and after the latest one, the last quantity carries on (Azure usage:
back to 0). A run plans the timeline from the first day of the invoice it syncs onwards, for
every product Prism has billed to each synced customer (so a product that left the invoice is
set to 0), and checks it from the first day Prism ever synced that contract service. So any
invoice can be synced in any order, any number of times, and every day ends right.

Not synced, and reported as such: annual subscriptions, one-time fees, manual credits and
adjustments, customers that are not mapped or have sync off, and Azure usage when the
program's "sync Azure usage" is off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any


class LineKind(StrEnum):
    SUBSCRIPTION = "SUBSCRIPTION"
    USAGE = "USAGE"
    ONE_TIME_FEE = "ONE_TIME_FEE"
    ADJUSTMENT = "ADJUSTMENT"


class Term(StrEnum):
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"


class Outcome(StrEnum):
    """Why a line is not turned into a target; each comes with the action to take (S6)."""

    ANNUAL_SKIPPED = "ANNUAL_SKIPPED"
    NOT_SYNCED_KIND = "NOT_SYNCED_KIND"
    CUSTOMER_NOT_SYNCED = "CUSTOMER_NOT_SYNCED"
    USAGE_SYNC_OFF = "USAGE_SYNC_OFF"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    CONTRACT_NOT_USABLE = "CONTRACT_NOT_USABLE"
    DATE_OUTSIDE_CONTRACT = "DATE_OUTSIDE_CONTRACT"
    FRACTIONAL_QUANTITY = "FRACTIONAL_QUANTITY"


MESSAGES: dict[Outcome, str] = {
    Outcome.ANNUAL_SKIPPED: "Annual subscriptions are not synced; bill them in the PSA yourself.",
    Outcome.NOT_SYNCED_KIND: "Manual credits, adjustments and one-time fees are not synced.",
    Outcome.CUSTOMER_NOT_SYNCED: "The customer is not mapped to a PSA contract or its sync is off.",
    Outcome.USAGE_SYNC_OFF: "Azure usage sync is off for this program.",
    Outcome.PRODUCT_NOT_FOUND: (
        "Source product not found: run the product sync, or map the retired product to a service."
    ),
    Outcome.CONTRACT_NOT_USABLE: (
        "The contract is not active or not a Recurring Service contract: choose an active "
        "Recurring Service contract in the customer mapping."
    ),
    Outcome.DATE_OUTSIDE_CONTRACT: (
        "The effective date is outside the contract's start and end dates: extend the contract "
        "or map the customer to a contract that covers it."
    ),
    Outcome.FRACTIONAL_QUANTITY: "The PSA counts whole units; this line's quantity is fractional.",
}


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an issued invoice, as `invoice.issued` carries it."""

    customer_id: int
    subscription_id: int | None
    sku: str
    kind: LineKind
    term: Term
    period_start: date
    period_end: date  # inclusive
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal
    amount: Decimal = Decimal(0)

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> InvoiceLine:
        def money(value: Any) -> Decimal:
            # A Decimal (read from an ExactDecimal column) or decimal text; a float has
            # already lost digits, so it is a bug to report, not a value to round.
            if isinstance(value, bool | float):
                raise TypeError(f"invoice line money must not be a {type(value).__name__}")
            return value if isinstance(value, Decimal) else Decimal(str(value))

        sub = raw.get("subscription_id")
        return cls(
            customer_id=int(raw["customer_id"]),
            subscription_id=int(sub) if sub not in (None, "") else None,
            sku=str(raw["sku"]),
            kind=LineKind(raw["kind"]),
            term=Term(raw.get("billing_term") or Term.MONTHLY),
            period_start=date.fromisoformat(raw["period_start"]),
            period_end=date.fromisoformat(raw["period_end"]),
            quantity=money(raw["quantity"]),
            unit_cost=money(raw["unit_cost"]),
            unit_price=money(raw["unit_price"]),
            amount=money(raw.get("amount") or 0),
        )


@dataclass(frozen=True)
class Contract:
    """Where a synced customer's services live in the PSA."""

    ref: str
    active: bool = True
    recurring: bool = True
    start: date | None = None
    end: date | None = None

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Target:
    """The PSA's contract service for `sku` must hold `units` from `effective` on."""

    customer_id: int
    contract_ref: str
    service_ref: str
    sku: str
    effective: date
    units: int
    unit_price: Decimal
    unit_cost: Decimal
    usage: bool = False


@dataclass(frozen=True)
class Skipped:
    customer_id: int
    sku: str
    outcome: Outcome
    subscription_id: int | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.outcome]


@dataclass(frozen=True)
class Step:
    """From `effective` on (until the next step), `units` at this price and cost."""

    effective: date
    units: int
    unit_price: Decimal = Decimal(0)
    unit_cost: Decimal = Decimal(0)


@dataclass(frozen=True, eq=False)
class IssuedPeriod:
    """An issued invoice's period and its lines: one source of the desired timeline."""

    id: int
    start: date
    end: date  # inclusive
    lines: tuple[InvoiceLine, ...] = ()

    @cached_property
    def by_product(self) -> dict[tuple[int, str], list[InvoiceLine]]:
        """Its lines per customer and SKU (built once: a run looks up every product)."""
        index: dict[tuple[int, str], list[InvoiceLine]] = defaultdict(list)
        for line in self.lines:
            index[(line.customer_id, line.sku)].append(line)
        return index


@dataclass(frozen=True)
class Check:
    """What the reconciliation compares one contract service with: every day from `start`
    to `until`, the desired timeline `expected` (its steps from `start` on)."""

    start: date
    until: date
    expected: tuple[Step, ...]


@dataclass
class Plan:
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: Per contract service (contract ref, service ref) with targets: what to check.
    checks: dict[tuple[str, str], Check] = field(default_factory=dict)

    def by_contract_service(self) -> dict[tuple[str, str], list[Target]]:
        """Targets grouped per contract service, in date order: one job per group."""
        groups: dict[tuple[str, str], list[Target]] = defaultdict(list)
        for target in self.targets:
            groups[(target.contract_ref, target.service_ref)].append(target)
        return {k: sorted(v, key=lambda t: t.effective) for k, v in groups.items()}


def plan_invoice(
    lines: Iterable[InvoiceLine],
    *,
    contracts: Mapping[int, Contract],
    services: Mapping[str, str | None],
    sync_usage: bool,
    period: IssuedPeriod | None = None,
    invoices: Sequence[IssuedPeriod] = (),
    billed: Mapping[int, Mapping[str, LineKind]] | None = None,
    checked_from: Mapping[tuple[str, str], date] | None = None,
) -> Plan:
    """Targets for every synced customer's products from the synced invoice's first day on,
    following the desired timeline; the invoice's lines not synced skipped with the reason.

    `lines`: the synced invoice's lines (for one customer in a one-customer run); `period`:
    that invoice (default: the span of `lines`); `invoices`: every issued invoice of the
    partner and program that ends on or after the earliest day to check (the synced one
    included), with their lines; `billed`: per synced customer, every product Prism has ever
    billed it (SKU -> line kind), so that a product that left the invoice is set to 0;
    `checked_from`: per contract service, the first day an earlier run synced (the
    reconciliation checks from there). `contracts`: synced customers only (customer id ->
    contract); `services`: the PSA service of each SKU (None or absent: no service found).
    """
    lines = list(lines)
    if period is None:
        period = IssuedPeriod(
            0,
            min((ln.period_start for ln in lines), default=date.min),
            max((ln.period_end for ln in lines), default=date.min),
            tuple(lines),
        )
    unique = {period.id: period} | {i.id: i for i in invoices}  # the loaded copy wins
    sources = sorted(unique.values(), key=lambda i: (i.start, i.id))
    latest_end = max(i.end for i in sources)
    plan = Plan()
    keys: dict[tuple[int, str], LineKind] = {}
    fractional: set[tuple[int, str]] = set()
    for line in lines:
        reason = _skip_reason(line, contracts, services, sync_usage)
        if reason is not None:
            plan.skipped.append(Skipped(line.customer_id, line.sku, reason, line.subscription_id))
            if reason is Outcome.FRACTIONAL_QUANTITY:
                fractional.add((line.customer_id, line.sku))
        else:
            keys[(line.customer_id, line.sku)] = line.kind
    for customer_id, products in (billed or {}).items():
        contract = contracts.get(customer_id)
        if contract is None or not contract.active or not contract.recurring:
            continue
        for sku, kind in products.items():
            usable = kind is LineKind.SUBSCRIPTION or (kind is LineKind.USAGE and sync_usage)
            if usable and services.get(sku):
                keys.setdefault((customer_id, sku), kind)
    for (customer_id, sku), kind in sorted(keys.items()):
        if (customer_id, sku) in fractional:
            continue  # the PSA cannot hold it: left as it is, with the line's warning
        contract = contracts[customer_id]
        service_ref = services[sku]
        assert service_ref is not None
        usage = kind is LineKind.USAGE
        timeline = desired_steps(sources, customer_id, sku, sync_usage=sync_usage)
        wanted: list[Target] = []
        for step in steps_from(timeline, period.start):
            if not contract.covers(step.effective):
                # Only the synced invoice's own days are its errors; zero after the contract
                # ended needs no change.
                after_end = contract.end is not None and step.effective > contract.end
                if step.effective <= period.end and not (step.units == 0 and after_end):
                    plan.skipped.append(Skipped(customer_id, sku, Outcome.DATE_OUTSIDE_CONTRACT))
                continue
            wanted.append(
                Target(
                    customer_id=customer_id,
                    contract_ref=contract.ref,
                    service_ref=service_ref,
                    sku=sku,
                    effective=step.effective,
                    units=step.units,
                    unit_price=step.unit_price,
                    unit_cost=step.unit_cost,
                    usage=usage,
                )
            )
        if not wanted:
            continue
        plan.targets.extend(wanted)
        until = max(latest_end, wanted[-1].effective)
        if contract.end is not None:
            until = min(until, contract.end)
        first = min(
            wanted[0].effective, (checked_from or {}).get((contract.ref, service_ref), period.start)
        )
        if contract.start is not None:
            first = max(first, contract.start)
        plan.checks[(contract.ref, service_ref)] = Check(
            first, until, tuple(s for s in steps_from(timeline, first) if s.effective <= until)
        )
    return plan


def syncable(line: InvoiceLine, *, sync_usage: bool) -> bool:
    """A line the PSA's contract units stand for: monthly whole-unit licences, usage if on."""
    if line.kind is LineKind.SUBSCRIPTION:
        return line.term is Term.MONTHLY and line.quantity == line.quantity.to_integral_value()
    return line.kind is LineKind.USAGE and sync_usage


def desired_steps(
    invoices: Sequence[IssuedPeriod], customer_id: int, sku: str, *, sync_usage: bool
) -> list[Step]:
    """The desired timeline of one customer's product, from the first invoice's start (S11).

    On a day an invoice covers, its units that day (0 without a line); where invoices overlap,
    the later one (by start, then id) wins from its start; between invoices and after the
    latest, the last units carry on (usage: 0 after its period).
    """
    ordered = sorted(invoices, key=lambda i: (i.start, i.id))
    steps: list[Step] = []

    def put(step: Step) -> None:
        if steps and steps[-1].effective == step.effective:
            steps.pop()
        if steps and (steps[-1].units, steps[-1].unit_price, steps[-1].unit_cost) == (
            step.units,
            step.unit_price,
            step.unit_cost,
        ):
            return
        steps.append(step)

    for k, invoice in enumerate(ordered):
        following = ordered[k + 1].start if k + 1 < len(ordered) else None
        last = invoice.end if following is None else min(invoice.end, following - ONE_DAY)
        if last < invoice.start:
            continue  # a later invoice of the same period replaces it
        mine = [
            ln
            for ln in invoice.by_product.get((customer_id, sku), ())
            if syncable(ln, sync_usage=sync_usage)
        ]
        for step in _period_steps(mine, invoice.start, invoice.end):
            carry = step.effective == invoice.end + ONE_DAY
            if step.effective <= last or (
                carry and (following is None or following > last + ONE_DAY)
            ):
                put(step)
    return steps


def steps_from(steps: Sequence[Step], day: date) -> list[Step]:
    """The same timeline from `day` on: its first step says what is in force on `day`."""
    before = [s for s in steps if s.effective <= day]
    head = before[-1] if before else Step(day, 0)
    return [Step(day, head.units, head.unit_price, head.unit_cost)] + [
        s for s in steps if s.effective > day
    ]


def units_of(steps: Sequence[Step], day: date) -> int:
    current = 0
    for step in steps:
        if step.effective > day:
            break
        current = step.units
    return current


ONE_DAY = timedelta(days=1)


def _period_steps(lines: list[InvoiceLine], start: date, end: date) -> list[Step]:
    """One invoice's steps for one product over its period [start, end], and the step after
    it when the units change there (usage going back to 0)."""
    if lines and lines[0].kind is LineKind.USAGE:
        steps = [Step(start, 0)]
        steps += [Step(day, units, price, cost) for day, units, price, cost in _usage_steps(lines)]
        return [s for s in steps if start <= s.effective <= end + ONE_DAY]
    days = {start} | {ln.period_start for ln in lines} | {ln.period_end + ONE_DAY for ln in lines}
    steps = []
    for day in sorted(d for d in days if start <= d <= end):
        steps.append(Step(day, *_units_on(lines, day)))
    return steps


def _units_on(lines: list[InvoiceLine], day: date) -> tuple[int, Decimal, Decimal]:
    """Units of the lines in force on `day` (several subscriptions of one product add up) at
    the price of the most recently started one (ties: the highest price)."""
    in_force = [ln for ln in lines if ln.period_start <= day <= ln.period_end]
    units = int(sum((ln.quantity for ln in in_force), Decimal(0)))
    priced = max(in_force, key=lambda ln: (ln.period_start, ln.unit_price), default=None)
    if priced is None or units == 0:
        return units, Decimal(0), Decimal(0)
    return units, priced.unit_price, priced.unit_cost


def _skip_reason(
    line: InvoiceLine,
    contracts: Mapping[int, Contract],
    services: Mapping[str, str | None],
    sync_usage: bool,
) -> Outcome | None:
    if line.kind in (LineKind.ADJUSTMENT, LineKind.ONE_TIME_FEE):
        return Outcome.NOT_SYNCED_KIND
    if line.term is Term.ANNUAL:
        return Outcome.ANNUAL_SKIPPED
    contract = contracts.get(line.customer_id)
    if contract is None:
        return Outcome.CUSTOMER_NOT_SYNCED
    if line.kind is LineKind.USAGE and not sync_usage:
        return Outcome.USAGE_SYNC_OFF
    if not contract.active or not contract.recurring:
        return Outcome.CONTRACT_NOT_USABLE
    if not services.get(line.sku):
        return Outcome.PRODUCT_NOT_FOUND
    if line.kind is LineKind.SUBSCRIPTION and line.quantity != line.quantity.to_integral_value():
        return Outcome.FRACTIONAL_QUANTITY
    return None


_RawStep = tuple[date, int, Decimal, Decimal]


def _usage_steps(lines: list[InvoiceLine]) -> list[_RawStep]:
    """Azure usage: one unit at the month's usage price from the period start, back to zero
    from the day after the period (S5)."""
    start = min(ln.period_start for ln in lines)
    end = max(ln.period_end for ln in lines)
    price = sum((ln.quantity * ln.unit_price for ln in lines), Decimal(0))
    cost = sum((ln.quantity * ln.unit_cost for ln in lines), Decimal(0))
    return [(start, 1, price, cost), (end + timedelta(days=1), 0, Decimal(0), Decimal(0))]


def delta(target_units: int, units_in_force: int | None) -> int:
    """The unit change that makes the PSA hold the target (no contract service yet: 0 units)."""
    return target_units - (units_in_force or 0)


def target_on(targets: list[Target], day: date) -> Target | None:
    """The target in force on `day` (targets of one contract service, in date order)."""
    current = None
    for target in targets:
        if target.effective <= day:
            current = target
    return current


@dataclass(frozen=True)
class Adjustment:
    effective: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal


def reconcile(
    targets: list[Target],
    *,
    units_on: Any,
    change_dates: Any,
    until: date,
) -> list[Adjustment]:
    """The adjustments that make one contract service match its targets up to `until`.

    `units_on(day) -> int | None` reads the PSA's units in force on a day (None: no contract
    service yet); `change_dates(start, end) -> Iterable[date]` lists the days in
    [start, end] on which the PSA's units change (its ContractServiceUnits rows' start dates).
    The result is computed from what the PSA holds now, in date order, each adjustment
    accounting for the ones before it; applied, it leaves the PSA equal to the targets on every
    day, manual changes included; computed again after applying, it is empty.
    """
    if not targets:
        return []
    ordered = sorted(targets, key=lambda t: t.effective)
    days = {t.effective for t in ordered} | set(change_dates(ordered[0].effective, until))
    adjustments: list[Adjustment] = []
    applied = 0  # units added by the adjustments planned so far, in force from their day on
    for day in sorted(d for d in days if d <= until):
        target = target_on(ordered, day)
        if target is None:
            continue
        change = delta(target.units, (units_on(day) or 0) + applied)
        if change:
            adjustments.append(Adjustment(day, change, target.unit_price, target.unit_cost))
            applied += change
    return adjustments


@dataclass(frozen=True)
class Segment:
    """Days `start`..`end` on which the desired units and the PSA's stay the same."""

    start: date
    end: date
    expected: int
    actual: int | None  # None: the PSA could not be read

    @property
    def matches(self) -> bool:
        return self.actual is not None and self.actual == self.expected


def compare(
    check: Check,
    *,
    units_on: Callable[[date], int | None] | None,
    change_dates: Callable[[date, date], Iterable[date]],
) -> list[Segment]:
    """Every day of `check` (from its start to its until), desired units vs the PSA's, as
    segments of days where neither changes. `units_on` None: the PSA was not readable."""
    start, until = check.start, check.until
    if until < start:
        return []
    days = {start} | {s.effective for s in check.expected if start < s.effective <= until}
    if units_on is not None:
        days |= {d for d in change_dates(start, until) if start < d <= until}
    ordered = sorted(days)
    segments: list[Segment] = []
    for i, day in enumerate(ordered):
        expected = units_of(check.expected, day)
        actual = (units_on(day) or 0) if units_on is not None else None
        end = ordered[i + 1] - ONE_DAY if i + 1 < len(ordered) else until
        if segments and (segments[-1].expected, segments[-1].actual) == (expected, actual):
            last = segments.pop()
            segments.append(Segment(last.start, end, expected, actual))
        else:
            segments.append(Segment(day, end, expected, actual))
    return segments
