"""Prospects' and customers' orders, the order addendum, and the Request for Information
(SPEC O2-O7)."""
