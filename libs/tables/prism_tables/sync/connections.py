"""A partner's PSA connection (S1) and its per-program sync settings (S2).

These rows are the partner's configuration: the API writes them (a mutation, after testing
the credentials live), the syncer reads them. The secret and the integration code are stored
encrypted (`psa.secrets`), never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow


class PsaConnection(Base):
    """One per partner and PSA (`psa`: AUTOTASK or CONNECTWISE). The columns carry each PSA's
    own credentials: Autotask's API username, secret and integration code; ConnectWise's
    company id (`username`), private key (`secret_encrypted`), public key
    (`integration_code_encrypted`) and API host (`site`)."""

    __tablename__ = "sync_psa_connections"
    __table_args__ = (UniqueConstraint("partner_id", "psa"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    psa: Mapped[str] = mapped_column(String(20), default="AUTOTASK")
    username: Mapped[str] = mapped_column(String(200))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    integration_code_encrypted: Mapped[str] = mapped_column(Text)
    zone_url: Mapped[str | None] = mapped_column(String(300))
    site: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="UNTESTED")
    problem: Mapped[str | None] = mapped_column(String(40))
    status_message: Mapped[str | None] = mapped_column(Text)
    tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProgramSyncSettings(Base):
    __tablename__ = "sync_program_settings"
    __table_args__ = (UniqueConstraint("partner_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    # The PSA this program syncs to (the partner's connection to it), S13.
    psa: Mapped[str] = mapped_column(String(20), default="AUTOTASK", server_default="AUTOTASK")
    sync_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    product_sync_mode: Mapped[str] = mapped_column(String(10), default="ALL")
    sync_azure_usage: Mapped[bool] = mapped_column(Boolean, default=False)
    # On: a run of an issued invoice waits for a partner admin's approval before writing.
    require_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_code_id: Mapped[int | None] = mapped_column(Integer)
    billing_code_name: Mapped[str | None] = mapped_column(String(200))
    vendor_company_id: Mapped[int | None] = mapped_column(Integer)
    vendor_company_name: Mapped[str | None] = mapped_column(String(200))
    notification_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CustomerMapping(Base):
    """S4: a Prism customer (its tenant of the program) → PSA company and Recurring Service
    contract, with the customer's own sync switch (S9). Written by the API after the company
    and contract were checked live; read by the invoice sync."""

    __tablename__ = "sync_customer_mappings"
    __table_args__ = (UniqueConstraint("partner_id", "program_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    psa: Mapped[str] = mapped_column(String(20), default="AUTOTASK")
    company_id: Mapped[int] = mapped_column(Integer)
    company_name: Mapped[str] = mapped_column(String(200))
    contract_id: Mapped[int] = mapped_column(Integer)
    contract_name: Mapped[str] = mapped_column(String(200))
    sync_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
