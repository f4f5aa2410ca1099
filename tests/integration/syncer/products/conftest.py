"""The product sync tests' partner and program, connected to the test's PSA (`psa_side`,
tests/conftest.py: each test runs on Autotask and on ConnectWise)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.psa import add_partner, add_program
from tests.support.sides import PsaSide


@pytest.fixture
def partner(database_url: str, sync_engine: Engine) -> int:
    return add_partner(sync_engine)


@pytest.fixture
def program(partner: int, sync_engine: Engine, psa_side: PsaSide) -> int:
    """A program syncing to the test's PSA: the partner connected to it, sync on, mode ALL,
    the PSA's recurring billing code (an Autotask billing code, a ConnectWise subcategory)."""
    program_id = add_program(sync_engine)
    psa_side.connect(sync_engine, partner, program_id)
    return program_id
