"""Contacts of partner and customer accounts (SPEC C1–C5, R1–R7, T3)."""
