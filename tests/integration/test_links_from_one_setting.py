"""Every link in every mail comes from one setting (S8): PUBLIC_URL, by default the address the
API listens on (http://HOST:PORT), read the same way by the API, the sync worker and the CLI.

The worker's mails (a failed sync, a price change) and the API's (an invitation) are made
through each process's own wiring from the environment, as `prism worker` and `prism graph`
build it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import dramatiq
import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_domain.catalogue import ProductPriceChanged
from prism_domain.sync import ProductSyncRequested
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from prism_platform.links import Links, default_public_url
from prism_platform.mail import MailMessage
from prism_platform.settings import ConfigError, load_settings
from prism_syncer.handlers import handlers_for
from prism_syncer.inbox import process_event
from prism_syncer.settings import SyncerSettings
from prism_tables.sync.products import ProductSyncRun
from tests.conftest import FAST_HASHING
from tests.integration.syncer.invoices.support import World
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, make_tenants
from tests.support.psa import RECURRING_CODE_ID, TEST_SECRET_KEY, add_product, probe_url, set_price

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://[^\s\"'<>]+")
LINK_ENV = ("HOST", "PORT", "PUBLIC_URL", "PORTAL_URL")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in LINK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8100")
    yield monkeypatch


def links_in(message: MailMessage) -> list[str]:
    return LINK.findall(message.text_body) + LINK.findall(message.html_body or "")


def mails(engine: Engine, template: str) -> list[MailMessage]:
    with Session(engine) as session:
        rows = session.scalars(
            select(MailMessage).where(MailMessage.template == template).order_by(MailMessage.id)
        ).all()
        session.expunge_all()
        return list(rows)


def worker_mails(database_url: str, engine: Engine, autotask: SimHandle) -> list[MailMessage]:
    """A failed product sync and a price change, handled by the worker's own handlers."""
    settings = load_settings(
        SyncerSettings,
        database_url=database_url,
        prism_env="test",
        autotask_zone_probe_url=probe_url(autotask),
        secret_key=TEST_SECRET_KEY,  # the key the test connection's credentials are sealed with
    )
    handlers = handlers_for(settings)
    world = World.create(engine, autotask, skus=("E3",))
    # A price change of a synced product: one warning.
    set_price(engine, world.products["E3"], buy="9.00", rrp="10.00", day=date(2026, 2, 1))
    changed = ProductPriceChanged(
        aggregate_id=str(world.products["E3"]),
        program_id=world.program,
        sku=world.sku("E3"),
        currency="AUD",
        effective_from="2026-02-01",
        old_buy_price="8.10",
        old_rrp="9.00",
        new_buy_price="9.00",
        new_rrp="10.00",
    ).envelope()
    process_event(engine, changed.to_dict(), handlers)
    # A name clash with a service somebody made by hand: the run fails, and says so.
    add_product(engine, world.program, "HANDMADE-8", description="From the price list")
    autotask.sim.rules.create(
        "Services",
        {
            "name": "PC_HANDMADE-8",
            "description": "Our own bundle",
            "billingCodeID": RECURRING_CODE_ID,
            "periodType": 1,
            "unitPrice": 10,
        },
    )
    requested = ProductSyncRequested(
        aggregate_id=str(world.program), partner_id=world.partner, program_id=world.program
    ).envelope()
    process_event(engine, requested.to_dict(), handlers)
    with Session(engine) as session:
        runs = session.execute(select(ProductSyncRun.trigger, ProductSyncRun.status)).all()
    assert {(str(t), str(s)) for t, s in runs} >= {("PRICE_CHANGED", "SUCCESS")}, runs
    assert any(str(s) == "FAILURE" for _, s in runs), runs
    sent = mails(engine, "sync_failed") + mails(engine, "price_change_warning")
    assert {m.template for m in sent} == {"sync_failed", "price_change_warning"}
    return sent


INVITE = """
mutation($input: InviteUserInput!) { inviteUser(input: $input) { errors { code message } } }
"""


async def invitation_mail(database: Database, broker: dramatiq.Broker, engine: Engine) -> Any:
    """An invitation, sent by the API as `prism graph` builds it from the environment."""
    settings = load_settings(GraphSettings, prism_env="test", **FAST_HASHING)
    app = create_app(settings, database=database, broker=broker)
    tenants: Tenants = await make_tenants(database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        admin = GraphQLClient(http).as_(tenants.a.admin)
        data = await admin.data(
            INVITE,
            {"input": {"email": "new@partner-a.example", "displayName": "New", "role": "MEMBER"}},
        )
    assert data["inviteUser"]["errors"] == []
    (mail,) = mails(engine, "user_invitation")
    return mail


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        (None, "http://127.0.0.1:8100/"),
        ("https://prism.example.com/", "https://prism.example.com/"),
    ],
    ids=["default-from-port", "public-url"],
)
async def test_every_mail_links_to_the_one_public_url(
    environment: pytest.MonkeyPatch,
    public_url: str | None,
    expected: str,
    database_url: str,
    database: Database,
    broker: dramatiq.Broker,
    sync_engine: Engine,
    autotask: SimHandle,
) -> None:
    if public_url is not None:
        environment.setenv("PUBLIC_URL", public_url)
    environment.setenv("DATABASE_URL", database_url)

    sent = [*worker_mails(database_url, sync_engine, autotask)]
    sent.append(await invitation_mail(database, broker, sync_engine))

    for mail in sent:
        links = links_in(mail)
        assert links, mail.template
        assert all(link.startswith(expected) for link in links), (mail.template, links)
    by_template = {m.template: links_in(m) for m in sent}
    assert any("/psa-sync/product-runs/" in link for link in by_template["sync_failed"])
    assert any("/psa-sync/product-runs/" in link for link in by_template["price_change_warning"])
    assert any("/accept-invitation?token=" in link for link in by_template["user_invitation"])


def test_a_portal_url_moves_only_the_portal_screens(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("PORTAL_URL", "https://portal.example.com/app/")
    links = load_settings(SyncerSettings).links
    assert links.public_url == "http://127.0.0.1:8100"
    assert links.invoice_run(7) == "https://portal.example.com/app/psa-sync/invoice-runs/7"
    assert links.usage_reports() == "https://portal.example.com/app/usage-reports"
    assert links.rfi("t") == "http://127.0.0.1:8100/rfi?token=t"  # Prism's own page
    assert load_settings(GraphSettings).links == links  # the same in every process


def test_the_default_rule() -> None:
    assert Links().public_url == default_public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert default_public_url("0.0.0.0", 8100) == "http://127.0.0.1:8100"
    assert default_public_url("::1", 8100) == "http://[::1]:8100"
    assert Links("https://p.example/").contact_verification("a b") == (
        "https://p.example/contacts/verify?token=a%20b"
    )


@pytest.mark.parametrize("name", ["PUBLIC_URL", "PORTAL_URL"])
def test_a_url_that_cannot_be_a_base_is_refused_at_start(
    environment: pytest.MonkeyPatch, name: str
) -> None:
    environment.setenv(name, "prism.example.com")
    with pytest.raises(ConfigError, match=name):
        load_settings(SyncerSettings)
