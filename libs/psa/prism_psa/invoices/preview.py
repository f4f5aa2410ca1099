"""A money-level preview of an invoice sync (S5): the exact adjustments a run would write
now, and what each does to the partner's PSA billing. Reads only.

It is made by the syncer's own steps: the same inputs and plan (`inputs`), the same batched
reads of the PSA (`units.read_histories`) and the same `planning.reconcile`, so a run
started at the same moment writes exactly these adjustments. The approval gate stores a
preview per contract service and writes it only if, at approval, the same computation still
gives the same adjustments.

What an adjustment costs the partner's customer, as the PSA bills it: the contract bills the
service per billing period (a month, counted from the contract's start day; calendar months
when the contract has no start date); a period is billed at the units in force on each day,
so a change from a day inside a period bills `unit change x unit price x days left in the
period / days in the period` for it, and the whole period for each later one. The amount
shown is that effect from the adjustment's effective date through the last day the run
plans (the end of the latest issued invoice), rounded to the currency's minor unit per
billing period. docs/psa-sync.md says which parts of this Autotask documents and which are
assumed.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from prism_domain.money import RECORD_PLACES, Money, unpadded
from prism_domain.periods import day_count, prorate
from prism_psa.invoices import sources
from prism_psa.invoices.inputs import Inputs, contracts_of, gather, plan_of
from prism_psa.invoices.planning import Adjustment, reconcile
from prism_psa.invoices.units import Reading, UnitHistory, read_histories
from prism_psa.invoices.values import Contract, Target
from prism_psa.port import ContractPort

ONE_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, on the month's last day when it has fewer days."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def billing_periods(anchor: date, start: date, end: date) -> list[tuple[date, date]]:
    """The monthly billing periods (first and last day) from `anchor` that overlap
    [start, end]."""
    periods: list[tuple[date, date]] = []
    k = 0
    if start >= anchor:  # skip whole years at once: the period holding `start` is near
        k = max(0, (start.year - anchor.year) * 12 + start.month - anchor.month - 1)
    while True:
        first = add_months(anchor, k)
        last = add_months(anchor, k + 1) - ONE_DAY
        k += 1
        if first > end:
            return periods
        if last >= start:
            periods.append((first, last))


def billing_change(
    unit_change: int,
    unit_price: Decimal,
    effective: date,
    until: date,
    *,
    anchor: date | None,
    currency: str,
) -> Decimal:
    """What `unit_change` units at `unit_price` from `effective` add to the PSA's billing
    through `until` (negative: a credit), prorated by days, rounded per billing period."""
    if until < effective or unit_change == 0:
        return Money.zero(currency).amount
    total = Money.zero(currency)
    full = Money(Decimal(unit_change) * unit_price, currency)
    periods = billing_periods(anchor or effective.replace(day=1), effective, until)
    for first, last in periods:
        days = day_count(max(first, effective), min(last, until))
        total = total + prorate(full, days, day_count(first, last))
    return total.amount


@dataclass(frozen=True)
class ProposedAdjustment:
    """One ContractServiceAdjustment a run would write, and its effect on the billing."""

    effective: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal
    #: The PSA's units on the effective day before the run, and once it is written.
    units_before: int
    units_after: int
    amount: Decimal
    cost_amount: Decimal

    @property
    def key(self) -> tuple[date, int, Decimal, Decimal]:
        """What is written: compared with what was approved before writing it."""
        return (self.effective, self.unit_change, self.unit_price, self.unit_cost)

    def to_json(self) -> dict[str, object]:
        return {
            "effective": self.effective.isoformat(),
            "unit_change": self.unit_change,
            "unit_price": str(self.unit_price),
            "unit_cost": str(self.unit_cost),
            "units_before": self.units_before,
            "units_after": self.units_after,
            "amount": str(self.amount),
            "cost_amount": str(self.cost_amount),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> ProposedAdjustment:
        return cls(
            effective=date.fromisoformat(str(raw["effective"])),
            unit_change=int(str(raw["unit_change"])),
            unit_price=Decimal(str(raw["unit_price"])),
            unit_cost=Decimal(str(raw["unit_cost"])),
            units_before=int(str(raw["units_before"])),
            units_after=int(str(raw["units_after"])),
            amount=Decimal(str(raw["amount"])),
            cost_amount=Decimal(str(raw["cost_amount"])),
        )


def propose(
    targets: list[Target],
    history: UnitHistory,
    *,
    until: date,
    anchor: date | None,
    currency: str,
) -> list[ProposedAdjustment]:
    """The adjustments that make one contract service match its targets, from what the PSA
    holds now (`planning.reconcile`), with their billing effect through `until`."""
    adjustments = reconcile(
        targets, units_on=history.units_on, change_dates=history.change_dates, until=until
    )
    return with_amounts(adjustments, history, until=until, anchor=anchor, currency=currency)


def with_amounts(
    adjustments: Iterable[Adjustment],
    history: UnitHistory,
    *,
    until: date,
    anchor: date | None,
    currency: str,
) -> list[ProposedAdjustment]:
    out: list[ProposedAdjustment] = []
    applied = 0
    for a in sorted(adjustments, key=lambda a: a.effective):
        before = (history.units_on(a.effective) or 0) + applied
        applied += a.unit_change
        out.append(
            ProposedAdjustment(
                effective=a.effective,
                unit_change=a.unit_change,
                unit_price=unpadded(a.unit_price, RECORD_PLACES),
                unit_cost=unpadded(a.unit_cost, RECORD_PLACES),
                units_before=before,
                units_after=before + a.unit_change,
                amount=billing_change(
                    a.unit_change,
                    a.unit_price,
                    a.effective,
                    until,
                    anchor=anchor,
                    currency=currency,
                ),
                cost_amount=billing_change(
                    a.unit_change,
                    a.unit_cost,
                    a.effective,
                    until,
                    anchor=anchor,
                    currency=currency,
                ),
            )
        )
    return out


@dataclass(frozen=True)
class ServiceChange:
    """What a run would write to one contract service (a customer's product)."""

    customer_id: int
    sku: str
    contract_id: int
    service_id: int
    #: None: the contract service does not exist yet (the first adjustment adds it).
    contract_service_id: int | None
    until: date
    adjustments: tuple[ProposedAdjustment, ...]

    @property
    def amount(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), Decimal(0))

    @property
    def cost_amount(self) -> Decimal:
        return sum((a.cost_amount for a in self.adjustments), Decimal(0))


