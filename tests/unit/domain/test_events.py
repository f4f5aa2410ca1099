from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from prism_domain.customers import CustomerCreated
from prism_domain.events import EVENT_TYPES, Envelope, EnvelopeError

pytestmark = pytest.mark.unit


def make_event() -> CustomerCreated:
    return CustomerCreated(
        aggregate_id="42",
        partner_id=7,
        name="Fabrikam",
        domain="fabrikam.example",
        status="PROSPECT",
    )


def test_an_event_travels_as_a_versioned_envelope_of_json_primitives() -> None:
    event = make_event()

    raw = event.envelope().to_dict()

    assert raw["type"] == "customer.created"
    assert raw["version"] == 1
    assert raw["event_id"] == str(event.event_id)
    assert raw["aggregate_type"] == "customer"
    assert raw["aggregate_id"] == "42"
    assert raw["payload"] == {
        "partner_id": 7,
        "name": "Fabrikam",
        "domain": "fabrikam.example",
        "status": "PROSPECT",
    }
    assert Envelope.from_dict(raw) == event.envelope()


def test_every_event_has_its_own_id_and_an_aware_utc_time() -> None:
    a, b = make_event(), make_event()
    assert a.event_id != b.event_id
    assert a.occurred_at.tzinfo is UTC


def test_event_types_are_registered_by_name() -> None:
    assert EVENT_TYPES["customer.created"] is CustomerCreated


@pytest.mark.parametrize(
    "change",
    [
        {"event_id": "not-a-uuid"},
        {"occurred_at": "2026-11-22T10:00:00"},  # no zone
        {"occurred_at": "yesterday"},
        {"payload": ["not", "an", "object"]},
        {"version": 0},
        {"version": True},
        {"type": None, "__drop__": "type"},
    ],
)
def test_a_malformed_envelope_is_refused(change: dict[str, object]) -> None:
    raw = make_event().envelope().to_dict()
    drop = change.pop("__drop__", None)
    raw.update(change)
    if drop:
        del raw[str(drop)]
    with pytest.raises(EnvelopeError):
        Envelope.from_dict(raw)


def test_envelope_keeps_the_event_id_as_given() -> None:
    event_id = uuid.uuid4()
    raw = {
        "event_id": str(event_id),
        "type": "x.happened",
        "version": 2,
        "occurred_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "aggregate_type": "x",
        "aggregate_id": "1",
        "payload": {},
    }
    assert Envelope.from_dict(raw).event_id == event_id
