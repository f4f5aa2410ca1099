"""The import rules (`.importlinter`, run by `make lint`) hold, and they catch a wrong import.

The domain imports no persistence, transport or API framework and none of Prism's other
parts; the libraries import only the ones beneath them; the API and the syncer never import
each other. The real tree must keep the contracts, and the same contracts, run over a small
tree with one forbidden import, must break and name it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = (
    "prism_domain",
    "prism_platform",
    "autotask_client",
    "autotask_sim",
    "connectwise_client",
    "connectwise_sim",
    "prism_http",
    "prism_tables",
    "prism_psa",
    "prism_graph",
    "prism_syncer",
    "prism_cli",
)
#: Modules the contracts name, empty in the small trees.
MODULES = (
    "prism_psa.autotask",
    "prism_psa.connectwise",
    "prism_psa.connectwise_timeline",
    "prism_psa.limits",
    "prism_psa.port",
    "prism_psa.invoices",
    "prism_psa.products",
    "prism_psa.history",
    "prism_psa.outcomes",
)


def lint_imports(cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else dict(os.environ)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tree_with(tmp_path: Path, module: str, source: str) -> Path:
    """Every root package, empty, plus `module` (dotted) holding `source`."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for named in MODULES:
        tmp_path.joinpath(*named.split(".")).with_suffix(".py").write_text("")
    path = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(source)
    return tmp_path


def test_the_tree_keeps_the_import_rules() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "named"),
    [
        ("prism_graph.bad", "import prism_syncer\n", "prism_graph.bad -> prism_syncer"),
        ("prism_syncer.bad", "from prism_graph import bad\n", "prism_syncer.bad -> prism_graph"),
        ("prism_psa.bad", "import prism_graph\n", "prism_psa.bad -> prism_graph"),
        ("prism_tables.bad", "import prism_psa\n", "prism_tables.bad -> prism_psa"),
        ("prism_domain.bad", "import prism_platform\n", "prism_domain.bad -> prism_platform"),
        ("prism_domain.bad", "import sqlalchemy\n", "prism_domain.bad -> sqlalchemy"),
        (
            "connectwise_client.bad",
            "import autotask_client\n",
            "connectwise_client.bad -> autotask_client",
        ),
        ("connectwise_sim.bad", "import prism_psa\n", "connectwise_sim.bad -> prism_psa"),
        # The API, the syncer and the command line reach a PSA through the port only.
        (
            "prism_graph.bad",
            "from prism_psa import connectwise\n",
            "prism_graph.bad -> prism_psa.connectwise",
        ),
        ("prism_syncer.bad", "import autotask_client\n", "prism_syncer.bad -> autotask_client"),
        # The sync's PSA-neutral core names no PSA either, not even through prism_psa.
        (
            "prism_psa.port",
            "from prism_psa import autotask\n",
            "prism_psa.port -> prism_psa.autotask",
        ),
        (
            "prism_psa.history",
            "import connectwise_client\n",
            "prism_psa.history -> connectwise_client",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_rules(
    tmp_path: Path, module: str, source: str, named: str
) -> None:
    tree = tree_with(tmp_path, module, source)
    result = lint_imports(tree, pythonpath=str(tree))
    assert result.returncode == 1, result.stdout + result.stderr
    assert named in result.stdout
    assert "1 broken" in result.stdout
