"""docker-compose.yml against the Compose Specification and against the code it runs.

No Docker engine runs in CI, so this is the check that the file is valid Compose, that every
app service runs a real `prism` subcommand, that it sets only variables the settings read,
and that every setting can reach it: the ones a production deployment must decide are set
explicitly from the operator's environment, and any other comes through the optional
`.env` file (`env_file`), whose template `.env.example` names them all.

compose-spec.schema.json beside this file is the official Compose Specification schema
(github.com/compose-spec/compose-spec, schema/compose-spec.json, Apache-2.0), taken unchanged
from the PyPI package check-jsonschema 0.39.0, which vendors it as
check_jsonschema/builtin_schemas/vendor/compose-spec.json
(sha256 d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from prism_cli.main import build_parser
from prism_graph.mail.settings import MailSettings
from prism_graph.settings import GraphSettings
from prism_platform.settings import DEV_SECRET_KEY
from prism_syncer.settings import SyncerSettings

pytestmark = pytest.mark.contract

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.schema.json")
ENV_EXAMPLE = REPO_ROOT / ".env.example"

TOPOLOGY = {"postgres", "redis", "migrate", "graph", "relay", "mailer", "syncer"}
# The settings class each subcommand loads (see prism_cli.main); a new subcommand in the
# compose file must be added here, which is the point.
SETTINGS_OF_COMMAND: dict[str, type[BaseSettings]] = {
    "migrate": GraphSettings,
    "graph": GraphSettings,
    "relay": GraphSettings,
    "worker": SyncerSettings,
    "mailer": MailSettings,
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the anchors and `<<` merge keys, as Compose does.
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from the repository's Dockerfile, i.e. those that run `prism`."""
    services = {name: svc for name, svc in compose["services"].items() if "build" in svc}
    assert services, "no service builds the Prism image"
    return services


def prism_subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("prism's parser has no subcommands")


def env_names(service: dict[str, Any]) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def env_value(service: dict[str, Any], name: str) -> str:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return str(environment[name])


def settings_variables(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in cls.model_fields}


def host_ports(service: dict[str, Any]) -> list[str]:
    """The ports of `service` published on a fixed host port."""
    fixed = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            if port.get("published"):
                fixed.append(str(port["published"]))
        elif ":" in str(port):
            fixed.append(str(port))
    return fixed


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_the_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)

    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: e.json_path)

    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_the_topology_is_all_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= TOPOLOGY


def test_the_image_runs_prism(app_services: dict[str, dict[str, Any]]) -> None:
    entrypoints = re.findall(r"^ENTRYPOINT\s+(.+)$", DOCKERFILE.read_text(), re.MULTILINE)

    assert [json.loads(e) for e in entrypoints] == [["prism"]]
    for name, service in app_services.items():
        assert "entrypoint" not in service, f"{name} overrides the image's `prism` entrypoint"


def test_every_app_service_runs_a_real_prism_subcommand(
    app_services: dict[str, dict[str, Any]],
) -> None:
    subcommands = prism_subcommands()
    for name, service in app_services.items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: give the command as a list"

        assert command[0] in subcommands, f"{name}: `prism {command[0]}` does not exist"
        build_parser().parse_args(command)  # exits (fails the test) on unknown arguments


def test_app_services_set_only_variables_their_settings_read(
    app_services: dict[str, dict[str, Any]],
) -> None:
    for name, service in app_services.items():
        command = service["command"][0]
        assert command in SETTINGS_OF_COMMAND, f"{name}: which settings does `{command}` read?"
        known = settings_variables(SETTINGS_OF_COMMAND[command])

        unknown = {variable.upper() for variable in env_names(service)} - known

        assert not unknown, f"{name} sets variables no settings field reads: {sorted(unknown)}"


# What a production deployment must decide for itself: each app service sets it explicitly,
# so it works without a `.env` file too (set in the shell that runs `docker compose`).
PRODUCTION_NEEDS = {
    "PRISM_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PUBLIC_URL",
    "PORTAL_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_FROM",
    "CONNECTWISE_CLIENT_ID",
}
# ... and of those, what only the operator knows: taken from the variable of the same name.
FROM_THE_OPERATOR = PRODUCTION_NEEDS - {"PRISM_ENV", "DATABASE_URL", "REDIS_URL"}
# Fields with a development default that production does not need to set, and why.
DEVELOPMENT_ONLY = {
    "HOST": "graph sets 0.0.0.0; elsewhere only the default of PUBLIC_URL, which is set",
    "MAIL_SINK_HOST": "the development SMTP sink, run by `prism dev` only",
    "METRICS_HOST": "relay, mailer and syncer set 0.0.0.0 (x-metrics-env); the API serves "
    "/metrics on its own port and ignores it",
}


