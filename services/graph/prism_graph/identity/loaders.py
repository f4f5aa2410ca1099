"""The identity DataLoaders: users and API clients by id."""

from __future__ import annotations

import functools

from strawberry.dataloader import DataLoader

from prism_graph import access
from prism_graph.common.loaders import RequestLoaders, by_id_loader
from prism_tables.identity import ApiClient, User


class IdentityLoaders(RequestLoaders):
    @functools.cached_property
    def user_by_id(self) -> DataLoader[int, User | None]:
        return by_id_loader(self.reader, User, access.visible_users, self.scope)

    @functools.cached_property
    def api_client_by_id(self) -> DataLoader[int, ApiClient | None]:
        return by_id_loader(self.reader, ApiClient, access.visible_api_clients, self.scope)
