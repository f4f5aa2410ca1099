"""The rule ids the code cites (C1, S5, ...) resolve inside the repository: each is a rule
of docs/requirements.md, so a reader never needs a document outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(r"\b([TCROPSN][1-9][0-9]?)\b")


def documented() -> set[str]:
    text = (ROOT / "docs" / "requirements.md").read_text()
    return set(re.findall(r"^\| ([TCROPSN][1-9][0-9]?) \|", text, re.M))


def test_every_rule_the_code_cites_is_documented() -> None:
    cited: dict[str, str] = {}
    for folder in ("libs", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            for rule in RULE.findall(path.read_text()):
                cited.setdefault(rule, str(path.relative_to(ROOT)))
    missing = {rule: where for rule, where in cited.items() if rule not in documented()}
    assert not missing, f"cited but not in docs/requirements.md: {missing}"


def test_the_requirements_list_every_family() -> None:
    rules = documented()
    for family in "TCROPSN":
        assert any(r.startswith(family) for r in rules), family
