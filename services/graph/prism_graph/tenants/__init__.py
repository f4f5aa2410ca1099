"""Tenants (O1): a customer's account in one program, e.g. its Microsoft CSP tenant domain.

`schema` holds the `createTenant` mutation, `types` the GraphQL types, `service` the use
case. The table is `prism_tables.tenants.Tenant`.
"""
