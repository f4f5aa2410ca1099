"""Invoice sync planning (SPEC S5, S6, S10), in PSA-neutral terms.

An issued invoice says, for each customer and product, how many units were billed from
which day. The PSA must end up agreeing: for every synced customer, the contract service of
each monthly product holds exactly the invoiced units from each change's effective date.

Planning turns invoice lines into *targets* (units from a date, at a price and cost); it
never computes the PSA's deltas. Those are computed when applying, from the units the PSA
holds at that moment (`delta`), so a retried, duplicated or interrupted sync writes only what
is still missing and never applies a change twice (S10). Manual edits made in the PSA are
corrected the same way: the next invoice's targets win (S5).

Not synced, and reported as such: annual subscriptions, one-time fees, manual credits and
adjustments, customers that are not mapped or have sync off, and Azure usage when the
program's "sync Azure usage" is off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
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
        sub = raw.get("subscription_id")
        return cls(
            customer_id=int(raw["customer_id"]),
            subscription_id=int(sub) if sub not in (None, "") else None,
            sku=str(raw["sku"]),
            kind=LineKind(raw["kind"]),
            term=Term(raw.get("billing_term") or Term.MONTHLY),
            period_start=date.fromisoformat(raw["period_start"]),
            period_end=date.fromisoformat(raw["period_end"]),
            quantity=Decimal(str(raw["quantity"])),
            unit_cost=Decimal(str(raw["unit_cost"])),
            unit_price=Decimal(str(raw["unit_price"])),
            amount=Decimal(str(raw.get("amount") or 0)),
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


@dataclass
class Plan:
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

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
) -> Plan:
    """Targets for every synced customer's monthly lines; the rest skipped with the reason.

    `contracts`: synced customers only (customer id -> contract); `services`: the PSA service
    of each SKU (None or absent: no service found).
    """
    plan = Plan()
    monthly: dict[tuple[int, str], list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        reason = _skip_reason(line, contracts, services, sync_usage)
        if reason is not None:
            plan.skipped.append(Skipped(line.customer_id, line.sku, reason, line.subscription_id))
        else:
            monthly[(line.customer_id, line.sku)].append(line)
    for (customer_id, sku), group in sorted(monthly.items()):
        contract = contracts[customer_id]
        service_ref = services[sku]
        assert service_ref is not None
        steps = (
            _usage_steps(group) if group[0].kind is LineKind.USAGE else _subscription_steps(group)
        )
        for effective, units, price, cost in steps:
            if not contract.covers(effective):
                # Setting usage back to zero after the contract ended needs no change.
                if not (units == 0 and contract.end is not None and effective > contract.end):
                    plan.skipped.append(Skipped(customer_id, sku, Outcome.DATE_OUTSIDE_CONTRACT))
                continue
            plan.targets.append(
                Target(
                    customer_id=customer_id,
                    contract_ref=contract.ref,
                    service_ref=service_ref,
                    sku=sku,
                    effective=effective,
                    units=units,
                    unit_price=price,
                    unit_cost=cost,
                    usage=group[0].kind is LineKind.USAGE,
                )
            )
    return plan


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


Step = tuple[date, int, Decimal, Decimal]


def _subscription_steps(lines: list[InvoiceLine]) -> list[Step]:
    """Units of one product for one customer from each date a quantity changed.

    Several subscriptions of the same product add up (one contract service per product);
    the first step always asserts the invoiced units, which corrects manual edits.
    """
    dates = sorted({line.period_start for line in lines})
    steps: list[Step] = []
    for day in dates:
        in_force = [ln for ln in lines if ln.period_start <= day <= ln.period_end]
        units = int(sum((ln.quantity for ln in in_force), Decimal(0)))
        # The price of the most recently started line in force (ties: highest price).
        priced = max(in_force, key=lambda ln: (ln.period_start, ln.unit_price), default=None)
        price = priced.unit_price if priced else Decimal(0)
        cost = priced.unit_cost if priced else Decimal(0)
        if steps and steps[-1][1] == units and steps[-1][2:] == (price, cost):
            continue
        steps.append((day, units, price, cost))
    return steps


def _usage_steps(lines: list[InvoiceLine]) -> list[Step]:
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
