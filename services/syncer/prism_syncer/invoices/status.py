"""How an invoice run and its customers end (S6, S7, S11): the decisions, pure.

The words are those of `prism_psa.outcomes`.

A run's status is decided from what was really written and read back: a customer whose
contract services still differ from the invoices after the run is a failed customer, and a
difference on days before the synced invoice (which the run does not plan) is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable

from prism_psa.outcomes import ItemOutcome, RunStatus


def customer_outcome(outcomes: Iterable[str]) -> ItemOutcome:
    """A customer's outcome from its items': any error fails it; only skipped lines skip it;
    otherwise it is synced, with a warning if any item warns, else synced or unchanged."""
    seen = set(outcomes)
    if ItemOutcome.ERROR in seen:
        return ItemOutcome.ERROR
    if not seen or seen == {ItemOutcome.SKIPPED}:
        return ItemOutcome.SKIPPED
    if ItemOutcome.SUCCESS in seen:
        return ItemOutcome.SUCCESS
    return ItemOutcome.NO_CHANGE


def run_status(*, customers_failed: int, warnings: int, adjustments: int) -> RunStatus:
    """FAILURE if a customer failed (an error, or the PSA still differing from the invoices
    in the run's window), WARNING if any item warns (differences before it included), SUCCESS
    if adjustments were written, else NO_CHANGE."""
    if customers_failed:
        return RunStatus.FAILURE
    if warnings:
        return RunStatus.WARNING
    if adjustments:
        return RunStatus.SUCCESS
    return RunStatus.NO_CHANGE
