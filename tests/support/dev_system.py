"""`prism dev` (what `make run` starts) as a real process on free loopback ports, for the tests
that use the whole system the way a person does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DevSystem:
    base: str  # http://127.0.0.1:PORT, the API and every mailed link
    database: Path  # its SQLite file
    maildir: Path  # where its mail sink stores what arrives
    log: Path  # what it printed


@contextmanager
def running_dev(folder: Path) -> Iterator[DevSystem]:
    """Start `prism dev` in `folder` (its database, mail and log there); stop it after."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "PRISM_ENV", "PUBLIC_URL", "PORTAL_URL", "HOST"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{folder / 'prism.sqlite3'}",
        "PORT": str(port),
        "SMTP_PORT": str(free_port()),
        "MAIL_SINK_DIR": str(folder / "mail"),
        "AUTOTASK_SIM_PORT": "0",
        "AUTOTASK_SIM_STATE": str(folder / "autotask-sim.sqlite3"),
        "CONNECTWISE_SIM_PORT": "0",
        "CONNECTWISE_SIM_STATE": str(folder / "connectwise-sim.sqlite3"),
    }
    system = DevSystem(
        f"http://127.0.0.1:{port}", folder / "prism.sqlite3", folder / "mail", folder / "dev.log"
    )
    log = system.log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "prism_cli", "dev"],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(system.log.read_text())
        try:
            return httpx.get(f"{system.base}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, timeout=60, what="prism dev to be ready")
        yield system
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
