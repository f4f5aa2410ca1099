"""Configuration from environment variables: one settings object per service.

Every service's settings class derives from `CommonSettings`; a bad value stops start-up with
a message naming the variable (`ConfigError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from prism_platform.links import DEFAULT_HOST, DEFAULT_PORT, Links

DEFAULT_DATABASE_URL = "sqlite:///var/prism.sqlite3"
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789"  # noqa: S105 - refused in production

Environment = Literal["development", "test", "production"]


class ConfigError(Exception):
    """Configuration that cannot be used; the message names each offending variable."""


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    prism_env: Environment = Field("development", description="development, test or production")
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database")
    redis_url: str | None = Field(None, description="Redis URL; unset means an in-process broker")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET_KEY), description="signing/encryption key")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json, text, or auto: text on a terminal, JSON lines otherwise"
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(8025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "Prism <no-reply@prism.localhost>"
    # Where the API listens, and so every process's links (prism_platform.links): one rule.
    host: str = Field(DEFAULT_HOST, description="address the API listens on")
    port: int = Field(DEFAULT_PORT, ge=1, le=65535, description="port the API listens on")
    public_url: str | None = Field(
        None,
        description="URL users reach Prism at, for every link in every mail; "
        "default http://HOST:PORT",
    )
    portal_url: str | None = Field(
        None,
        description="the front end's base URL, for links to screens Prism does not "
        "serve (sync runs, usage reports); default PUBLIC_URL",
    )
    # The API serves /metrics on PORT; the relay, the mailer and the worker have no HTTP of
    # their own and serve their metrics here (prism_platform.metrics).
    metrics_host: str = Field(
        "127.0.0.1", description="address the relay's, mailer's and worker's metrics listen on"
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="port of the relay's, mailer's and worker's Prometheus metrics; 0: none",
    )
    # Partner webhooks (N5): the API refuses, and the worker never calls, plain http:// URLs,
    # except to this machine where this is on (development and tests).
    webhooks_allow_http_loopback: bool = Field(
        False,
        description="accept http:// webhook URLs to 127.0.0.1, ::1 and localhost (dev/tests)",
    )
    # ConnectWise PSA (S13): the clientId is the integration's (registered once at
    # developer.connectwise.com), so the operator's, not each partner's.
    connectwise_client_id: SecretStr | None = Field(
        None, description="this integration's ConnectWise clientId; unset: no ConnectWise"
    )
    connectwise_allow_http_loopback: bool = Field(
        False,
        description="accept http:// ConnectWise sites on 127.0.0.1 (a local simulator; dev/tests)",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a database URL (e.g. postgresql://user@host/db)") from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("only sqlite and postgresql are supported")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("public_url", "portal_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip().rstrip("/")
        if not text.startswith(("http://", "https://")) or "?" in text or "#" in text:
            raise ValueError(
                "must be an http:// or https:// URL without a query, e.g. https://prism.example.com"
            )
        return text

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> CommonSettings:
        secret = self.secret_key.get_secret_value()
        if self.prism_env == "production" and (secret == DEV_SECRET_KEY or len(secret) < 32):
            raise ValueError(
                "SECRET_KEY must be set to at least 32 random characters in production"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.prism_env == "production"

    @property
    def links(self) -> Links:
        """The links every mail of this process carries (PUBLIC_URL, PORTAL_URL)."""
        return Links.from_settings(self)

    def sqlite_path(self) -> Path | None:
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], **overrides: object) -> S:
    """Build settings from the environment, turning validation errors into a `ConfigError`."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "configuration"
            lines.append(f"  {name}: {err['msg']}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None
