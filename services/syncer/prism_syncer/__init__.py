"""The PSA sync service: a Dramatiq worker that consumes Prism's domain events.

One database, one schema: the syncer's tables hold foreign keys to the API's (organisations,
programs, customers, products, invoices), and SQLAlchemy orders every flush by the foreign
keys of the tables involved, so a process that writes syncer rows must know those tables.
The API's table definitions (`prism_graph.models`: plain SQLAlchemy models, none of the
API's code) are therefore loaded with this package, whichever process imports it (the
worker, `prism sync`, the API itself).
"""

import prism_graph.models  # noqa: F401 - the tables the syncer's foreign keys point at
