"""Every mutation leaves an audit record (N2): who, acting for whom, what, on what, when, and
how it ended, written in its own transaction so refusals and failures are kept too."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.relay import GlobalID
from strawberry.utils.await_maybe import await_maybe

from prism_domain.access import Principal
from prism_graph.access import AccessError
from prism_tables.audit import AuditEvent

log = logging.getLogger(__name__)

# Arguments never copied into the audit log, whatever the mutation.
_SECRET_ARGS = {"password", "currentPassword", "newPassword", "token", "clientSecret"}


def _target(result: Any, kwargs: dict[str, Any]) -> str | None:
    """The global id of what the mutation acted on: from its payload, else its arguments."""
    for value in vars(result).values() if hasattr(result, "__dict__") else ():
        node_id = getattr(value, "id", None)
        if node_id is not None and hasattr(type(value), "resolve_nodes"):
            return str(GlobalID(type(value).__name__, str(node_id)))
    for name in ("id", "input"):
        value = kwargs.get(name)
        if isinstance(value, GlobalID):
            return str(value)
        for key in ("id", "partner_id", "customer_id"):
            inner = getattr(value, key, None)
            if isinstance(inner, GlobalID):
                return str(inner)
    return None


class AuditMutation(FieldExtension):
    """Added to every root mutation field (`audit_mutations`), outermost, so that it also sees
    the policy layer's refusals. A field extension rather than a schema extension's `resolve`
    hook: that hook wraps every field of every read (graphql-core middleware), which on a page
    of 100 customers costs more than the rows themselves."""

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        try:
            result = await await_maybe(next_(source, info, **kwargs))
        except AccessError as exc:
            await self._record(info, kwargs, None, "DENIED", str(exc))
            raise
        except Exception as exc:
            await self._record(info, kwargs, None, "ERROR", type(exc).__name__)
            raise
        errors = getattr(result, "errors", None) or []
        outcome = "REFUSED" if errors else "SUCCESS"
        detail = "; ".join(f"{e.field or '-'}: {e.code.value}" for e in errors) or None
        await self._record(info, kwargs, result, outcome, detail)
        return result

    async def _record(
        self, info: Any, kwargs: dict[str, Any], result: Any, outcome: str, detail: str | None
    ) -> None:
        context = info.context
        principal: Principal | None = context.principal
        event = AuditEvent(
            actor_kind=principal.kind.value if principal else "ANONYMOUS",
            actor_id=principal.id if principal else None,
            actor_label=principal.label if principal else _anonymous_label(info, kwargs),
            actor_organisation_id=principal.organisation_id if principal else None,
            partner_id=principal.partner_id if principal else None,
            operation=info.field_name,
            target=_target(result, kwargs) if result is not None else _target(None, kwargs),
            outcome=outcome,
            detail=detail[:2000] if detail else None,
            client_address=context.client_address,
        )
        try:
            async with context.database.unit_of_work() as uow:
                uow.session.add(event)
                await uow.commit()
        except Exception:
            # Losing an audit row must not turn a committed mutation into an error.
            log.exception("could not write the audit record of %s", info.field_name)


def _anonymous_label(info: Any, kwargs: dict[str, Any]) -> str:
    email = kwargs.get("email") or getattr(kwargs.get("input"), "email", None)
    return f"anonymous ({str(email)[:200]})" if email else "anonymous"


def audit_mutations(mutation_type: type) -> None:
    """Audit every field of the root mutation type (once, however many schemas are built)."""
    for field in mutation_type.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, AuditMutation) for e in field.extensions):
            field.extensions.append(AuditMutation())  # last is outermost
