"""Order, attachment and RFI queries and mutations (SPEC O2-O7).

Partner and distributor staff and API clients reach orders at the partner's costs (scoped to
the customers they see); a customer's contacts whose role opens the Order Book (R7) reach
their own customer's submitted orders at the customer's prices, and are refused, with the
reason, what shows the partner's costs (addenda, attachments, RFIs). The RFI link is the one
anonymous path: its token is the credential.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import FieldError
from prism_graph.access import public, requires, visible_orders
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.contacts.config import contacts_config
from prism_graph.context import Info
from prism_graph.orders import drafts, rfi, submission
from prism_graph.orders.config import OrdersConfig
from prism_graph.orders.rfi_types import (
    CompleteOrderRfiInput,
    RfiAnswers,
    RfiForm,
    RfiFormPayload,
    SubmitRfiInput,
)
from prism_graph.orders.types import (
    CreateOrderInput,
    CustomerAttachment,
    DiscardOrderInput,
    DiscardOrderPayload,
    Order,
    OrderConnection,
    OrderFieldsInput,
    OrderPayload,
    OrderStatus,
    SaveOrderInput,
    SubmitOrderInput,
)
from prism_tables import orders as models


def orders_config(context: Any) -> OrdersConfig:
    """The deployment's order settings: the public URL and mail wake-up of the contacts'
    configuration (one PUBLIC_URL for every link Prism mails)."""
    contacts = contacts_config(context)
    return OrdersConfig(links=contacts.links, wake=contacts.wake)


def _changes(input: OrderFieldsInput) -> drafts.OrderChanges:
    return drafts.OrderChanges(
        permitted_users=input.permitted_users,
        start_date=input.start_date,
        lines=(
            None
            if input.lines is None
            else [
                drafts.NewLine(
                    product_id=node_pk(line.product_id, "Product"), quantity=line.quantity
                )
                for line in input.lines
            ]
        ),
        order_number=input.order_number,
        order_number_not_required=input.order_number_not_required,
        msa_acknowledged=input.msa_acknowledged,
        authorised_acknowledged=input.authorised_acknowledged,
        implementation_lead_name=input.implementation_lead_name,
        implementation_lead_email=input.implementation_lead_email,
    )


def _payload(result: models.Order | list[FieldError]) -> OrderPayload:
    if isinstance(result, list):
        return OrderPayload(order=None, errors=user_errors(result))
    return OrderPayload(order=Order.from_model(result), errors=[])


def _form(view: rfi.RfiView) -> RfiForm:
    return RfiForm(
        company_name=view.company_name,
        msp_name=view.msp_name,
        order_reference=models.reference(view.order_id),
        implementation_lead_name=view.implementation_lead_name,
        expires_at=view.expires_at,
        completed_at=view.completed_at,
        answers=RfiAnswers.from_json(view.answers) if view.answers else None,
    )


def _form_payload(
    result: rfi.RfiView | list[FieldError], prefix: str | None = "input"
) -> RfiFormPayload:
    if isinstance(result, list):
        return RfiFormPayload(form=None, errors=user_errors(result, prefix))
    return RfiFormPayload(form=_form(result), errors=[])


@strawberry.type
class OrderQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDERS)],
        description="One order by id; null when there is none you may see (a customer's "
        "contacts see their own customer's submitted orders only).",
    )
    async def order(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The order's id.")],
    ) -> Order | None:
        pk = node_pk(id, "Order")
        row = await info.context.loaders.order_by_id.load(pk) if pk > 0 else None
        return Order.from_model(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDERS)],
        description="Orders, newest first; of one customer, or in one status (e.g. drafts). "
        "Staff and API clients see every order of the customers they may see; a customer's "
        "contacts whose role opens the Order Book see their own customer's submitted orders.",
    )
    async def orders(
        self,
        info: Info,
        customer_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(
                description="Only this customer's orders; omitted: the orders of every "
                "customer you see."
            ),
        ] = None,
        status: Annotated[
            OrderStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only orders in this status; omitted: both."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> OrderConnection:
        stmt = select(models.Order).where(visible_orders(info.context.scope))
        if customer_id is not None:
            stmt = stmt.where(models.Order.customer_id == node_pk(customer_id, "Customer"))
        if status is not None:
            stmt = stmt.where(models.Order.status == status)
        key = SortKey((models.Order.created_at, models.Order.id), descending=True)
        page: Page[models.Order] = await paginate(
            info.context.reader.scalars,
            stmt,
            key,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(OrderConnection, page, Order.from_model, filtered=stmt)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDER_DOCUMENTS)],
        description="A customer's attachments (e.g. order addenda), newest first. For the "
        "partner's staff and API clients; a customer's contact is refused.",
    )
    async def customer_attachments(
        self,
        info: Info,
        customer_id: Annotated[
            relay.GlobalID,
            strawberry.argument(
                description="The customer whose documents to list; one you may not see has none."
            ),
        ],
    ) -> list[CustomerAttachment]:
        pk = node_pk(customer_id, "Customer")
        rows = await info.context.loaders.attachments_by_customer.load(pk) if pk > 0 else []
        return [CustomerAttachment.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=[public()],
        description="The Request for Information behind an e-mailed link (anonymous: the token "
        "is the credential). A used, expired or unknown token answers with an error.",
    )
    async def rfi_form(
        self,
        info: Info,
        token: Annotated[
            str,
            strawberry.argument(
                description="The `token` parameter of the link in the Request for "
                "Information e-mail."
            ),
        ],
    ) -> RfiFormPayload:
        # Errors name the argument itself (`token`), as for any field without an input.
        return _form_payload(await rfi.rfi_by_token(info.context.database, token), None)


@strawberry.type
class OrderMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Create an order for a prospect or customer, saved as a draft with any "
        "fields given; the customer's status does not change. Refused, with nothing saved, "
        "when the customer is unknown or a field is wrong (e.g. a retired product).",
    )
    async def create_order(
        self,
        info: Info,
        input: Annotated[
            CreateOrderInput,
            strawberry.argument(description="The customer and the order's first fields."),
        ],
    ) -> OrderPayload:
        return _payload(
            await info.context.database.run(
                drafts.create_order,
                info.context.scope,
                node_pk(input.customer_id, "Customer"),
                _changes(input),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Save changes to a draft order; the customer's status does not change (a "
        "prospect stays a prospect). Refused, with nothing saved, when a field is wrong or the "
        "order is already submitted.",
    )
    async def save_order(
        self,
        info: Info,
        input: Annotated[
            SaveOrderInput, strawberry.argument(description="The draft and its changes.")
        ],
    ) -> OrderPayload:
        return _payload(
            await info.context.database.run(
                drafts.save_order,
                info.context.scope,
                node_pk(input.id, "Order"),
                _changes(input),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Submit an order, with any last changes. It needs products, permitted "
        "users, a start date not in the past, an order number (unless not required), both "
        "acknowledgements and the implementation lead's name and e-mail address: each missing "
        "item is an error of its own, and nothing is saved. Once submitted, in one step: the "
        "prices are kept as they are, a prospect becomes a customer in progress, a "
        "subscription is created for each licence and usage product (one-time fees are "
        "charged on the start date), the addendum PDF is stored on the customer and mailed to "
        "the submitting user (for an API client, to the partner's billing contacts), and the "
        "Request for Information link is mailed to the implementation lead. Submitting a "
        "submitted order changes nothing and returns it.",
    )
    async def submit_order(
        self,
        info: Info,
        input: Annotated[
            SubmitOrderInput,
            strawberry.argument(description="The order and any last changes."),
        ],
    ) -> OrderPayload:
        assert info.context.principal is not None
        return _payload(
            await info.context.database.run(
                submission.submit_order,
                info.context.scope,
                node_pk(input.id, "Order"),
                _changes(input),
                submission.SubmitContext(info.context.principal, orders_config(info.context)),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Throw a draft order away with its lines; the prospect or customer stays "
        "as it is. A submitted order cannot be discarded.",
    )
    async def discard_order(
        self,
        info: Info,
        input: Annotated[
            DiscardOrderInput, strawberry.argument(description="The draft to throw away.")
        ],
    ) -> DiscardOrderPayload:
        result = await info.context.database.run(
            drafts.discard_order, info.context.scope, node_pk(input.id, "Order")
        )
        if isinstance(result, list):
            return DiscardOrderPayload(discarded_id=None, errors=user_errors(result))
        return DiscardOrderPayload(discarded_id=relay.GlobalID("Order", str(result)), errors=[])

    @strawberry.mutation(
        permission_classes=[public()],
        description="Answer the Request for Information through its e-mailed link, without "
        "signing in (the token is the credential). The answers are kept once and the link is "
        "then spent. An unknown, expired or already answered link, or a wrong answer, is "
        "refused and nothing is kept.",
    )
    async def submit_rfi(
        self,
        info: Info,
        input: Annotated[
            SubmitRfiInput, strawberry.argument(description="The link's token and the answers.")
        ],
    ) -> RfiFormPayload:
        return _form_payload(
            await info.context.database.run(
                rfi.submit_rfi_by_token, input.token, input.answers.to_raw()
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Answer a submitted order's Request for Information for the customer, e.g. "
        "right after ordering, even once the e-mailed link has expired; the link is then "
        "spent. Refused for a draft order, for a form already answered, or for a wrong answer.",
    )
    async def complete_order_rfi(
        self,
        info: Info,
        input: Annotated[
            CompleteOrderRfiInput,
            strawberry.argument(description="The order and the answers."),
        ],
    ) -> OrderPayload:
        assert info.context.principal is not None
        result = await info.context.database.run(
            rfi.complete_rfi,
            info.context.scope,
            node_pk(input.order_id, "Order"),
            input.answers.to_raw(),
            info.context.principal,
        )
        if isinstance(result, list):
            return OrderPayload(order=None, errors=user_errors(result))
        return OrderPayload(order=Order.from_model(result.order), errors=[])
