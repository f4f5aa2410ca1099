from __future__ import annotations

from pydantic import Field

from prism_platform.settings import CommonSettings


class GraphSettings(CommonSettings):
    """Settings of the GraphQL API and its outbox relay (environment variables, see .env.example)."""

    host: str = Field("127.0.0.1", description="address the API listens on")
    port: int = Field(8000, ge=1, le=65535, description="port the API listens on")
    public_url: str | None = Field(None, description="URL users reach the API at, for links")
    graphiql: bool | None = Field(None, description="serve GraphiQL; default: not in production")
    relay_batch_size: int = Field(100, ge=1, le=10_000)
    relay_poll_interval: float = Field(0.25, gt=0, le=60)
    outbox_retention_days: int = Field(7, ge=1)

    @property
    def graphiql_enabled(self) -> bool:
        return not self.is_production if self.graphiql is None else self.graphiql

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