def development_defaults(cls: type[BaseSettings]) -> set[str]:
    """The variables whose default only works on a developer's machine (loopback, SQLite,
    the development key) or that hold a credential (no default can be right)."""
    prefix = cls.model_config.get("env_prefix", "")
    found = set()
    for name, field in cls.model_fields.items():
        default = field.default
        secret = isinstance(default, SecretStr) or SecretStr in getattr(
            field.annotation, "__args__", (field.annotation,)
        )
        text = default.get_secret_value() if isinstance(default, SecretStr) else str(default)
        local = any(mark in text for mark in ("127.0.0.1", "localhost", "sqlite:"))
        if secret or local or text == DEV_SECRET_KEY or name.endswith("_username"):
            found.add(f"{prefix}{name}".upper())
    return found


def env_files(service: dict[str, Any]) -> list[dict[str, Any]]:
    files = service.get("env_file") or []
    files = [files] if isinstance(files, str) else files
    return [{"path": f, "required": True} if isinstance(f, str) else f for f in files]


def test_every_setting_can_reach_every_app_service(
    app_services: dict[str, dict[str, Any]],
) -> None:
    for name, service in app_services.items():
        files = env_files(service)

        assert {"path": ".env", "required": False} in files, (
            f"{name}: give it the optional `.env` file (env_file), or settings that "
            "x-app-env does not list cannot reach it"
        )


def test_the_env_template_names_every_setting() -> None:
    template = ENV_EXAMPLE.read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", template, re.MULTILINE))
    for cls in {*SETTINGS_OF_COMMAND.values()}:
        missing = settings_variables(cls) - named

        assert not missing, f".env.example does not name {sorted(missing)} ({cls.__name__})"


def test_what_production_needs_is_set_by_every_app_service(
    app_services: dict[str, dict[str, Any]],
) -> None:
    for name, service in app_services.items():
        command = service["command"][0]
        known = settings_variables(SETTINGS_OF_COMMAND[command])
        unset = (PRODUCTION_NEEDS & known) - {v.upper() for v in env_names(service)}

        assert not unset, f"{name} does not pass {sorted(unset)}: production needs them"
        for variable in FROM_THE_OPERATOR & known:
            value = env_value(service, variable)
            assert value.startswith("${" + variable), (
                f"{name}: {variable} must come from the operator (${{{variable}...}}), "
                f"not {value!r}"
            )


def test_every_development_default_is_one_production_sets(
    app_services: dict[str, dict[str, Any]],
) -> None:
    for cls in {*SETTINGS_OF_COMMAND.values()}:
        unhandled = development_defaults(cls) - PRODUCTION_NEEDS - set(DEVELOPMENT_ONLY)

        assert not unhandled, (
            f"{sorted(unhandled)} ({cls.__name__}) default to a developer's machine or hold a "
            "credential: add them to x-app-env in docker-compose.yml and to PRODUCTION_NEEDS, "
            "or say in DEVELOPMENT_ONLY why production does not need them"
        )


def test_the_secret_key_is_never_committed(app_services: dict[str, dict[str, Any]]) -> None:
    for name, service in app_services.items():
        value = env_value(service, "SECRET_KEY")

        assert value.startswith("${SECRET_KEY:?"), f"{name}: SECRET_KEY must come from outside"


def test_graph_is_healthy_only_when_ready(compose: dict[str, Any]) -> None:
    graph = compose["services"]["graph"]
    port = env_value(graph, "PORT")

    assert f":{port}/readyz" in healthcheck_text(graph)
    assert any(str(p).endswith(f":{port}") for p in graph["ports"])
    assert env_value(graph, "HOST") == "0.0.0.0"


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    for name in ("postgres", "redis", "graph", "relay", "mailer", "syncer"):
        assert healthcheck_text(compose["services"][name]).strip(), f"{name} has no health check"


def test_the_mailer_is_healthy_only_when_it_can_send(compose: dict[str, Any]) -> None:
    test = compose["services"]["mailer"]["healthcheck"]["test"]

    assert test[:2] == ["CMD", "prism"]
    build_parser().parse_args(test[2:])  # a real subcommand with real options
    assert test[2:] == ["check", "--mailer"]


def test_the_syncer_scales(compose: dict[str, Any]) -> None:
    syncer = compose["services"]["syncer"]

    assert syncer["command"] == ["worker"]
    assert "container_name" not in syncer
    assert host_ports(syncer) == []
    assert syncer["deploy"]["replicas"] >= 2


def test_migrations_run_before_the_services_that_need_the_schema(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]

    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("graph", "relay", "syncer"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["redis"]["condition"] == "service_healthy", name


def test_the_services_without_http_serve_their_metrics_on_a_declared_port(
    compose: dict[str, Any],
) -> None:
    for name in ("relay", "mailer", "syncer"):
        service = compose["services"][name]
        port = env_value(service, "METRICS_PORT")

        assert int(port) > 0, f"{name} serves no metrics"
        assert env_value(service, "METRICS_HOST") == "0.0.0.0", f"{name}: unreachable metrics"
        assert port in [str(p) for p in service.get("expose", [])], f"{name}: undeclared port"
