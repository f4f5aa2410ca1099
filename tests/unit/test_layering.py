"""STYLE habit 1: the domain imports no persistence, transport or API framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DOMAIN = Path(__file__).resolve().parents[2] / "libs" / "domain" / "prism_domain"
BANNED = {"sqlalchemy", "strawberry", "dramatiq", "httpx", "starlette", "redis", "psycopg"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_no_framework() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "the domain package was not found"
    offenders = {
        str(f.relative_to(DOMAIN)): sorted(imported_roots(f) & BANNED)
        for f in files
        if imported_roots(f) & BANNED
    }
    assert offenders == {}


def test_domain_may_not_import_the_services() -> None:
    services = {"prism_graph", "prism_syncer", "prism_cli", "prism_platform", "autotask_client"}
    offenders = [
        str(f.relative_to(DOMAIN)) for f in DOMAIN.rglob("*.py") if imported_roots(f) & services
    ]
    assert offenders == []
