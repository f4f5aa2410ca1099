"""Benchmark (issue 15, O1/O7 under load): the page of customers of `api_reads.py` under a
concurrent load against a real uvicorn on loopback, beside the hand-written baseline under
the same load, on PostgreSQL.

    DATABASE_URL=postgresql://... .venv/bin/python bench/api_load.py
        [--customers 300] [--clients 20] [--requests 30] [--pages 10,100]

The data, the GraphQL document and the baseline endpoint are `api_reads.py`'s (the baseline:
the same bearer-token check, one statement per table, rows into the same JSON; checked equal
before the load). Each server is a process of its own (uvicorn, one worker, no access log),
started on a free loopback port; `--clients` concurrent clients (asyncio, one HTTP connection
each, in this process) each send `--requests` requests one after another. The two servers run
in turns for each page size. Prints requests per second (wall), requests per CPU-second of the
server process (requests per second per core: the server is one process, so one core at
most), p50 and p99 latency as the clients saw them, and the GraphQL / baseline ratios. The
clients share the machine's cores with the server. A benchmark, not a test: nothing here
asserts. (Not `bench/graphql.py`: a script's folder comes first on the import path, and a
`graphql.py` there would hide graphql-core from strawberry.)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import time
from typing import Any

import httpx
import uvicorn
from api_reads import QUERY, baseline_app, seed
from dramatiq.brokers.stub import StubBroker
from scratch import scratch_database
from sqlalchemy import text
from starlette.applications import Starlette

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from prism_platform.db import make_async_engine
from prism_platform.migrate import upgrade

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, url: str, port: int) -> None:
    """The child: one server on the scratch database."""
    engine = make_async_engine(url, pool_size=20, max_overflow=10)
    database = Database(engine)
    app: Starlette
    if kind == "graphql":
        settings = GraphSettings(database_url=url, prism_env="test", max_tokens=5000)
        app = create_app(settings, database=database, broker=StubBroker())
    else:
        app = baseline_app(database)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, kind: str, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(self.port)]
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


async def load(
    request: Any, clients: int, requests: int, pid: int
) -> tuple[float, float, list[float]]:
    """Wall seconds, server CPU seconds and every latency (ms) of the load."""
    latencies: list[float] = []

    async def client() -> None:
        for _ in range(requests):
            started = time.perf_counter()
            await request()
            latencies.append((time.perf_counter() - started) * 1000)

    cpu = cpu_seconds(pid)
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began, cpu_seconds(pid) - cpu, latencies


def p(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def measure(args: argparse.Namespace, url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    print(
        f"{'page':>4} {'server':>8} {'req/s':>7} {'req/cpu-s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'server cpu %':>12}"
    )
    for first in args.pages:
        results: dict[str, tuple[float, float, list[float]]] = {}
        answers: dict[str, Any] = {}
        for kind in ("graphql", "baseline"):
            server = Server(kind, url)
            try:
                server.wait_ready()
                async with httpx.AsyncClient(
                    base_url=server.base, headers=headers, limits=limits, timeout=60
                ) as http:

                    async def request(
                        kind: str = kind, http: httpx.AsyncClient = http, first: int = first
                    ) -> Any:
                        if kind == "graphql":
                            response = await http.post(
                                "/graphql", json={"query": QUERY, "variables": {"first": first}}
                            )
                        else:
                            response = await http.post("/customers", params={"first": first})
                        response.raise_for_status()
                        return response.json()

                    answers[kind] = await request()
                    await load(request, args.clients, 3, server.process.pid)  # warm-up
                    results[kind] = await load(
                        request, args.clients, args.requests, server.process.pid
                    )
            finally:
                server.stop()
        same = answers["graphql"] == answers["baseline"]
        for kind, (wall, cpu, latencies) in results.items():
            n = len(latencies)
            print(
                f"{first:>4} {kind:>8} {n / wall:>7.0f} {n / cpu:>9.0f} "
                f"{statistics.median(latencies):>7.1f} {p(latencies, 99):>7.1f} "
                f"{cpu / wall * 100:>12.0f}"
            )
        (gw, gc, gl), (bw, bc, bl) = results["graphql"], results["baseline"]
        print(
            f"{first:>4} {'ratio':>8} {(len(bl) / bw) / (len(gl) / gw):>7.2f} "
            f"{(len(bl) / bc) / (len(gl) / gc):>9.2f} "
            f"{statistics.median(gl) / statistics.median(bl):>7.2f} "
            f"{p(gl, 99) / p(bl, 99):>7.2f}   (GraphQL cost / baseline's; answers "
            f"{'equal' if same else 'DIFFER'})"
        )


async def prepare(url: str, customers: int) -> str:
    engine = make_async_engine(url)
    token = await seed(Database(engine), customers)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))  # statistics, as a live database has them
    await engine.dispose()
    return str(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="per client")
    parser.add_argument("--pages", default="10,100")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return
    args.pages = [int(x) for x in args.pages.split(",")]
    with scratch_database("prism_bench_graphql") as url:
        upgrade(url)
        token = asyncio.run(prepare(url, args.customers))
        print(
            f"prism bench api_load: {url.split(':')[0]}, {args.customers} customers, "
            f"{args.clients} concurrent clients x {args.requests} requests, uvicorn (1 process)"
            f" on loopback, {os.cpu_count()} cores shared by server and clients"
        )
        asyncio.run(measure(args, url, token))


if __name__ == "__main__":
    main()
