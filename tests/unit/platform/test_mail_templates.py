"""The one mail renderer both services use (`prism_platform.mail_templates`): its filters and
the layout every message shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from prism_graph.mail import templates as api_mail
from prism_platform.mail_templates import LAYOUT_DIR, money
from prism_syncer.invoices import notices

pytestmark = pytest.mark.unit


def test_the_shared_layout_ships_inside_the_platform_package() -> None:
    names = {p.name for p in LAYOUT_DIR.iterdir()}
    assert {"_layout.html", "_layout.txt", "_button.html"} <= names
    # No service keeps a layout of its own any more.
    for folder in (api_mail.TEMPLATE_DIR, notices.TEMPLATE_DIR):
        assert not {p.name for p in folder.iterdir()} & names


def test_the_api_mails_and_the_sync_notices_share_one_layout() -> None:
    given_a_link = "https://prism.example/psa-sync/invoice-runs/7"
    _, _, notice = notices.NOTICES.render(
        "sync_failed",
        sync_kind="invoice",
        program_name="Microsoft CSP",
        started_at=datetime(2026, 11, 23, 9, 5, tzinfo=UTC),
        message="",
        counts=[],
        errors=[],
        link=given_a_link,
    )
    _, _, invitation = api_mail.render(
        "user_invitation",
        recipient_name="Dana",
        inviter_name="Sam",
        organisation_name="Partner",
        link=given_a_link,
        expires_at=datetime(2026, 11, 23, 9, 5, tzinfo=UTC),
    )

    def frame(html: str) -> str:
        return html.split("<title>")[0]

    assert frame(notice) == frame(invitation)
    assert notice.lstrip().startswith("<!DOCTYPE html>")
    assert f'href="{given_a_link}"' in notice and f'href="{given_a_link}"' in invitation
    # Each keeps its own footer.
    assert "notification address of the Microsoft CSP sync settings" in notice
    assert "This message was sent by Prism" in invitation


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("0.005"), "EUR 0.01"),
        (Decimal("-12.345"), "EUR -12.35"),
        (1000000, "EUR 1,000,000.00"),
    ],
)
def test_money(amount: Decimal, shown: str) -> None:
    assert money(amount, "EUR") == shown


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1234.5"), "JPY", "JPY 1,235"),
        (Decimal("1.2345"), "KWD", "KWD 1.235"),
        ("-12.3455", "KWD", "KWD -12.346"),
    ],
)
def test_money_rounds_to_the_currencys_own_minor_unit(
    amount: Decimal | str, currency: str, shown: str
) -> None:
    # The filter used to round every currency to two places: "JPY 1,234.50", "KWD 1.23".
    assert money(amount, currency) == shown
