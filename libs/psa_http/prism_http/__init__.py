"""What both PSA HTTP clients and both PSA simulators share.

The retry policy (back-off honouring ``Retry-After``), the threaded uvicorn server that runs
a simulator beside tests or ``prism dev``, and the in-process transport tests use to talk to
a simulator. It knows no PSA: the client and simulator packages name their own vendor.
"""

from prism_http.retry import NO_RETRIES, Idempotency, RetryPolicy

__all__ = ["NO_RETRIES", "Idempotency", "RetryPolicy"]
