"""Prism's domain model: rules, value objects, events and error codes.

Pure Python: this package must not import SQLAlchemy, strawberry, dramatiq or httpx
(enforced by ruff's banned-api in libs/domain/ruff.toml and by tests/unit/test_layering.py).
"""