@dataclass(frozen=True)
class NotSynced:
    """An invoice line (or a customer's product) a run would leave alone, and why."""

    customer_id: int
    sku: str
    code: str
    message: str
    subscription_id: int | None = None


@dataclass
class InvoicePreview:
    invoice: sources.IssuedInvoice
    changes: list[ServiceChange] = field(default_factory=list)
    not_synced: list[NotSynced] = field(default_factory=list)
    names: Mapping[int, str] = field(default_factory=dict)
    #: Customers on the invoice (in the preview's scope).
    customers: set[int] = field(default_factory=set)

    @property
    def currency(self) -> str:
        return self.invoice.currency

    def amount_of(self, customer_id: int) -> Decimal:
        return sum((c.amount for c in self.changes if c.customer_id == customer_id), Decimal(0))


def preview_invoice(
    session: Session, psa: ContractPort, invoice_id: int, customer_id: int | None = None
) -> InvoicePreview | None:
    """What a sync of the invoice (for one customer, when given) would write now; None when
    there is no such invoice."""
    invoice = sources.invoice(session, invoice_id)
    if invoice is None:
        return None
    return preview(gather(session, invoice, customer_id), psa)


def preview(inputs: Inputs, psa: ContractPort) -> InvoicePreview:
    """What a run planned from `inputs` would write now. Reads the PSA (three batched reads:
    the contracts, their services, their unit rows), writes nothing."""
    invoice = inputs.invoice
    found = psa.contracts_by_id(inputs.contract_ids)
    contracts = contracts_of(inputs, found)
    plan = plan_of(inputs, contracts)
    by_ref: dict[str, Contract] = {c.ref: c for c in contracts.values()}
    groups = plan.by_contract_service()
    keys = list(groups)
    readings = []
    for key in keys:
        check = plan.checks[key]
        readings.append(
            Reading(
                int(key[0]), int(key[1]), min(groups[key][0].effective, check.start), check.until
            )
        )
    result = InvoicePreview(invoice=invoice, names=inputs.names, customers=set(inputs.in_scope))
    for key, history in zip(keys, read_histories(psa, readings), strict=True):
        targets, check = groups[key], plan.checks[key]
        contract = by_ref.get(key[0])
        adjustments = propose(
            targets,
            history,
            until=check.until,
            anchor=contract.start if contract else None,
            currency=invoice.currency,
        )
        if adjustments:
            result.changes.append(
                ServiceChange(
                    customer_id=targets[0].customer_id,
                    sku=targets[0].sku,
                    contract_id=int(key[0]),
                    service_id=int(key[1]),
                    contract_service_id=history.contract_service_id,
                    until=check.until,
                    adjustments=tuple(adjustments),
                )
            )
    for skipped in plan.skipped:
        result.not_synced.append(
            NotSynced(
                customer_id=skipped.customer_id,
                sku=skipped.sku,
                code=skipped.outcome.value,
                message=skipped.message,
                subscription_id=skipped.subscription_id,
            )
        )
    result.changes.sort(key=lambda c: (inputs.names.get(c.customer_id, ""), c.customer_id, c.sku))
    return result
