"""Every module that defines events, imported together: whoever declares consumers (the
syncer's actors) imports this, so no event type is unknown to a worker process."""

from prism_domain import catalogue, customers, invoicing, order_events, sync, webhooks
from prism_domain.events import EVENT_TYPES

__all__ = ["EVENT_TYPES", "catalogue", "customers", "invoicing", "order_events", "sync", "webhooks"]
