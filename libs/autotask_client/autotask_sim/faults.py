"""Switchable fault injection: latency, error answers, hangs, and answers lost after commit."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["latency", "error", "timeout", "lost_response"]


@dataclass
class Fault:
    """One injected misbehaviour.

    - ``latency``: wait ``seconds`` before handling (``hang=True``: until released).
    - ``error``: answer ``status`` (with ``body``) without handling the request.
    - ``timeout``: hold the request until :meth:`Faults.release` (or the hang cap), then 504
      without handling it; a client with a shorter timeout sees a timeout.
    - ``lost_response``: handle and commit the request, then answer ``status`` (502 by
      default) or, with ``hang=True``, hold like ``timeout`` - the caller cannot tell
      that the write happened.
    """

    kind: FaultKind
    method: str | None = None
    path: str | None = None  # regex, matched case-insensitively against the URL path
    times: int | None = 1  # None = until cleared
    status: int = 503
    body: Any = None
    seconds: float = 0.0
    hang: bool = False
    hits: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path, re.IGNORECASE) is not None


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._gate = threading.Event()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
            self._gate.clear()
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release()

    def release(self) -> None:
        """Let every held request go."""
        self._gate.set()

    def wait_released(self, timeout: float) -> bool:
        return self._gate.wait(timeout)

    def take(self, method: str, path: str, kinds: tuple[str, ...]) -> Fault | None:
        """The first armed fault of ``kinds`` matching the request, consuming one use."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


def fault_from_json(data: dict[str, Any]) -> Fault:
    allowed = {"kind", "method", "path", "times", "status", "body", "seconds", "hang"}
    return Fault(**{k: v for k, v in data.items() if k in allowed})
