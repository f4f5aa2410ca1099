"""Programs and their versioned price lists (SPEC P1)."""
