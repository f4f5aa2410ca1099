"""GraphQL types of a money-level invoice sync preview: per customer and product, the exact
contract service adjustments a run would write, and what each adds to the PSA's billing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from prism_domain.money import Money
from prism_graph.billing.types import Invoice
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError
from prism_graph.sync.invoice_types import gid
from prism_psa.invoices.preview import InvoicePreview, NotSynced, ProposedAdjustment, ServiceChange
from prism_tables.sync.invoices import InvoiceSyncJob

if TYPE_CHECKING:
    from prism_graph.sync.invoice_types import InvoiceSyncRun


@strawberry.type(
    description="One contract service adjustment a sync would write: units added (or "
    "removed) from a day, at a unit price and cost, and what it adds to what the PSA bills."
)
class InvoiceSyncAdjustmentPreview:
    effective_date: date = strawberry.field(description="The day the change takes effect.")
    unit_change: int = strawberry.field(
        description="Units added from that day (negative: removed)."
    )
    unit_price: Decimal = strawberry.field(description="The price per unit it is billed at.")
    unit_cost: Decimal = strawberry.field(description="The cost per unit it is recorded at.")
    units_before: int = strawberry.field(
        description="The units the PSA holds on that day before the sync."
    )
    units_after: int = strawberry.field(description="The units it holds that day afterwards.")
    amount: Decimal = strawberry.field(
        description="What the change adds to the customer's billing in the PSA (negative: a "
        "credit), from its day through the last invoiced day, prorated by days within each "
        "monthly billing period and rounded to the cent per period."
    )
    cost_amount: Decimal = strawberry.field(
        description="The same at the unit cost: what it adds to the recorded cost."
    )

    @classmethod
    def of(cls, a: ProposedAdjustment) -> InvoiceSyncAdjustmentPreview:
        return cls(
            effective_date=a.effective,
            unit_change=a.unit_change,
            unit_price=a.unit_price,
            unit_cost=a.unit_cost,
            units_before=a.units_before,
            units_after=a.units_after,
            amount=a.amount,
            cost_amount=a.cost_amount,
        )


@strawberry.type(description="What a sync would write to one product of a customer.")
class InvoiceSyncServicePreview:
    sku: str = strawberry.field(description="The product's SKU.")
    psa_contract_id: int = strawberry.field(
        description="The contract in the PSA (Autotask contract, ConnectWise agreement)."
    )
    psa_service_id: int = strawberry.field(
        description="The service in the PSA (Autotask service, ConnectWise catalog item)."
    )
    psa_contract_service_id: int | None = strawberry.field(
        description="Where the contract holds the service (Autotask contract service, "
        "ConnectWise addition); null when there is none yet (the first change adds it)."
    )
    autotask_contract_id: int = strawberry.field(
        description="The contract in the PSA.",
        deprecation_reason="Use psaContractId, the same for every PSA.",
    )
    autotask_service_id: int = strawberry.field(
        description="The service in the PSA.",
        deprecation_reason="Use psaServiceId, the same for every PSA.",
    )
    autotask_contract_service_id: int | None = strawberry.field(
        description="Where the contract holds the service; null when there is none yet.",
        deprecation_reason="Use psaContractServiceId, the same for every PSA.",
    )
    billed_through: date = strawberry.field(
        description="The last day the amounts count: the end of the latest issued invoice."
    )
    amount: Decimal = strawberry.field(description="The adjustments' amounts added up.")
    cost_amount: Decimal = strawberry.field(description="The adjustments' cost amounts added up.")
    adjustments: list[InvoiceSyncAdjustmentPreview] = strawberry.field(
        description="The adjustments, by effective date."
    )

    @classmethod
    def of(cls, c: ServiceChange) -> InvoiceSyncServicePreview:
        return cls(
            sku=c.sku,
            psa_contract_id=c.contract_id,
            psa_service_id=c.service_id,
            psa_contract_service_id=c.contract_service_id,
            autotask_contract_id=c.contract_id,
            autotask_service_id=c.service_id,
            autotask_contract_service_id=c.contract_service_id,
            billed_through=c.until,
            amount=c.amount,
            cost_amount=c.cost_amount,
            adjustments=[InvoiceSyncAdjustmentPreview.of(a) for a in c.adjustments],
        )


@strawberry.type(description="An invoice line, or a customer's product, a sync leaves alone.")
class InvoiceSyncSkipPreview:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    customer_name: str = strawberry.field(description="Its name.")
    sku: str = strawberry.field(description="The product's SKU (empty for a line without one).")
    subscription_id: strawberry.ID | None = strawberry.field(
        description="The subscription the line bills, if any."
    )
    code: str = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="Why, and what to do about it.")

    @classmethod
    def of(cls, s: NotSynced, names: Mapping[int, str]) -> InvoiceSyncSkipPreview:
        return cls(
            customer_id=gid("Customer", s.customer_id),
            customer_name=names.get(s.customer_id, ""),
            sku=s.sku,
            subscription_id=gid("CustomerSubscription", s.subscription_id)
            if s.subscription_id
            else None,
            code=s.code,
            message=s.message,
        )


@strawberry.type(description="What a sync would write for one customer, and its total.")
class InvoiceSyncCustomerPreview:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    customer_name: str = strawberry.field(description="Its name.")
    amount: Decimal = strawberry.field(
        description="What the sync adds to the customer's billing in the PSA through the last "
        "invoiced day (negative: a credit); its products' amounts added up."
    )
    cost_amount: Decimal = strawberry.field(description="The same at the unit costs.")
    adjustment_count: int = strawberry.field(description="How many adjustments it would write.")
    services: list[InvoiceSyncServicePreview] = strawberry.field(
        description="Its products with changes, by SKU."
    )


def customers_of(
    changes: Iterable[ServiceChange], names: Mapping[int, str]
) -> list[InvoiceSyncCustomerPreview]:
    """The changes grouped per customer, by name."""
    grouped: dict[int, list[ServiceChange]] = defaultdict(list)
    for change in changes:
        grouped[change.customer_id].append(change)
    out = []
    for customer_id, group in grouped.items():
        group.sort(key=lambda c: c.sku)
        out.append(
            InvoiceSyncCustomerPreview(
                customer_id=gid("Customer", customer_id),
                customer_name=names.get(customer_id, ""),
                amount=sum((c.amount for c in group), Decimal(0)),
                cost_amount=sum((c.cost_amount for c in group), Decimal(0)),
                adjustment_count=sum(len(c.adjustments) for c in group),
                services=[InvoiceSyncServicePreview.of(c) for c in group],
            )
        )
    out.sort(key=lambda c: (c.customer_name.casefold(), str(c.customer_id)))
    return out


@strawberry.type(
    description="What a sync of an invoice would write to the PSA now, computed exactly as "
    "the sync computes it from what the PSA holds; nothing is written."
)
class InvoiceSyncPreview:
    invoice: Invoice = strawberry.field(description="The invoice it syncs.")
    currency: str = strawberry.field(description="The currency of every amount (ISO 4217).")
    amount: Decimal = strawberry.field(description="The customers' amounts added up.")
    adjustment_count: int = strawberry.field(description="How many adjustments it would write.")
    customers: list[InvoiceSyncCustomerPreview] = strawberry.field(
        description="The customers with changes, by name; a customer the PSA already "
        "agrees with is not listed."
    )
    not_synced: list[InvoiceSyncSkipPreview] = strawberry.field(
        description="What the sync leaves alone, and why (annual licences, unmapped "
        "customers, products without a service, ...)."
    )

    @classmethod
    def of(cls, p: InvoicePreview, invoice: Invoice) -> InvoiceSyncPreview:
        customers = customers_of(p.changes, p.names)
        return cls(
            invoice=invoice,
            currency=p.currency,
            amount=sum((c.amount for c in customers), Money.zero(p.currency).rounded().amount),
            adjustment_count=sum(c.adjustment_count for c in customers),
            customers=customers,
            not_synced=[InvoiceSyncSkipPreview.of(s, p.names) for s in p.not_synced],
        )


@strawberry.type(description="The result of an invoice sync preview.")
class InvoiceSyncPreviewPayload:
    preview: InvoiceSyncPreview | None = strawberry.field(
        description="The preview; null when it could not be made (see errors)."
    )
    errors: list[UserError] = strawberry.field(
        description="Why no preview could be made (unknown program, invoice or customer, "
        "sync off, the PSA not connected or not answering)."
    )


class ApprovalStateKind(StrEnum):
    WAITING = "WAITING"
    APPROVED = "APPROVED"
    DISMISSED = "DISMISSED"


ApprovalState = described_enum(
    ApprovalStateKind,
    name="InvoiceSyncApprovalState",
    description="Where a customer's planned changes stand in a run that waits for approval.",
    values={
        "WAITING": "Waiting for a partner admin to approve or dismiss them.",
        "APPROVED": "Approved: written to the PSA, or being written (see the run's customers).",
        "DISMISSED": "Dismissed: nothing was written for them.",
    },
)


@strawberry.type(
    description="One customer's planned changes in a run that requires approval: what the "
    "sync will write once approved, and where the decision stands."
)
class InvoiceSyncApprovalCustomer:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    customer_name: str = strawberry.field(description="Its name.")
    state: ApprovalState = strawberry.field(  # type: ignore[valid-type]
        description="Waiting, approved or dismissed (the least decided of its products)."
    )
    decided_by: str | None = strawberry.field(
        description="Who approved or dismissed them; null while waiting."
    )
    decided_at: datetime | None = strawberry.field(
        description="When they were approved or dismissed; null while waiting."
    )
    shown_again: bool = strawberry.field(
        description="The changes were planned again after an approval because the invoices or "
        "the PSA had changed since they were shown: review them again."
    )
    amount: Decimal = strawberry.field(
        description="What the changes add to the customer's billing in the PSA through the last "
        "invoiced day (negative: a credit)."
    )
    cost_amount: Decimal = strawberry.field(description="The same at the unit costs.")
    adjustment_count: int = strawberry.field(description="How many adjustments it would write.")
    services: list[InvoiceSyncServicePreview] = strawberry.field(
        description="Its products with changes, by SKU."
    )


def approval_of(
    jobs: Iterable[InvoiceSyncJob], names: Mapping[int, str]
) -> list[InvoiceSyncApprovalCustomer]:
    """A run's planned changes per customer, from its jobs' proposals."""
    grouped: dict[int, list[InvoiceSyncJob]] = defaultdict(list)
    for job in jobs:
        if job.proposal:
            grouped[job.customer_id].append(job)
    out = []
    for customer_id, group in grouped.items():
        group.sort(key=lambda j: j.sku)
        services = [
            InvoiceSyncServicePreview.of(
                ServiceChange(
                    customer_id=customer_id,
                    sku=j.sku,
                    contract_id=j.contract_id,
                    service_id=j.service_id,
                    contract_service_id=j.contract_service_id,
                    until=j.until,
                    adjustments=tuple(ProposedAdjustment.from_json(a) for a in j.proposal or []),
                )
            )
            for j in group
        ]
        states = [_state(j) for j in group]
        state = next(
            (s for s in (ApprovalStateKind.WAITING, ApprovalStateKind.APPROVED) if s in states),
            ApprovalStateKind.DISMISSED,
        )
        decided = [j for j in group if j.decided_at is not None]
        last = max(decided, key=lambda j: j.decided_at or datetime.min) if decided else None
        out.append(
            InvoiceSyncApprovalCustomer(
                customer_id=gid("Customer", customer_id),
                customer_name=names.get(customer_id, ""),
                state=state,
                decided_by=last.decided_by
                if last and state is not ApprovalStateKind.WAITING
                else None,
                decided_at=last.decided_at
                if last and state is not ApprovalStateKind.WAITING
                else None,
                shown_again=any(
                    j.replanned > 0 and _state(j) is ApprovalStateKind.WAITING for j in group
                ),
                amount=sum((s.amount for s in services), Decimal(0)),
                cost_amount=sum((s.cost_amount for s in services), Decimal(0)),
                adjustment_count=sum(len(s.adjustments) for s in services),
                services=services,
            )
        )
    out.sort(key=lambda c: (c.customer_name.casefold(), str(c.customer_id)))
    return out


def _state(job: InvoiceSyncJob) -> ApprovalStateKind:
    if job.decision == "DISMISSED" or job.code == "DISMISSED":
        return ApprovalStateKind.DISMISSED
    if job.decision == "APPROVED":
        return ApprovalStateKind.APPROVED
    return ApprovalStateKind.WAITING


@strawberry.input(description="Which planned changes of a run waiting for approval to decide on.")
class InvoiceSyncDecisionInput:
    run_id: relay.GlobalID = strawberry.field(
        description="A run of yours waiting for approval (an InvoiceSyncRun)."
    )
    customer_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None,
        description="Only these customers' changes (at most 1000); leave it out to decide "
        "for every customer still waiting.",
    )


@strawberry.type(description="The result of approving or dismissing planned changes.")
class InvoiceSyncDecisionPayload:
    run: Annotated[InvoiceSyncRun, strawberry.lazy("prism_graph.sync.invoice_types")] | None = (
        strawberry.field(description="The run, as it stands once the decision is recorded.")
    )
    customers: int = strawberry.field(description="Customers whose changes the decision covered.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing was decided (no such run, not waiting, already decided, "
        "customers with nothing waiting)."
    )
