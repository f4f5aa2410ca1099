from __future__ import annotations

import pytest

from prism_graph.settings import GraphSettings
from prism_platform.settings import ConfigError, load_settings
from prism_syncer.settings import SyncerSettings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRISM_ENV", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env file


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(GraphSettings)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.port == 8000
    assert settings.graphiql_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/prism"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://localhost:6379"),
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("PRISM_ENV", "staging"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(GraphSettings)
    assert f"  {name}:" in str(info.value)


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(SyncerSettings)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    settings = load_settings(SyncerSettings)
    assert settings.is_production
    assert "s" * 40 not in repr(settings)  # secrets never appear in logs or reprs


def test_graphiql_is_off_in_production_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert not load_settings(GraphSettings).graphiql_enabled
    monkeypatch.setenv("GRAPHIQL", "true")
    assert load_settings(GraphSettings).graphiql_enabled
