"""Who may see and do what (SPEC T1–T3, R7): the one source of truth for access rules.

Three kinds of principal call the API: staff users (distributor or partner), API clients (a
partner's machine credentials) and customer-account contacts. Each has a *scope*: the
distributor sees every tenant (and may act for one partner at a time); a partner's users and
clients see only that partner's data; a contact sees only its own customer. What a principal
may *do* is a set of permissions; a contact's permissions follow from the applications its role
opens (R7).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prism_domain.organisations import OrganisationKind


class UserRole(StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


class ContactRole(StrEnum):
    """R2: a customer-account contact's role; no role is UNASSIGNED."""

    PRIMARY = "PRIMARY"
    BILLING = "BILLING"
    SUPPORT = "SUPPORT"
    TECHNICAL = "TECHNICAL"
    UNASSIGNED = "UNASSIGNED"


class Application(StrEnum):
    """R7: the customer-account applications a contact may open."""

    NOTIFICATIONS = "NOTIFICATIONS"
    CONTACT_MANAGER = "CONTACT_MANAGER"
    ORDER_BOOK = "ORDER_BOOK"
    PAYMENT_RECORD = "PAYMENT_RECORD"
    LICENSE_EXTENSION = "LICENSE_EXTENSION"
    DASHBOARDS = "DASHBOARDS"
    HELP_DESK = "HELP_DESK"
    BILL_DESK = "BILL_DESK"
    DOCUMENTATION = "DOCUMENTATION"
    PAYMENT_GATEWAY = "PAYMENT_GATEWAY"


_A = Application
_EVERYONE = {_A.NOTIFICATIONS, _A.DOCUMENTATION, _A.PAYMENT_GATEWAY}

# R7, row by row from the seed's table (yes = may use it).
APPLICATIONS_BY_ROLE: dict[ContactRole, frozenset[Application]] = {
    ContactRole.PRIMARY: frozenset(_EVERYONE | {_A.CONTACT_MANAGER, _A.ORDER_BOOK, _A.DASHBOARDS}),
    ContactRole.BILLING: frozenset(
        _EVERYONE
        | {
            _A.ORDER_BOOK,
            _A.PAYMENT_RECORD,
            _A.LICENSE_EXTENSION,
            _A.DASHBOARDS,
            _A.BILL_DESK,
        }
    ),
    ContactRole.SUPPORT: frozenset(_EVERYONE | {_A.DASHBOARDS, _A.HELP_DESK}),
    ContactRole.TECHNICAL: frozenset(_EVERYONE | {_A.DASHBOARDS}),
    ContactRole.UNASSIGNED: frozenset(_EVERYONE),
}


def applications_for(role: ContactRole) -> frozenset[Application]:
    return APPLICATIONS_BY_ROLE[role]


APPLICATION_LABELS: dict[Application, str] = {
    Application.NOTIFICATIONS: "Notifications",
    Application.CONTACT_MANAGER: "Contact Manager",
    Application.ORDER_BOOK: "Order Book",
    Application.PAYMENT_RECORD: "Payment Record",
    Application.LICENSE_EXTENSION: "License Extension",
    Application.DASHBOARDS: "Dashboards",
    Application.HELP_DESK: "Help desk",
    Application.BILL_DESK: "Bill desk",
    Application.DOCUMENTATION: "Documentation",
    Application.PAYMENT_GATEWAY: "Payment Gateway",
}


