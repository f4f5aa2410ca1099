"""Webhook rules (N5): which URLs an endpoint may have, how a delivery is signed and checked,
and the back-off between attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.webhooks import (
    clean_event_types,
    clean_url,
    new_secret,
    retry_delay,
    sign,
    verify,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.com/prism", True),
        ("https://hooks.example.com:8443/a?b=c", True),
        ("http://hooks.example.com/prism", False),
        ("http://127.0.0.1:8000/hooks", False),  # loopback only where the deployment allows
        ("ftp://hooks.example.com/", False),
        ("https:///nohost", False),
        ("https://u:p@hooks.example.com/", False),
        ("https://hooks.example.com/#frag", False),
        ("https://hooks.example.com:99999/", False),
        ("https://203.0.113.7/hooks", False),  # documentation range: not a public address
        ("https://8.8.8.8/hooks", True),
        ("https://10.1.2.3/hooks", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("https://[::1]/hooks", False),
        ("https://localhost/hooks", False),
    ],
)
def test_only_https_urls_are_accepted(url: str, allowed: bool) -> None:
    assert isinstance(clean_url(url, allow_http_loopback=False), str) is allowed


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000/hooks", True),
        ("http://localhost/hooks", True),
        ("http://[::1]:9000/hooks", True),
        ("http://10.0.0.5/hooks", False),
        ("http://hooks.example.com/", False),
    ],
)
def test_http_to_loopback_only_when_allowed(url: str, allowed: bool) -> None:
    assert isinstance(clean_url(url, allow_http_loopback=True), str) is allowed


def test_event_types_are_known_and_at_least_one() -> None:
    assert clean_event_types(["product.price_changed", "invoice.issued", "invoice.issued"]) == [
        "invoice.issued",
        "product.price_changed",
    ]
    assert clean_event_types([]) == FieldError(
        "eventTypes", ErrorCode.REQUIRED, "Choose at least one event type."
    )
    unknown = clean_event_types(["invoice.paid"])
    assert isinstance(unknown, FieldError) and unknown.code is ErrorCode.INVALID


def test_a_signature_verifies_with_its_secret_only_and_within_the_tolerance() -> None:
    secret, body = new_secret(), b'{"id":"e1","type":"invoice.issued"}'
    header = sign(secret, int(NOW.timestamp()), body)
    assert header.startswith(f"t={int(NOW.timestamp())},v1=")

    assert verify(secret, header, body, NOW + timedelta(minutes=4))
    assert not verify(secret, header, body + b" ", NOW)  # another body
    assert not verify(new_secret(), header, body, NOW)  # another secret
    assert not verify(secret, header, body, NOW + timedelta(minutes=6))  # a replay, too late
    assert not verify(secret, "v1=abc", body, NOW)


def test_secrets_are_random_and_prefixed() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_") and len(a) > 40


def test_the_back_off_doubles_up_to_an_hour() -> None:
    base = timedelta(seconds=30)
    assert [retry_delay(n, base) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    assert retry_delay(20, base) == timedelta(hours=1)
