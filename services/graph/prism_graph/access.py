"""The policy layer (SPEC T3, STYLE habit 6): the one place where access is decided.

- Every root field declares what it needs with `permission_classes=[requires(...)]` (or
  `[public()]` for the few that anonymous callers use); a test walks the schema and fails
  on a root field without one.
- Rows are filtered by the caller's scope in SQL (`visible_*`); every data loader and list
  goes through them, so an object of another tenant is simply not found: it behaves exactly
  like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from strawberry.permission import BasePermission

from prism_domain.access import (
    ContactRole,
    Permission,
    Principal,
    PrincipalKind,
    Scope,
    contact_refusal,
    may,
    scope_of,
)
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.organisations import OrganisationKind
from prism_graph.common.errors import PublicError
from prism_graph.common.ids import node_pk
from prism_tables.billing import Invoice
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.contacts import AccountContact, AccountContactType, CustomerContact
from prism_tables.customers import Customer
from prism_tables.identity import ApiClient, User
from prism_tables.orders import CustomerAttachment, Order, OrderLine, OrderStatus, RfiRequest
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings, PsaConnection
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductSyncRun
from prism_tables.tenants import Tenant
from prism_tables.webhooks import WebhookDelivery, WebhookEndpoint


class AccessError(PublicError):
    """Refused by the policy layer: shown to the client with its code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.extensions = {"code": code}


def unauthenticated() -> AccessError:
    return AccessError("Sign in first: this needs an access token.", "UNAUTHENTICATED")


def forbidden() -> AccessError:
    return AccessError("You are not allowed to do this.", "FORBIDDEN")


class _Requires(BasePermission):
    permission: Permission
    message = "You are not allowed to do this."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal: Principal | None = info.context.principal
        if principal is None:
            raise unauthenticated()
        if not may(principal, self.permission):
            if principal.kind is PrincipalKind.CONTACT:
                role = principal.contact_role or ContactRole.UNASSIGNED
                raise AccessError(contact_refusal(role, self.permission), "FORBIDDEN")
            raise forbidden()
        return True


_cache: dict[Permission | None, type[BasePermission]] = {}


def requires(permission: Permission) -> type[BasePermission]:
    """The permission class for a field that needs `permission`."""
    if permission not in _cache:
        _cache[permission] = type(
            f"Requires{permission.value.title().replace('_', '')}",
            (_Requires,),
            {"permission": permission},
        )
    return _cache[permission]


