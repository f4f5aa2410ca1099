"""Product sync (SPEC S3, S7): the price list into the PSA's service catalogue."""
