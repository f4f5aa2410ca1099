"""Customers' subscriptions and their quantity history (SPEC O7, P2)."""
