"""The invoice sync's values, in PSA-neutral terms: invoice lines, contracts, targets (units
from a day), steps of the desired timeline, what is checked afterwards, and the plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_domain.sync import PsaKind


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

#: The outcomes that name the PSA's records, in ConnectWise's words (agreements, not
#: Autotask's Recurring Service contracts); the others read the same on both PSAs.
CONNECTWISE_MESSAGES: dict[Outcome, str] = {
    Outcome.CONTRACT_NOT_USABLE: (
        "The agreement is cancelled, or does not bill its additions on a cycle with proration: "
        "choose an active agreement that prorates its additions in the customer mapping, or "
        "review the agreement in ConnectWise (Finance > Agreements)."
    ),
    Outcome.DATE_OUTSIDE_CONTRACT: (
        "The effective date is outside the agreement's start and end dates: extend the "
        "agreement in ConnectWise (Finance > Agreements) or map the customer to an agreement "
        "that covers it."
    ),
}


def message_for(outcome: Outcome, psa: PsaKind | str | None = None) -> str:
    """Why a line is not synced and what to do, in the words of the PSA it syncs to."""
    if psa is not None and PsaKind(psa) is PsaKind.CONNECTWISE:
        return CONNECTWISE_MESSAGES.get(outcome, MESSAGES[outcome])
    return MESSAGES[outcome]


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an issued invoice, as `invoice.issued` carries it."""

    customer_id: int
    subscription_id: int | None
    sku: str
    kind: LineKind
    term: BillingTerm
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
            term=BillingTerm(raw.get("billing_term") or BillingTerm.MONTHLY),
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
    #: The PSA the line syncs to, whose words the message uses (None: Autotask's).
    psa: PsaKind | None = None

    @property
    def message(self) -> str:
        return message_for(self.outcome, self.psa)


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
