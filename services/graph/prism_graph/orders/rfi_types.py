"""The API's types of the Request for Information (O6): the form behind a link, its answers,
and the inputs that answer it."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.rfi import MailPlatform as DomainMailPlatform
from prism_domain.rfi import RfiAnswers as DomainRfiAnswers
from prism_graph.common.errors import UserError
from prism_tables import orders as models

MailPlatform = strawberry.enum(DomainMailPlatform, name="MailPlatform")


@strawberry.type(description="The Request for Information's answers (O6).")
class RfiAnswers:
    technical_contact_name: str
    technical_contact_email: str
    technical_contact_phone: str | None
    domains: list[str]
    user_count: int
    mail_platform: MailPlatform  # type: ignore[valid-type]
    migrate_archive: bool
    archive_source: str | None
    archive_size_gb: int | None
    preferred_go_live: date | None
    notes: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RfiAnswers:
        """The stored answers, through the domain's reading of them (same field names)."""
        answers = DomainRfiAnswers.from_json(raw)
        values = {f.name: getattr(answers, f.name) for f in dataclasses.fields(answers)}
        return cls(**{**values, "domains": list(answers.domains)})


@strawberry.type(description="An order's Request for Information: sent, completed or not.")
class Rfi:
    expires_at: datetime = strawberry.field(description="When the e-mailed link stops working.")
    completed_at: datetime | None
    completed_by: str | None
    answers: RfiAnswers | None

    @classmethod
    def from_model(cls, row: models.RfiRequest) -> Rfi:
        return cls(
            expires_at=row.expires_at,
            completed_at=row.completed_at,
            completed_by=row.completed_by,
            answers=RfiAnswers.from_json(row.answers) if row.answers else None,
        )


@strawberry.input(description="The Request for Information form (O6).")
class RfiAnswersInput:
    technical_contact_name: str
    technical_contact_email: str
    technical_contact_phone: str | None = None
    domains: list[str] = strawberry.field(description="The mail domains, e.g. contoso.com.")
    user_count: int
    mail_platform: MailPlatform  # type: ignore[valid-type]
    migrate_archive: bool = False
    archive_source: str | None = strawberry.field(
        default=None, description="Required when migrating: e.g. Exchange journal, PST files."
    )
    archive_size_gb: int | None = None
    preferred_go_live: date | None = None
    notes: str | None = None

    def to_raw(self) -> dict[str, Any]:
        """The answers as the domain's `RfiAnswers.parse` takes them (same field names)."""
        return dataclasses.asdict(self)


@strawberry.input
class SubmitRfiInput:
    token: str = strawberry.field(description="The token of the e-mailed link.")
    answers: RfiAnswersInput


@strawberry.input
class CompleteOrderRfiInput:
    order_id: relay.GlobalID
    answers: RfiAnswersInput


@strawberry.type(description="The RFI form behind a link: what it is about, and its answers.")
class RfiForm:
    company_name: str
    msp_name: str
    order_reference: str
    implementation_lead_name: str | None
    expires_at: datetime
    completed_at: datetime | None
    answers: RfiAnswers | None


@strawberry.type
class RfiFormPayload:
    form: RfiForm | None
    errors: list[UserError]