class _Authenticated(BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if info.context.principal is None:
            raise unauthenticated()
        return True


class _Public(BasePermission):
    """Declares a field open to anonymous callers (sign-in, accepting an invitation)."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True


def authenticated() -> type[BasePermission]:
    return _Authenticated


def public() -> type[BasePermission]:
    return _Public


POLICY_CLASSES = (_Requires, _Authenticated, _Public)


# Row filters -----------------------------------------------------------------------------


def visible_customers(scope: Scope | None) -> ColumnElement[bool]:
    if scope is None:
        return false()
    if scope.customer_id is not None:
        return Customer.id == scope.customer_id
    if scope.all_partners:
        return true()
    if scope.partner_id is not None:
        return Customer.owner_id == scope.partner_id
    return false()


def visible_organisations(scope: Scope | None) -> ColumnElement[bool]:
    """Everyone sees the distributor; partners see themselves; the distributor sees all."""
    if scope is None:
        return false()
    is_distributor = Organisation.kind == OrganisationKind.DISTRIBUTOR
    if scope.all_partners:
        return true()
    if scope.partner_id is not None:
        return or_(is_distributor, Organisation.id == scope.partner_id)
    if scope.customer_id is not None:
        owner = select(Customer.owner_id).where(Customer.id == scope.customer_id).scalar_subquery()
        return or_(is_distributor, Organisation.id == owner)
    return false()


def managed_organisations(scope: Scope | None) -> ColumnElement[bool]:
    """Organisations whose own settings the scope manages: a partner its own; the
    distributor's staff the distributor and every partner (acting for one: that one)."""
    if scope is None or scope.customer_id is not None:
        return false()
    if scope.all_partners:
        return true()
    if scope.partner_id is not None:
        return and_(Organisation.id == scope.partner_id)
    return false()


def _own_organisation(scope: Scope | None, column: Any) -> ColumnElement[bool]:
    if scope is None or scope.customer_id is not None:
        return false()
    if scope.all_partners:
        return true()
    if scope.partner_id is not None:
        return and_(column == scope.partner_id)
    return false()


def visible_users(scope: Scope | None) -> ColumnElement[bool]:
    return _own_organisation(scope, User.organisation_id)


def visible_api_clients(scope: Scope | None) -> ColumnElement[bool]:
    return _own_organisation(scope, ApiClient.organisation_id)


def visible_catalogue(scope: Scope | None) -> ColumnElement[bool]:
    """Programs, products and prices: the whole price list for staff and clients (buy prices
    are partner costs, so never for a customer's contacts)."""
    if scope is None or scope.customer_id is not None:
        return false()
    return true()


def _of_visible_customers(scope: Scope | None, column: Any) -> ColumnElement[bool]:
    if scope is None:
        return false()
    if scope.all_partners:
        return true()
    visible: ColumnElement[bool] = column.in_(select(Customer.id).where(visible_customers(scope)))
    return visible


def visible_tenants(scope: Scope | None) -> ColumnElement[bool]:
    return _of_visible_customers(scope, Tenant.customer_id)


def visible_subscriptions(scope: Scope | None) -> ColumnElement[bool]:
    return _of_visible_customers(scope, Subscription.customer_id)


def visible_invoices(scope: Scope | None) -> ColumnElement[bool]:
    """A partner's invoices (its costs) are its own; a customer's contacts never see them."""
    if scope is None or scope.customer_id is not None:
        return false()
    if scope.all_partners:
        return true()
    if scope.partner_id is not None:
        return Invoice.partner_id == scope.partner_id
    return false()


def visible_partner_accounts(scope: Scope | None) -> ColumnElement[bool]:
    """Partners whose own account data (their contacts by type, C1) the scope reaches: every
    partner for the distributor, its own for a partner, none for a customer's contact."""
    if scope is None or scope.customer_id is not None:
        return false()
    is_partner = Organisation.kind == OrganisationKind.PARTNER
    if scope.all_partners:
        return is_partner
    if scope.partner_id is not None:
        return and_(is_partner, Organisation.id == scope.partner_id)
    return false()


def _of_contact_account(
    scope: Scope | None, organisation_column: Any, customer_column: Any
) -> ColumnElement[bool]:
    if scope is None:
        return false()
    if scope.all_partners:
        return true()
    return or_(
        organisation_column.in_(select(Organisation.id).where(visible_partner_accounts(scope))),
        customer_column.in_(select(Customer.id).where(visible_customers(scope))),
    )


def visible_account_contacts(scope: Scope | None) -> ColumnElement[bool]:
    """Contacts by type (C1) of the partner and customer accounts the scope reaches."""
    return _of_contact_account(scope, AccountContact.organisation_id, AccountContact.customer_id)


def visible_account_contact_types(scope: Scope | None) -> ColumnElement[bool]:
    return _of_contact_account(
        scope, AccountContactType.organisation_id, AccountContactType.customer_id
    )


def visible_customer_contacts(scope: Scope | None) -> ColumnElement[bool]:
    """Customer-account contacts (R1): of the customers the scope reaches; a contact sees
    those of its own customer only."""
    if scope is None:
        return false()
    if scope.customer_id is not None:
        return CustomerContact.customer_id == scope.customer_id
    if scope.all_partners:
        return true()
    return CustomerContact.customer_id.in_(select(Customer.id).where(visible_customers(scope)))


def _of_own_partner(scope: Scope | None, column: Any) -> ColumnElement[bool]:
    """PSA sync rows (S1-S3, S7) belong to one partner: its own staff and clients, and the
    distributor acting for it, reach them; a customer's contacts never do."""
    if scope is None or scope.customer_id is not None or scope.partner_id is None:
        return false()
    return and_(column == scope.partner_id)


def visible_psa_connections(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, PsaConnection.partner_id)


def visible_program_sync_settings(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, ProgramSyncSettings.partner_id)


def visible_product_sync_runs(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, ProductSyncRun.partner_id)


def visible_customer_mappings(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, CustomerMapping.partner_id)


def visible_invoice_sync_runs(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, InvoiceSyncRun.partner_id)


def visible_webhook_endpoints(scope: Scope | None) -> ColumnElement[bool]:
    """A partner's webhooks (N5) are its own, like its PSA sync settings."""
    return _of_own_partner(scope, WebhookEndpoint.partner_id)


def visible_webhook_deliveries(scope: Scope | None) -> ColumnElement[bool]:
    return _of_own_partner(scope, WebhookDelivery.partner_id)


def _of_customers_for_staff(scope: Scope | None, column: Any) -> ColumnElement[bool]:
    """Order addenda and RFIs (O5, O6) show the partner's costs: staff and clients of the
    customers' partner (and the distributor) reach them, a customer's contacts never."""
    if scope is None or scope.customer_id is not None:
        return false()
    return _of_visible_customers(scope, column)


def visible_orders(scope: Scope | None) -> ColumnElement[bool]:
    """Staff and clients: every order of the customers they see. A customer's contact (with
    the Order Book, R7): its own customer's submitted orders; drafts are the partner's work."""
    if scope is not None and scope.customer_id is not None:
        return and_(Order.customer_id == scope.customer_id, Order.status == OrderStatus.SUBMITTED)
    return _of_visible_customers(scope, Order.customer_id)


def _ordered_products(scope: Scope | None) -> Any:
    return select(OrderLine.product_id).where(
        OrderLine.order_id.in_(select(Order.id).where(visible_orders(scope)))
    )


def visible_ordered_products(scope: Scope | None) -> ColumnElement[bool]:
    """What prices the orders a caller sees: the catalogue for staff; for a customer's
    contact the products of its visible orders (read to price them, never exposed)."""
    if scope is not None and scope.customer_id is not None:
        return Product.id.in_(_ordered_products(scope))
    return visible_catalogue(scope)


def visible_ordered_prices(scope: Scope | None) -> ColumnElement[bool]:
    if scope is not None and scope.customer_id is not None:
        return ProductPrice.product_id.in_(_ordered_products(scope))
    return visible_catalogue(scope)


def visible_ordered_programs(scope: Scope | None) -> ColumnElement[bool]:
    if scope is not None and scope.customer_id is not None:
        return Program.id.in_(
            select(Product.program_id).where(Product.id.in_(_ordered_products(scope)))
        )
    return visible_catalogue(scope)


def visible_customer_attachments(scope: Scope | None) -> ColumnElement[bool]:
    return _of_customers_for_staff(scope, CustomerAttachment.customer_id)


def visible_rfi_requests(scope: Scope | None) -> ColumnElement[bool]:
    return _of_customers_for_staff(scope, RfiRequest.customer_id)


def scope_for(principal: Principal | None) -> Scope | None:
    return scope_of(principal) if principal is not None else None


def owner_for_new_customer(principal: Principal, requested: Any) -> int | FieldError | None:
    """The partner a new customer belongs to (None: a direct customer of the distributor).

    A partner's staff and clients create for their own partner; naming any other partner
    reads as a partner that does not exist. Distributor staff name the partner, or act for it.
    """
    not_found = FieldError("partnerId", ErrorCode.NOT_FOUND, "No such partner.")
    wanted: int | None = None
    if requested is not None:
        wanted = node_pk(requested, "Organisation")
        if wanted < 0:
            return not_found
    own = principal.partner_id
    if own is not None:
        return own if wanted in (None, own) else not_found
    if not principal.is_distributor:
        return not_found
    return wanted
