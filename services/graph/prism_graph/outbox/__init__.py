"""The transactional outbox: events commit with the data that caused them, then a relay
publishes them to the broker (at least once; consumers dedupe by `event_id`)."""