class Permission(StrEnum):
    """What a resolver may require; granted by `permissions_of`."""

    VIEW_ORGANISATIONS = "VIEW_ORGANISATIONS"
    VIEW_CUSTOMERS = "VIEW_CUSTOMERS"
    MANAGE_CUSTOMERS = "MANAGE_CUSTOMERS"
    MANAGE_USERS = "MANAGE_USERS"
    MANAGE_API_CLIENTS = "MANAGE_API_CLIENTS"
    VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG"
    MANAGE_OWN_ACCOUNT = "MANAGE_OWN_ACCOUNT"  # password, logout
    MANAGE_CUSTOMER_CONTACTS = "MANAGE_CUSTOMER_CONTACTS"
    VIEW_ORDERS = "VIEW_ORDERS"  # staff: every order; contacts: their own, customer prices
    VIEW_ORDER_DOCUMENTS = "VIEW_ORDER_DOCUMENTS"  # addenda, RFIs: partner costs, staff only
    VIEW_BILLING = "VIEW_BILLING"
    VIEW_CATALOGUE = "VIEW_CATALOGUE"  # programs, products, prices (P1): staff and clients
    MANAGE_CATALOGUE = "MANAGE_CATALOGUE"  # the distributor's price lists (P1)
    MANAGE_SUBSCRIPTIONS = "MANAGE_SUBSCRIPTIONS"  # quantities, cancellations (O7, P2)
    MANAGE_BILLING = "MANAGE_BILLING"  # the distributor: billing runs, usage, credits (P3)
    VIEW_PSA_SYNC = "VIEW_PSA_SYNC"  # connection status, sync settings, runs (S1, S2, S7)
    MANAGE_PSA_SYNC = "MANAGE_PSA_SYNC"  # credentials, settings, mappings, syncs (S1-S3)
    MANAGE_ORGANISATION = "MANAGE_ORGANISATION"  # its own settings (time zone); admins
    VIEW_PARTNERS = "VIEW_PARTNERS"  # the distributor's list of partners (T1): its staff
    MANAGE_PARTNERS = "MANAGE_PARTNERS"  # onboarding partners and their first admin (T4)


