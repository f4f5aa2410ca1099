"""The customers' DataLoaders: a customer by id, and each customer's tenants."""

from __future__ import annotations

import functools

from strawberry.dataloader import DataLoader

from prism_graph import access
from prism_graph.common.loaders import GroupedRows, RequestLoaders, by_id_loader
from prism_tables.customers import Customer
from prism_tables.tenants import Tenant


class CustomerLoaders(RequestLoaders):
    @functools.cached_property
    def customer_by_id(self) -> DataLoader[int, Customer | None]:
        return by_id_loader(self.reader, Customer, access.visible_customers, self.scope)

    @functools.cached_property
    def tenants_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            Tenant,
            Tenant.customer_id,
            access.visible_tenants,
            self.scope,
            (Tenant.id,),
        )
