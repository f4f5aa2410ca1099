"""Fixtures of the PSA sync's API tests: the API reaching the test's PSA side."""

from __future__ import annotations

from collections.abc import AsyncIterator

import dramatiq
import pytest

from prism_graph.database import Database
from tests.integration.sync.mapping_support import psa_api
from tests.support.graphql import GraphQLClient
from tests.support.sides import AutotaskSide, PsaSide


@pytest.fixture
async def side_api(
    database_url: str, database: Database, broker: dramatiq.Broker, psa_side: PsaSide
) -> AsyncIterator[GraphQLClient]:
    """The API reaching `psa_side`'s simulator for its live PSA calls (Autotask's zone probe
    on the Autotask side; a ConnectWise connection names its own site)."""
    autotask = psa_side.handle if isinstance(psa_side, AutotaskSide) else None
    async with psa_api(database_url, database, broker, autotask) as client:
        yield client
