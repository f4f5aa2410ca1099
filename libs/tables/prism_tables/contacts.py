"""Tables of the contacts of an account (SPEC C1–C4, R1–R6).

*Contacts by type* (C1–C4) belong to a partner organisation or a customer: exactly one of
`organisation_id` / `customer_id` is set. An account has one `account_contact_types` row per
type it uses; memberships hang off that row. Removing a membership locks that row first
(`SELECT ... FOR UPDATE`), so two concurrent removals of a type's last two contacts take turns
and the second sees that only one is left (C3).

*Customer-account contacts* (R1–R6) sign in to a customer's account; each has one role
(UNASSIGNED when none). A partial unique index keeps at most one PRIMARY per customer.
Verification and sign-in links are stored only as SHA-256 hashes, single-use and expiring.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from prism_domain.access import ContactRole
from prism_domain.contacts import ContactType
from prism_platform.db import Base, UTCDateTime, utcnow

_ONE_ACCOUNT = "(organisation_id IS NULL) <> (customer_id IS NULL)"


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class AccountContact(Base):
    """C1: a contact of a partner or customer account (first name, last name, e-mail)."""

    __tablename__ = "account_contacts"
    __table_args__ = (
        CheckConstraint(_ONE_ACCOUNT, name="one_account"),
        # N1: one e-mail address once per account (NULLs never collide).
        UniqueConstraint("organisation_id", "email"),
        UniqueConstraint("customer_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))  # stored lower-case
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AccountContactType(Base):
    """One contact type of one account: the row a removal locks (C3)."""

    __tablename__ = "account_contact_types"
    __table_args__ = (
        CheckConstraint(_ONE_ACCOUNT, name="one_account"),
        UniqueConstraint("organisation_id", "type"),
        UniqueConstraint("customer_id", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    type: Mapped[ContactType] = mapped_column(_enum(ContactType))


class AccountContactTypeMember(Base):
    """C2: a contact attached to one type of its account."""

    __tablename__ = "account_contact_type_members"

    contact_type_id: Mapped[int] = mapped_column(
        ForeignKey("account_contact_types.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("account_contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerContact(Base):
    """R1–R6: a person who signs in to a customer's account."""

    __tablename__ = "customer_contacts"
    __table_args__ = (
        UniqueConstraint("customer_id", "email"),
        # R2: exactly one primary; the service keeps at least one once there is one.
        Index(
            "uq_customer_contacts_one_primary",
            "customer_id",
            unique=True,
            sqlite_where=text("role = 'PRIMARY'"),
            postgresql_where=text("role = 'PRIMARY'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)  # stored lower-case
    role: Mapped[ContactRole] = mapped_column(_enum(ContactRole), default=ContactRole.UNASSIGNED)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LinkPurpose(StrEnum):
    VERIFY = "VERIFY"  # R4: confirms the address
    SIGN_IN = "SIGN_IN"  # T3: a magic sign-in link


class CustomerContactLink(Base):
    """A single-use, expiring link mailed to a contact; only its hash is kept."""

    __tablename__ = "customer_contact_links"
    __table_args__ = (Index("ix_customer_contact_links_contact", "contact_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("customer_contacts.id", ondelete="CASCADE"))
    purpose: Mapped[LinkPurpose] = mapped_column(_enum(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set with `used_at` when a newer link (a re-send, a changed address) took its place, so
    # that opening it says so instead of "used already".
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
