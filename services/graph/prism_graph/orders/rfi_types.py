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
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError, errors_field
from prism_tables import orders as models

MailPlatform = described_enum(
    DomainMailPlatform,
    name="MailPlatform",
    description="The mail platform a customer uses today, before onboarding.",
    values={
        "MICROSOFT_365": "Microsoft 365 (Exchange Online).",
        "EXCHANGE_ON_PREMISES": "Microsoft Exchange Server on the customer's own servers.",
        "GOOGLE_WORKSPACE": "Google Workspace (Gmail).",
        "OTHER": "Another platform; the notes can say which.",
    },
)


@strawberry.type(
    description="The answers to a Request for Information: what the implementation team needs "
    "to onboard the customer, given once by the implementation lead through the e-mailed link "
    "or by the partner."
)
class RfiAnswers:
    technical_contact_name: str = strawberry.field(
        description="The customer's technical contact for the onboarding."
    )
    technical_contact_email: str = strawberry.field(
        description="The technical contact's e-mail address, in lower case."
    )
    technical_contact_phone: str | None = strawberry.field(
        description="The technical contact's phone number, as typed; null when not given."
    )
    domains: list[str] = strawberry.field(
        description="The domains that carry the customer's mail, in lower case, each once."
    )
    user_count: int = strawberry.field(description="How many users the service is for.")
    mail_platform: MailPlatform = strawberry.field(  # type: ignore[valid-type]
        description="The mail platform the customer uses today."
    )
    migrate_archive: bool = strawberry.field(
        description="Whether existing mail or an archive must be migrated."
    )
    archive_source: str | None = strawberry.field(
        description="What the archive is migrated from, e.g. Exchange journal or PST files; "
        "null when nothing is migrated."
    )
    archive_size_gb: int | None = strawberry.field(
        description="The archive's size in GB; null when nothing is migrated or the size was "
        "not given."
    )
    preferred_go_live: date | None = strawberry.field(
        description="The day the customer would like to go live (an ISO date); null when not given."
    )
    notes: str | None = strawberry.field(
        description="Anything else for the implementation team; null when none."
    )

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RfiAnswers:
        """The stored answers, through the domain's reading of them (same field names)."""
        answers = DomainRfiAnswers.from_json(raw)
        values = {f.name: getattr(answers, f.name) for f in dataclasses.fields(answers)}
        return cls(**{**values, "domains": list(answers.domains)})


@strawberry.type(description="An order's Request for Information: sent, completed or not.")
class Rfi:
    expires_at: datetime = strawberry.field(
        description="When the e-mailed link stops working (UTC). The partner can still answer "
        "for the customer afterwards."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the form was answered (UTC); null while it is not."
    )
    completed_by: str | None = strawberry.field(
        description='Who answered: the implementation lead\'s name followed by "(RFI link)" '
        "when answered through the link, else the partner's user (their e-mail address) or API "
        'client ("api-client:" and its client ID). Null while unanswered.'
    )
    answers: RfiAnswers | None = strawberry.field(
        description="The answers; null while the form is not answered."
    )

    @classmethod
    def from_model(cls, row: models.RfiRequest) -> Rfi:
        return cls(
            expires_at=row.expires_at,
            completed_at=row.completed_at,
            completed_by=row.completed_by,
            answers=RfiAnswers.from_json(row.answers) if row.answers else None,
        )


@strawberry.input(
    description="The answers of a Request for Information form. Each wrong or missing answer "
    "is an error of its own, on its field (e.g. `input.answers.userCount`), and nothing is "
    "kept."
)
class RfiAnswersInput:
    technical_contact_name: str = strawberry.field(
        description="The customer's technical contact for the onboarding, up to 200 characters."
    )
    technical_contact_email: str = strawberry.field(
        description="The technical contact's e-mail address."
    )
    technical_contact_phone: str | None = strawberry.field(
        default=None, description="The technical contact's phone number, up to 40 characters."
    )
    domains: list[str] = strawberry.field(
        description="The domains that carry the customer's mail, e.g. contoso.com: at least "
        "one, at most 50; a repeated domain is kept once."
    )
    user_count: int = strawberry.field(
        description="How many users the service is for, 1 to 1,000,000."
    )
    mail_platform: MailPlatform = strawberry.field(  # type: ignore[valid-type]
        description="The mail platform the customer uses today."
    )
    migrate_archive: bool = strawberry.field(
        default=False,
        description="True when existing mail or an archive must be migrated: then "
        "`archiveSource` is needed. False (the default): the archive fields are not kept.",
    )
    archive_source: str | None = strawberry.field(
        default=None,
        description="What the archive is migrated from, e.g. Exchange journal or PST files, up "
        "to 200 characters; needed when migrating.",
    )
    archive_size_gb: int | None = strawberry.field(
        default=None,
        description="The archive's size in GB (not negative), when migrating; may be left out.",
    )
    preferred_go_live: date | None = strawberry.field(
        default=None,
        description="The day the customer would like to go live, an ISO date such as "
        "2025-07-01; optional.",
    )
    notes: str | None = strawberry.field(
        default=None,
        description="Anything else for the implementation team, up to 2000 characters.",
    )

    def to_raw(self) -> dict[str, Any]:
        """The answers as the domain's `RfiAnswers.parse` takes them (same field names)."""
        return dataclasses.asdict(self)


@strawberry.input(description="The answers to a Request for Information, given through its link.")
class SubmitRfiInput:
    token: str = strawberry.field(
        description="The `token` parameter of the link in the Request for Information e-mail."
    )
    answers: RfiAnswersInput = strawberry.field(description="The form's answers.")


@strawberry.input(
    description="The answers to a submitted order's Request for Information, given by the "
    "partner for the customer."
)
class CompleteOrderRfiInput:
    order_id: relay.GlobalID = strawberry.field(description="A submitted order.")
    answers: RfiAnswersInput = strawberry.field(description="The form's answers.")


@strawberry.type(description="The RFI form behind a link: what it is about, and its answers.")
class RfiForm:
    company_name: str = strawberry.field(description="The customer's company name.")
    msp_name: str = strawberry.field(description="The partner (MSP) that placed the order.")
    order_reference: str = strawberry.field(description="The order's reference, e.g. ORD-000042.")
    implementation_lead_name: str | None = strawberry.field(
        description="The customer's implementation lead, to whom the link was sent."
    )
    expires_at: datetime = strawberry.field(description="When the link stops working (UTC).")
    completed_at: datetime | None = strawberry.field(
        description="When the form was answered (UTC): set in what `submitRfi` returns; null "
        "while the form is open."
    )
    answers: RfiAnswers | None = strawberry.field(
        description="The answers given: set in what `submitRfi` returns; null while the form "
        "is open."
    )


@strawberry.type(
    description="The Request for Information behind a link, or why it cannot be opened or answered."
)
class RfiFormPayload:
    form: RfiForm | None = strawberry.field(description="The form; null when refused.")
    errors: list[UserError] = errors_field()
