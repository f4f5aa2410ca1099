"""Every table the API owns, imported in one place for migrations and tests."""

from prism_graph.audit.models import AuditEvent
from prism_graph.billing.models import Charge, Invoice, InvoiceLine, UsageRecord
from prism_graph.catalogue.models import Product, ProductPrice, Program
from prism_graph.contacts.models import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
    CustomerContactLink,
)
from prism_graph.customers.models import Customer
from prism_graph.customers.tenant_models import Tenant
from prism_graph.identity.models import AccessToken, ApiClient, User, UserInvitation
from prism_graph.mail.models import MailAttachment, MailMessage
from prism_graph.orders.models import CustomerAttachment, Order, OrderLine, RfiRequest
from prism_graph.organisations.models import Organisation
from prism_graph.outbox.models import OutboxEvent
from prism_graph.subscriptions.models import Subscription, SubscriptionQuantity

__all__ = [
    "AccessToken",
    "AccountContact",
    "AccountContactType",
    "AccountContactTypeMember",
    "ApiClient",
    "AuditEvent",
    "Charge",
    "Customer",
    "CustomerAttachment",
    "CustomerContact",
    "CustomerContactLink",
    "Invoice",
    "InvoiceLine",
    "MailAttachment",
    "MailMessage",
    "Order",
    "OrderLine",
    "Organisation",
    "OutboxEvent",
    "Product",
    "ProductPrice",
    "Program",
    "RfiRequest",
    "Subscription",
    "SubscriptionQuantity",
    "Tenant",
    "UsageRecord",
    "User",
    "UserInvitation",
]
