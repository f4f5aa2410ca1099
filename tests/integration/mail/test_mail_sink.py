"""The development SMTP sink: what the sender delivers lands in a Maildir, and can be listed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from prism_graph.database import Database
from prism_graph.mail.outbox import Attachment, enqueue, message_id_for
from prism_graph.mail.runner import build_sender, received_mail_report, start_dev_sink
from prism_graph.mail.settings import MailSettings
from prism_graph.mail.sink import SinkHandle, list_received, read_received
from prism_graph.mail.templates import compose

pytestmark = pytest.mark.integration


@pytest.fixture
def sink_settings(database_url: str, tmp_path: Path, unused_port: int) -> MailSettings:
    return MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host="127.0.0.1",
        smtp_port=unused_port,
        mail_sink_dir=tmp_path / "mail",
    )


@pytest.fixture
def sink(sink_settings: MailSettings) -> Iterator[SinkHandle]:
    with start_dev_sink(sink_settings) as handle:
        yield handle


async def test_mail_sent_in_development_can_be_listed(
    database: Database, sync_engine: Engine, sink_settings: MailSettings, sink: SinkHandle
) -> None:
    expires = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    key = f"contact:{uuid.uuid4()}:verify"
    async with database.unit_of_work() as uow:
        await enqueue(
            uow.session,
            compose(
                "contact_verification",
                to=["eve@customer.example"],
                idempotency_key=key,
                attachments=[Attachment("terms.txt", "text/plain", b"Terms.\n")],
                display_name="Eve",
                account_name="Customer Ltd",
                link="https://portal.example/verify?token=abc",
                expires_at=expires,
            ),
        )
        await uow.commit()

    assert build_sender(sink_settings, sync_engine).send_pending() == 1

    (item,) = list_received(sink.maildir)
    assert item.to == ("eve@customer.example",)
    assert item.mail_from == sink_settings.mail_from
    assert item.subject == "Please verify your e-mail address for Customer Ltd"
    assert item.message_id == message_id_for(key)
    assert item.attachments == ("terms.txt",)
    assert item.date is not None and abs(item.date - datetime.now(UTC)) < timedelta(minutes=5)
    message = read_received(sink.maildir, item.key)
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "https://portal.example/verify?token=abc" in text.get_content()

    report = received_mail_report(sink_settings)
    assert "Please verify your e-mail address for Customer Ltd" in report
    assert "eve@customer.example" in report and "terms.txt" in report
    assert "\n1 message(s)." in report


def test_nothing_received_yet(tmp_path: Path) -> None:
    assert list_received(tmp_path / "never-created") == []
    settings = MailSettings(prism_env="test", mail_sink_dir=tmp_path / "none")
    assert received_mail_report(settings) == "No mail has arrived.\n"


def test_the_sink_does_not_run_in_production(tmp_path: Path) -> None:
    settings = MailSettings(
        prism_env="production", secret_key="x" * 40, mail_sink_dir=tmp_path / "mail"
    )
    with pytest.raises(RuntimeError, match="production"):
        start_dev_sink(settings)


async def test_one_received_message_is_shown_with_its_links_and_attachments(
    database: Database,
    sync_engine: Engine,
    sink_settings: MailSettings,
    sink: SinkHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`prism mail show ID`: the headers, the text, every link, the attachments."""
    from prism_cli.main import main

    async with database.unit_of_work() as uow:
        await enqueue(
            uow.session,
            compose(
                "contact_verification",
                to=["eve@customer.example"],
                idempotency_key=f"contact:{uuid.uuid4()}:verify",
                attachments=[Attachment("terms.pdf", "application/pdf", b"%PDF-1.4 terms")],
                display_name="Eve",
                account_name="Customer Ltd",
                link="https://prism.example/contacts/verify?token=abc",
                expires_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
            ),
        )
        await uow.commit()
    assert build_sender(sink_settings, sync_engine).send_pending() == 1
    (item,) = list_received(sink.maildir)
    monkeypatch.setenv("MAIL_SINK_DIR", str(sink.maildir))

    assert main(["mail", "list"]) == 0
    assert f"id   {item.key}" in capsys.readouterr().out

    assert main(["mail", "show", item.key[:12]]) == 0  # the start of the id is enough
    shown = capsys.readouterr().out
    assert f"id   {item.key}" in shown
    assert "Subject: Please verify your e-mail address for Customer Ltd" in shown
    assert "To: eve@customer.example" in shown and f"From: {sink_settings.mail_from}" in shown
    text = shown.split("-- text --")[1].split("-- links")[0]
    assert "Please confirm that this e-mail address is yours" in text
    links = shown.split("-- links (")[1].split("-- attachments")[0]
    assert links.startswith("1) --") and "https://prism.example/contacts/verify?token=abc" in links
    assert "terms.pdf  application/pdf  14 bytes" in shown.split("-- attachments (1) --")[1]


def test_an_unknown_message_id_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from prism_cli.main import main

    monkeypatch.setenv("MAIL_SINK_DIR", str(tmp_path / "mail"))
    assert main(["mail", "show", "1733212345.nope"]) == 2
    error = capsys.readouterr().err
    assert "no message with id '1733212345.nope'" in error and "prism mail list" in error
