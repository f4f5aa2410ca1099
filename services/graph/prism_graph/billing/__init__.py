"""The monthly billing run and its invoices (SPEC P3)."""
