"""S8 notices (failed runs, price changes) and the product sync's recovery from a crash
between the PSA's create and our commit (S3, S10), on each PSA (`psa_side`): services are
Autotask's services or ConnectWise's catalog items."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.catalogue import ProductPriceChanged
from prism_domain.sync import SyncTrigger
from prism_platform.mail import MailMessage
from prism_syncer.inbox import process_event
from prism_syncer.invoices.notices import Links
from prism_syncer.products.handlers import product_handlers, run_product_sync
from prism_tables.sync.products import ProductServiceLink, ProductSyncRun, ProductSyncRunItem
from tests.integration.syncer.invoices.support import World
from tests.support.psa import add_product, set_price
from tests.support.sides import PsaSide

pytestmark = pytest.mark.integration


@pytest.fixture
def world(database_url: str, sync_engine: Engine, psa_side: PsaSide) -> World:
    return World.create(sync_engine, psa_side, skus=("E3",))


def services(world: World) -> dict[str, int]:
    """The PSA's services (catalog items) by name, name -> id."""
    return world.side.services_by_name()


def product_run(world: World) -> ProductSyncRun:
    with Session(world.engine) as session, session.begin():
        run = run_product_sync(
            session, world.side.config(), world.partner, world.program, SyncTrigger.MANUAL
        )
        assert run is not None
        session.expunge(run)
        return run


def mails(world: World) -> list[MailMessage]:
    with Session(world.engine) as session:
        rows = session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        session.expunge_all()
        return list(rows)


def test_a_service_created_by_a_sync_that_crashed_before_its_commit_is_adopted(
    world: World,
) -> None:
    product = add_product(world.engine, world.program, "CRASHED-1", description="Visio Plan 2")
    # The sync creates the service in the PSA, then dies before committing its link.
    with Session(world.engine) as session:
        session.begin()
        run_product_sync(
            session, world.side.config(), world.partner, world.program, SyncTrigger.MANUAL
        )
        session.rollback()
    assert "PC_CRASHED-1" in services(world)
    count = len(services(world))

    run = product_run(world)

    assert run.status in ("SUCCESS", "NO_CHANGE")
    assert len(services(world)) == count  # no second service, no name clash
    with Session(world.engine) as session:
        link = session.scalar(
            select(ProductServiceLink).where(ProductServiceLink.product_id == product)
        )
        item = session.scalar(
            select(ProductSyncRunItem).where(
                ProductSyncRunItem.run_id == run.id, ProductSyncRunItem.sku == "CRASHED-1"
            )
        )
    assert link is not None and link.service_id == services(world)["PC_CRASHED-1"]
    assert item is not None and item.outcome != "ERROR"
    assert "interrupted" in (item.message or "")


def test_a_pc_service_a_person_made_is_still_a_name_clash_and_the_failure_is_mailed(
    world: World,
) -> None:
    add_product(world.engine, world.program, "HANDMADE-1", description="From the price list")
    world.side.make_service_by_hand("PC_HANDMADE-1")
    handlers = product_handlers(world.side.config(), Links("https://prism.example"))
    from prism_domain.sync import ProductSyncRequested

    event = ProductSyncRequested(
        aggregate_id=str(world.program), partner_id=world.partner, program_id=world.program
    ).envelope()
    process_event(world.engine, event.to_dict(), handlers)
    process_event(world.engine, event.to_dict(), handlers)  # redelivered: no second mail

    with Session(world.engine) as session:
        run = session.scalars(select(ProductSyncRun).order_by(ProductSyncRun.id.desc())).first()
    assert run is not None and run.status == "FAILURE"
    sent = [m for m in mails(world) if m.idempotency_key == f"sync:product-run:{run.id}:failed"]
    assert len(sent) == 1
    assert f"https://prism.example/psa-sync/product-runs/{run.id}" in sent[0].text_body
    assert "PC_HANDMADE-1" in sent[0].text_body and sent[0].html_body


def test_a_price_list_import_mails_one_price_change_warning(world: World) -> None:
    second = add_product(world.engine, world.program, "PRICE-2")
    world.product_sync()
    set_price(world.engine, world.products["E3"], buy="9.00", rrp="10.00", day=date(2026, 2, 1))
    set_price(world.engine, second, buy="19.00", rrp="21.00", day=date(2026, 2, 1))
    handlers = product_handlers(world.side.config(), Links())
    events = [
        ProductPriceChanged(
            aggregate_id=str(pid),
            program_id=world.program,
            sku=sku,
            currency="AUD",
            effective_from="2026-02-01",
            old_buy_price="8.10",
            old_rrp="9.00",
            new_buy_price=buy,
            new_rrp=rrp,
        ).envelope()
        for pid, sku, buy, rrp in (
            (world.products["E3"], world.sku("E3"), "9.00", "10.00"),
            (second, "PRICE-2", "19.00", "21.00"),
        )
    ]

    for event in events:
        process_event(world.engine, event.to_dict(), handlers)

    warnings = [m for m in mails(world) if m.template == "price_change_warning"]
    assert len(warnings) == 1
    assert warnings[0].to_addresses == ["ops@partner.example"]
    assert world.sku("E3") in warnings[0].text_body and "PRICE-2" in warnings[0].text_body
    assert "2 products" in warnings[0].subject
