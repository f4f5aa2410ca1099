"""The monthly billing run, its invoices, and the charges it bills (SPEC P3)."""
