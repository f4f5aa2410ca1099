"""The product sync tests' partner (connected to the simulator) and program (configured)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.psa import (
    add_partner,
    add_program,
    configure,
    connect,
)


@pytest.fixture
def partner(database_url: str, sync_engine: Engine) -> int:
    partner_id = add_partner(sync_engine)
    connect(sync_engine, partner_id)
    return partner_id


@pytest.fixture
def program(partner: int, sync_engine: Engine) -> int:
    program_id = add_program(sync_engine)
    configure(sync_engine, partner, program_id)
    return program_id
