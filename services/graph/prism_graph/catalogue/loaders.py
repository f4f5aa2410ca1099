"""The catalogue's DataLoaders (P1-P3): programs and products by id, a product's prices."""

from __future__ import annotations

import functools

from strawberry.dataloader import DataLoader

from prism_graph import access
from prism_graph.common.loaders import RequestLoaders, by_id_loader, grouped_loader
from prism_tables.catalogue import Product, ProductPrice, Program


class CatalogueLoaders(RequestLoaders):
    @functools.cached_property
    def program_by_id(self) -> DataLoader[int, Program | None]:
        return by_id_loader(self.reader, Program, access.visible_catalogue, self.scope)

    @functools.cached_property
    def product_by_id(self) -> DataLoader[int, Product | None]:
        return by_id_loader(self.reader, Product, access.visible_catalogue, self.scope)

    @functools.cached_property
    def prices_by_product(self) -> DataLoader[int, list[ProductPrice]]:
        return grouped_loader(
            self.reader,
            ProductPrice,
            ProductPrice.product_id,
            access.visible_catalogue(self.scope),
            (ProductPrice.effective_from,),
        )
