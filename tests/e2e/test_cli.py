"""The `prism` command: a bad setting stops start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

pytestmark = pytest.mark.e2e


def prism(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "prism_cli", *args],
        cwd=tmp_path,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = prism(tmp_path, "migrate", DATABASE_URL="mysql://root@localhost/prism")
    assert result.returncode == 2
    assert "DATABASE_URL: " in result.stderr and "only sqlite and postgresql" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_relay_explains_that_it_needs_redis(tmp_path: Path) -> None:
    result = prism(tmp_path, "relay")
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr and "prism dev" in result.stderr


def test_seeding_the_demo_data_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    from prism_cli.dev import seed
    from prism_graph.settings import GraphSettings
    from prism_platform.migrate import upgrade

    settings = GraphSettings(
        database_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        prism_env="test",
        password_hash_time_cost=1,
        password_hash_memory_kib=8,
        password_hash_parallelism=1,
    )
    upgrade(settings.database_url)
    first, second = seed(settings), seed(settings)
    assert first["organisations"] == 3 and first["users"] >= 4 and first["customers"] >= 6
    assert set(second.values()) == {0}


WRITE_AS_THE_WORKER = """
import sys
import prism_syncer.entry  # all a `prism worker` process imports
from sqlalchemy.orm import Session
from prism_syncer.invoices.sync import start_run
with Session(prism_syncer.entry.app.engine) as session, session.begin():
    run = start_run(session, partner_id=int(sys.argv[1]), program_id=int(sys.argv[2]),
                    trigger="MANUAL", invoice_id=None)
    session.flush()
    print("recorded", run.id)
"""


def test_a_worker_process_of_its_own_writes_the_syncers_rows(
    tmp_path: Path, database_url: str, sync_engine: Engine
) -> None:
    """The syncer's rows point at the API's tables: a worker process that loaded only the
    syncer must still be able to write them (docker-compose's `syncer`)."""
    from tests.support.psa import add_partner, add_program

    partner, program = add_partner(sync_engine), add_program(sync_engine)
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", WRITE_AS_THE_WORKER, str(partner), str(program)],
        cwd=tmp_path,
        env=clean | {"DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recorded ")
