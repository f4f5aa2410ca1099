from __future__ import annotations

from pydantic import Field, model_validator

from prism_platform.settings import CommonSettings


class GraphSettings(CommonSettings):
    """Settings of the GraphQL API and its outbox relay (environment variables, see .env.example)."""

    graphiql: bool | None = Field(None, description="serve GraphiQL; default: not in production")
    relay_batch_size: int = Field(100, ge=1, le=10_000)
    relay_poll_interval: float = Field(0.25, gt=0, le=60)
    outbox_retention_days: int = Field(7, ge=1)
    safety_check_interval: int = Field(
        3600,
        ge=0,
        le=7 * 24 * 3600,
        description="seconds between the invoice sync's safety checks (S5); 0 turns them off",
    )
    webhooks_sweep_interval: int = Field(
        30,
        ge=0,
        le=3600,
        description="seconds between the relay's calls for webhook attempts due (retries "
        "after a back-off); 0 turns them off",
    )

    # Identity (T2) and protection (N2)
    access_token_ttl_minutes: int = Field(60, ge=1, le=24 * 60, description="bearer token life")
    invitation_ttl_hours: int = Field(72, ge=1, le=30 * 24, description="invitation link life")
    password_hash_time_cost: int = Field(3, ge=1, description="argon2id iterations")
    password_hash_memory_kib: int = Field(65536, ge=8, description="argon2id memory (KiB)")
    password_hash_parallelism: int = Field(4, ge=1, description="argon2id lanes")
    login_attempts_per_account: int = Field(10, ge=1, description="per 15 minutes")
    rate_limit_namespace: str = Field("prism", description="key prefix of the login throttle")
    login_attempts_per_address: int = Field(50, ge=1, description="per 15 minutes")
    max_query_depth: int = Field(10, ge=2, le=50)
    max_aliases: int = Field(15, ge=1, le=500)
    max_tokens: int = Field(2000, ge=100, le=100_000)
    max_request_bytes: int = Field(1_000_000, ge=1_000, description="largest accepted body")

    # Live progress over WebSockets (issue 16)
    progress_poll_interval: float = Field(
        0.5, gt=0, le=60, description="seconds between reads of the runs subscribers follow"
    )
    subscriptions_per_connection: int = Field(
        10, ge=1, le=1000, description="operations one WebSocket may have under way at once"
    )

    # Contacts (issue 4: R1, R4, T3)
    customer_contact_limit: int = Field(
        5, ge=1, le=100, description="contacts per customer account (R1)"
    )
    contact_verification_ttl_hours: int = Field(
        72, ge=1, le=30 * 24, description="life of a contact's verification link"
    )
    contact_sign_in_ttl_minutes: int = Field(
        15, ge=1, le=24 * 60, description="life of a contact's sign-in link"
    )

    # PSA sync (issue 7: S1, S2)
    autotask_zone_probe_url: str | None = Field(
        None, description="Autotask zone lookup root; unset: webservices2.autotask.net"
    )

    @model_validator(mode="after")
    def _argon2_memory_covers_its_lanes(self) -> GraphSettings:
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:
            raise ValueError(
                "PASSWORD_HASH_MEMORY_KIB must be at least 8 x PASSWORD_HASH_PARALLELISM"
            )
        return self

    @property
    def graphiql_enabled(self) -> bool:
        return not self.is_production if self.graphiql is None else self.graphiql
