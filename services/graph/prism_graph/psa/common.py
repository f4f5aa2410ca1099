"""What every PSA screen's resolvers share: whose PSA it is, and a PSA that cannot answer."""

from __future__ import annotations

from prism_graph.common.errors import PublicError
from prism_graph.context import Info


class PsaUnavailable(PublicError):
    code = "PSA_UNAVAILABLE"


def partner_of(info: Info) -> int | None:
    """The partner whose PSA the caller works on: its own, or the one the distributor acts
    for; None for anyone else (a customer's contact, the distributor acting for nobody)."""
    scope = info.context.scope
    if scope is None or scope.customer_id is not None:
        return None
    return scope.partner_id