class PrincipalKind(StrEnum):
    USER = "USER"
    API_CLIENT = "API_CLIENT"
    CONTACT = "CONTACT"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `organisation_id` is the staff member's or client's organisation; `partner_id` is the
    partner whose data the principal works on (None: the distributor, across all partners);
    `customer_id` is set for contacts only.
    """

    kind: PrincipalKind
    id: int
    label: str
    organisation_kind: OrganisationKind | None = None
    organisation_id: int | None = None
    partner_id: int | None = None
    customer_id: int | None = None
    user_role: UserRole | None = None
    contact_role: ContactRole | None = None
    acting_for_partner_id: int | None = None  # distributor staff acting for one partner
    token_id: int | None = None

    @property
    def is_distributor(self) -> bool:
        return self.organisation_kind is OrganisationKind.DISTRIBUTOR

    def applications(self) -> frozenset[Application]:
        if self.kind is PrincipalKind.CONTACT:
            return applications_for(self.contact_role or ContactRole.UNASSIGNED)
        return frozenset()


# Permissions that follow from the applications a contact's role opens (R7). The other
# applications (Bill desk, Payment Record, Dashboards, ...) are screens of the portal front end
# with nothing of Prism's behind them yet: Prism's invoices are the distributor's bills to the
# partner (the partner's costs), so no contact reads them, and asking is refused as staff-only.
_CONTACT_PERMISSIONS: dict[Application, frozenset[Permission]] = {
    Application.CONTACT_MANAGER: frozenset({Permission.MANAGE_CUSTOMER_CONTACTS}),
    Application.ORDER_BOOK: frozenset({Permission.VIEW_ORDERS}),
}

_STAFF_BASE = frozenset(
    {
        Permission.VIEW_ORGANISATIONS,
        Permission.VIEW_CUSTOMERS,
        Permission.MANAGE_CUSTOMERS,
        Permission.VIEW_ORDERS,
        Permission.VIEW_ORDER_DOCUMENTS,
        Permission.VIEW_BILLING,
        Permission.MANAGE_CUSTOMER_CONTACTS,
        Permission.MANAGE_OWN_ACCOUNT,
        Permission.VIEW_CATALOGUE,
        Permission.MANAGE_SUBSCRIPTIONS,
        Permission.VIEW_PSA_SYNC,
    }
)
_ADMIN_EXTRA = frozenset(
    {
        Permission.MANAGE_USERS,
        Permission.MANAGE_API_CLIENTS,
        Permission.VIEW_AUDIT_LOG,
        Permission.MANAGE_PSA_SYNC,
        Permission.MANAGE_ORGANISATION,
    }
)
# Machine access: the business data, not the partner's own staff and credentials.
_API_CLIENT = frozenset(
    {
        Permission.VIEW_ORGANISATIONS,
        Permission.VIEW_CUSTOMERS,
        Permission.MANAGE_CUSTOMERS,
        Permission.VIEW_ORDERS,
        Permission.VIEW_ORDER_DOCUMENTS,
        Permission.VIEW_BILLING,
        Permission.MANAGE_CUSTOMER_CONTACTS,
        Permission.VIEW_CATALOGUE,
        Permission.MANAGE_SUBSCRIPTIONS,
        Permission.VIEW_PSA_SYNC,
    }
)
# The distributor's staff and clients run the catalogue and the billing; partners only read.
_DISTRIBUTOR_EXTRA = frozenset(
    {Permission.MANAGE_CATALOGUE, Permission.MANAGE_BILLING, Permission.VIEW_PARTNERS}
)
# T4: onboarding a partner invites its first admin, so it is user management: admins only.
_DISTRIBUTOR_ADMIN_EXTRA = frozenset({Permission.MANAGE_PARTNERS})


def permissions_of(principal: Principal) -> frozenset[Permission]:
    distributor = _DISTRIBUTOR_EXTRA if principal.is_distributor else frozenset()
    if principal.kind is PrincipalKind.API_CLIENT:
        return _API_CLIENT | distributor
    if principal.kind is PrincipalKind.USER:
        if principal.user_role is UserRole.ADMIN:
            onboarding = _DISTRIBUTOR_ADMIN_EXTRA if principal.is_distributor else frozenset()
            return _STAFF_BASE | _ADMIN_EXTRA | distributor | onboarding
        return _STAFF_BASE | distributor
    granted: set[Permission] = {Permission.VIEW_CUSTOMERS, Permission.MANAGE_OWN_ACCOUNT}
    for application in principal.applications():
        granted |= _CONTACT_PERMISSIONS.get(application, frozenset())
    return frozenset(granted)


def contact_refusal(role: ContactRole, permission: Permission) -> str:
    """Why a customer contact with `role` may not do what needs `permission`, in words: the
    application it would need and the roles that open it, or that it is for the partner's
    staff (what shows the partner's costs or runs its business)."""
    for application, granted in _CONTACT_PERMISSIONS.items():
        if permission in granted:
            roles = [
                r.value
                for r in ContactRole
                if application in APPLICATIONS_BY_ROLE[r] and r is not ContactRole.UNASSIGNED
            ]
            return (
                f"Your contact role ({role.value}) does not open the "
                f"{APPLICATION_LABELS[application]}; it is open to {' and '.join(roles)} "
                "contacts."
            )
    return "This is for the partner's staff; customer contacts cannot use it."


def may(principal: Principal | None, permission: Permission) -> bool:
    return principal is not None and permission in permissions_of(principal)


@dataclass(frozen=True, slots=True)
class Scope:
    """The tenants a principal reaches: every partner (`all_partners`), one partner's data
    (`partner_id`), or one customer (`customer_id`)."""

    all_partners: bool = False
    partner_id: int | None = None
    customer_id: int | None = None
    # Distributor staff (not acting for a partner) also reach the distributor's own direct
    # customers; partners never do.
    distributor_id: int | None = None


def scope_of(principal: Principal) -> Scope:
    if principal.kind is PrincipalKind.CONTACT:
        return Scope(customer_id=principal.customer_id)
    if principal.is_distributor:
        if principal.acting_for_partner_id is not None:
            return Scope(partner_id=principal.acting_for_partner_id)
        return Scope(all_partners=True, distributor_id=principal.organisation_id)
    return Scope(partner_id=principal.partner_id)
