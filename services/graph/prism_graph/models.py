"""Every table the API owns, imported in one place for migrations and tests."""

from prism_graph.audit.models import AuditEvent
from prism_graph.contacts.models import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
    CustomerContactLink,
)
from prism_graph.customers.models import Customer
from prism_graph.identity.models import AccessToken, ApiClient, User, UserInvitation
from prism_graph.mail.models import MailAttachment, MailMessage
from prism_graph.organisations.models import Organisation
from prism_graph.outbox.models import OutboxEvent

__all__ = [
    "AccessToken",
    "AccountContact",
    "AccountContactType",
    "AccountContactTypeMember",
    "ApiClient",
    "AuditEvent",
    "Customer",
    "CustomerContact",
    "CustomerContactLink",
    "MailAttachment",
    "MailMessage",
    "Organisation",
    "OutboxEvent",
    "User",
    "UserInvitation",
]
