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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_domain.sync import PsaKind
from prism_psa.invoices.timeline import (
    desired_steps,
    steps_from,
)
from prism_psa.invoices.values import (
    Check,
    Contract,
    InvoiceLine,
    IssuedPeriod,
    Outcome,
    Plan,
    Skipped,
    Target,
)


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
    psa: PsaKind | None = None,
) -> Plan:
    """Targets for every synced customer's products from the synced invoice's first day on,
    following the desired timeline; the invoice's lines not synced skipped with the reason.

    `lines`: the synced invoice's lines (for one customer in a one-customer run); `period`:
    that invoice (default: the span of `lines`); `invoices`: every issued invoice of the
    partner and program that ends on or after the earliest day to check (the synced one
    included), with their lines; `billed`: per synced customer, every product Prism has ever
    billed it (SKU -> line kind), so that a product that left the invoice is set to 0;
    `checked_from`: per contract service, the first day an earlier run synced (the
    reconciliation checks from there); `psa`: the PSA synced to, whose words skipped lines'
    messages use. `contracts`: synced customers only (customer id ->
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
            plan.skipped.append(
                Skipped(line.customer_id, line.sku, reason, line.subscription_id, psa)
            )
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
                    plan.skipped.append(
                        Skipped(customer_id, sku, Outcome.DATE_OUTSIDE_CONTRACT, psa=psa)
                    )
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


def _skip_reason(
    line: InvoiceLine,
    contracts: Mapping[int, Contract],
    services: Mapping[str, str | None],
    sync_usage: bool,
) -> Outcome | None:
    if line.kind in (LineKind.ADJUSTMENT, LineKind.ONE_TIME_FEE):
        return Outcome.NOT_SYNCED_KIND
    if line.term is BillingTerm.ANNUAL:
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
