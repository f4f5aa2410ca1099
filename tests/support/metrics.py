"""Reading Prometheus' text format in tests: one sample's value, by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` whose labels include `labels`; None when absent (and
    the sum when several match, e.g. one series per worker process)."""
    found = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(found) if found else None


def value(text: str, name: str, **labels: str) -> float:
    """Like `sample`, with an absent series counted as 0 (a counter not yet moved)."""
    return sample(text, name, **labels) or 0.0


def label_values(text: str, name: str, label: str) -> set[str]:
    return {
        s.labels[label]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and label in s.labels
    }
