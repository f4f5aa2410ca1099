"""Every table of Prism's one database, as plain SQLAlchemy models, with no behaviour.

Both services import this library and neither imports the other (docs/architecture.md,
import rules). Importing any module of it loads every table, so SQLAlchemy can resolve each
foreign key and order every flush, whichever process writes. Which service writes which
table: docs/architecture.md, table ownership; the sync's tables are in `prism_tables.sync`.
"""

from prism_platform.mail import MailAttachment, MailMessage
from prism_tables.audit import AuditEvent
from prism_tables.billing import Charge, Invoice, InvoiceLine, UsageRecord
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.contacts import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
    CustomerContactLink,
)
from prism_tables.customers import Customer
from prism_tables.identity import AccessToken, ApiClient, User, UserInvitation
from prism_tables.orders import CustomerAttachment, Order, OrderLine, RfiRequest
from prism_tables.organisations import Organisation
from prism_tables.outbox import OutboxEvent
from prism_tables.subscriptions import Subscription, SubscriptionQuantity
from prism_tables.sync import (
    CustomerMapping,
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
    ProcessedEvent,
    ProductServiceLink,
    ProductSyncRun,
    ProductSyncRunItem,
    ProgramSyncSettings,
    PsaConnection,
)
from prism_tables.tenants import Tenant
from prism_tables.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

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
    "CustomerMapping",
    "Invoice",
    "InvoiceLine",
    "InvoiceSyncReconciliation",
    "InvoiceSyncRun",
    "InvoiceSyncRunItem",
    "MailAttachment",
    "MailMessage",
    "Order",
    "OrderLine",
    "Organisation",
    "OutboxEvent",
    "ProcessedEvent",
    "Product",
    "ProductPrice",
    "ProductServiceLink",
    "ProductSyncRun",
    "ProductSyncRunItem",
    "Program",
    "ProgramSyncSettings",
    "PsaConnection",
    "RfiRequest",
    "Subscription",
    "SubscriptionQuantity",
    "Tenant",
    "UsageRecord",
    "User",
    "UserInvitation",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
