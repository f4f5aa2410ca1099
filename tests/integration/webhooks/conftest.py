"""Webhook tests: a real HTTP receiver on loopback, and the API and worker allowed to use
plain http:// to it (WEBHOOKS_ALLOW_HTTP_LOOPBACK)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prism_graph.settings import GraphSettings
from prism_syncer.settings import SyncerSettings


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's endpoint: records every request, answers `status` (set it to fail)."""

    url: str = ""
    status: int = 200
    answer: bytes = b'{"ok":true}'
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received(dict(self.headers.items()), body))
                status, answer = state.status, state.answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver")
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/prism"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def settings(settings: GraphSettings) -> GraphSettings:
    return settings.model_copy(update={"webhooks_allow_http_loopback": True})


@pytest.fixture
def syncer_settings(syncer_settings: SyncerSettings) -> SyncerSettings:
    return syncer_settings.model_copy(
        update={
            "webhooks_allow_http_loopback": True,
            "webhooks_max_attempts": 3,
            "webhooks_retry_base_seconds": 30.0,
        }
    )
