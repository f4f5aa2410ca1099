"""The PSA sync service: a Dramatiq worker that consumes Prism's domain events.

It imports no code of the API: the tables it reads and writes are in `prism_tables`, and
what it shares with the API about the PSA (the port, the Autotask and ConnectWise
adapters, connections, limits, the product plan) is in `prism_psa`.
"""
