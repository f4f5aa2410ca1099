"""What both PSA HTTP clients and both PSA simulators share.

The retry policy (back-off honouring ``Retry-After``), the one request/attempt loop both
clients send through and the small client base it sits on (``attempts``, ``client``), the
base of both error trees with the reading of an error answer (``errors``), the threaded
uvicorn server that runs a simulator beside tests or ``prism dev``, and the in-process
transport tests use to talk to a simulator. It knows no PSA: the client and simulator
packages name their own vendor.
"""

from prism_http.retry import NO_RETRIES, Idempotency, RetryPolicy

__all__ = ["NO_RETRIES", "Idempotency", "RetryPolicy"]
