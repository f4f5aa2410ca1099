"""The invoice sync's planning, PSA-neutral and read-only: what a run must make the PSA hold
(the desired timeline), the adjustments that get it there from what the PSA holds now, and
the reads it plans from. The syncer applies plans made with it; the API previews them."""
