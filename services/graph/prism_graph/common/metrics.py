"""The GraphQL metrics of every operation: its time and its errors, by operation name.

A schema extension around the whole operation (parse, validate, execute). It hooks no
`resolve`, so the speed layer (`fast_execution`) keeps its shortcuts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from prism_platform.metrics import GRAPHQL_DURATION, GRAPHQL_ERRORS, OPERATION_NAMES

# Errors from the GraphQL engine before any resolver ran: syntax, validation, variables.
INVALID_REQUEST = "INVALID_REQUEST"
# Anything else that has no code of its own is shown to the client as "Unexpected error.".
INTERNAL = "INTERNAL"
MAX_CODE_LENGTH = 40


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            # Some refusals (a syntax error caught by the token limit, an unknown operation
            # name) leave the operation as an exception, answered by strawberry after it.
            raised = exc
            raise
        finally:
            self._record(time.perf_counter() - started, raised)

    def _record(self, seconds: float, raised: BaseException | None) -> None:
        context = self.execution_context
        operation = _operation(context.graphql_document, context.operation_name)
        name = OPERATION_NAMES.label(
            operation.name.value if operation is not None and operation.name else None
        )
        kind = operation.operation.value if operation is not None else "none"
        GRAPHQL_DURATION.labels(name, kind).observe(seconds)
        codes = [_code(error) for error in getattr(context.result, "errors", None) or ()]
        if raised is not None and not codes:
            codes = [_code(raised) if isinstance(raised, GraphQLError) else _refusal(raised)]
        for code in codes:
            GRAPHQL_ERRORS.labels(name, code).inc()


def _operation(document: object, requested: str | None) -> OperationDefinitionNode | None:
    definitions = getattr(document, "definitions", None) or ()
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if requested is None:
        return operations[0] if len(operations) == 1 else None
    for operation in operations:
        if operation.name is not None and operation.name.value == requested:
            return operation
    return None


def _refusal(exc: BaseException) -> str:
    if isinstance(exc, (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)):
        return INVALID_REQUEST
    return INTERNAL


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code:
        return code[:MAX_CODE_LENGTH]
    if error.path is None:
        return INVALID_REQUEST
    return INTERNAL
