"""How a sync run and each of its items end: one vocabulary for product and invoice runs.

A run is PENDING or RUNNING while under way, then ends NO_CHANGE (nothing needed writing),
SUCCESS (written, and read back equal), WARNING (done, with something a person should look
at) or FAILURE. An item (a product, a customer, an invoice line) ends with the same words:
NO_CHANGE, SUCCESS, WARNING, or ERROR, or SKIPPED when it was not the sync's to write.
The values are stored in the sync's tables and shown by the API and `prism sync`.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    NO_CHANGE = "NO_CHANGE"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILURE = "FAILURE"


FINAL = frozenset({RunStatus.NO_CHANGE, RunStatus.SUCCESS, RunStatus.WARNING, RunStatus.FAILURE})


class ItemOutcome(StrEnum):
    NO_CHANGE = "NO_CHANGE"
    SUCCESS = "SUCCESS"
    SKIPPED = "SKIPPED"
    WARNING = "WARNING"
    ERROR = "ERROR"


class RunItemKind(StrEnum):
    """What an invoice run's item is about: a CUSTOMER's overall outcome (one per customer
    and run), or one SERVICE of it (an invoice line, or a product's contract service)."""

    CUSTOMER = "CUSTOMER"
    SERVICE = "SERVICE"
