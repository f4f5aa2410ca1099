"""The product sync's plan: what the price list should make of the PSA's services."""
