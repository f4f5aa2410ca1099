"""Cassette recording and replay shared by the PSA contract suites (tests/contract/*).

Each suite names its cassette folder, record mode, credential placeholders and the secret
values to scrub; the scrubbing, the JSON body matcher, the VCR set-up and the ``Recording``
handed to tests are the same for every PSA.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import vcr
from vcr.request import Request as VcrRequest

C = TypeVar("C")
S = TypeVar("S")


def json_body(r1: VcrRequest, r2: VcrRequest) -> None:
    """Writes match on their body, compared as JSON so key order does not matter."""

    def parsed(r: VcrRequest) -> Any:
        if not r.body:
            return None
        try:
            return json.loads(r.body)
        except ValueError:
            return r.body

    assert parsed(r1) == parsed(r2), "bodies differ"


def make_vcr(
    cassettes: Path,
    record_mode: str,
    *,
    placeholders: dict[str, str],
    secrets: Callable[[], Iterable[str]],
    filter_query_parameters: Iterable[tuple[str, str]] = (),
) -> vcr.VCR:
    """A VCR that replaces credential headers by placeholders and scrubs ``secrets()`` out of
    recorded URIs and bodies."""

    def scrub_text(text: str) -> str:
        for value in secrets():
            text = text.replace(value, "<SCRUBBED>")
        return text

    def scrub_request(request: VcrRequest) -> VcrRequest:
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            request.body = scrub_text(body).encode()
        request.uri = scrub_text(request.uri)
        return request

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("content")
        if isinstance(body, str):
            response["content"] = scrub_text(body)
        return response

    v = vcr.VCR(
        cassette_library_dir=str(cassettes),
        record_mode=record_mode,
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
        filter_headers=list(placeholders.items()),
        filter_query_parameters=list(filter_query_parameters),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    v.register_matcher("json_body", json_body)
    return v


class Recording(Generic[C, S]):
    """The client under test, and the simulator behind it while recording."""

    def __init__(self, client_factory: Callable[..., C], sim: S | None):
        self._factory = client_factory
        self.sim = sim
        self.client = client_factory()

    @property
    def recording(self) -> bool:
        return self.sim is not None

    def backdoor(self, action: Callable[[S], Any]) -> Any:
        """Change the simulator's state (a UI user's action); a no-op on replay."""
        if self.sim is not None:
            return action(self.sim)
        return None

    def client_as(self, **changes: Any) -> C:
        return self._factory(**changes)
