"""Every table the API owns, imported in one place for migrations and tests."""

from prism_graph.customers.models import Customer
from prism_graph.organisations.models import Organisation
from prism_graph.outbox.models import OutboxEvent

__all__ = ["Customer", "Organisation", "OutboxEvent"]
