"""The PSA sync service: a Dramatiq worker that consumes Prism's domain events."""
