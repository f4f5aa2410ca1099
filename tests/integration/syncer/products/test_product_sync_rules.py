"""S3 and S7 against the Autotask simulator: the product sync's rules, one test each."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_domain.sync import SyncTrigger
from prism_syncer.products.handlers import run_product_sync
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.sync.connections import PsaConnection
from prism_tables.sync.products import ProductServiceLink, ProductSyncRun, ProductSyncRunItem
from tests.support.psa import (
    RECURRING_CODE_ID,
    add_partner,
    add_product,
    add_program,
    configure,
    connect,
    psa_config,
    set_price,
)

pytestmark = pytest.mark.integration


def sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


def run(engine: Engine, autotask: SimHandle, partner: int, program: int) -> ProductSyncRun:
    with Session(engine) as session, session.begin():
        result = run_product_sync(
            session, psa_config(autotask), partner, program, SyncTrigger.MANUAL
        )
        assert result is not None
        session.expunge(result)
        return result


def items(engine: Engine, run_id: int) -> dict[str, ProductSyncRunItem]:
    with Session(engine) as session:
        rows = session.scalars(
            select(ProductSyncRunItem).where(ProductSyncRunItem.run_id == run_id)
        ).all()
        return {r.sku: r for r in rows}


def services(autotask: SimHandle) -> dict[str, dict]:  # type: ignore[type-arg]
    return {str(r["name"]): dict(r) for r in autotask.sim.records("Services")}


def writes(autotask: SimHandle) -> list[str]:
    return [
        f"{method} {path}"
        for method, path, _ in autotask.sim.request_log
        if method in ("POST", "PATCH", "PUT") and not path.endswith("/query")
    ]


@pytest.fixture
def partner(database_url: str, sync_engine: Engine) -> int:
    partner_id = add_partner(sync_engine)
    connect(sync_engine, partner_id)
    return partner_id


@pytest.fixture
def program(partner: int, sync_engine: Engine) -> int:
    program_id = add_program(sync_engine)
    configure(sync_engine, partner, program_id)
    return program_id


def test_first_sync_creates_one_pc_service_per_product_at_rrp_and_buy_price(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    # given two products on the price list
    a, b = sku(), sku()
    add_product(sync_engine, program, a, buy="8.10", rrp="9.00")
    add_product(sync_engine, program, b, buy="20.00", rrp="25.50")

    # when the products are synced
    result = run(sync_engine, autotask, partner, program)

    # then each has an active PC_ service with RRP as price and buy price as cost
    created = services(autotask)
    assert float(created[f"PC_{a}"]["unitPrice"]) == 9.0
    assert float(created[f"PC_{a}"]["unitCost"]) == 8.1
    assert float(created[f"PC_{b}"]["unitPrice"]) == 25.5
    assert created[f"PC_{b}"]["isActive"] is True
    assert created[f"PC_{b}"]["billingCodeID"] == RECURRING_CODE_ID
    assert (result.status, result.created, result.products_synced) == ("SUCCESS", 2, 2)
    assert {i.outcome for i in items(sync_engine, result.id).values()} == {"SUCCESS"}


def test_a_second_sync_with_nothing_changed_writes_nothing(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    add_product(sync_engine, program, sku())
    add_product(sync_engine, program, sku())
    run(sync_engine, autotask, partner, program)
    autotask.sim.request_log.clear()

    result = run(sync_engine, autotask, partner, program)

    assert result.status == "NO_CHANGE"
    assert (result.unchanged, result.products_synced) == (2, 0)
    assert writes(autotask) == []
    # reads are minimal too: one query for the linked services (the zone lookup is free)
    counted = [p for _, p, _ in autotask.sim.request_log if not p.endswith("ZoneInformation")]
    assert counted == ["/ATServicesRest/V1.0/Services/query"]


def test_later_syncs_change_only_price_and_cost_by_service_id_and_keep_renames(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.10", rrp="9.00")
    run(sync_engine, autotask, partner, program)
    service = services(autotask)[f"PC_{code}"]
    # the partner renames the service and edits its description in Autotask
    autotask.sim.edit("Services", service["id"], name="Office basic", description="mine")
    set_price(sync_engine, product, buy="8.50", rrp="9.90", day=date(2026, 2, 1))
    autotask.sim.request_log.clear()

    result = run(sync_engine, autotask, partner, program)

    after = autotask.sim.record("Services", service["id"])
    assert after is not None
    assert (after["name"], after["description"]) == ("Office basic", "mine")
    assert (float(after["unitPrice"]), float(after["unitCost"])) == (9.9, 8.5)
    assert result.status == "SUCCESS" and result.updated == 1
    assert writes(autotask) == ["PATCH /ATServicesRest/V1.0/Services"]


def test_a_price_change_of_one_millionth_reaches_the_psa(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    # given a synced product priced to six decimals
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.123456", rrp="9.123456")
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    set_price(sync_engine, product, buy="8.123456", rrp="9.123457", day=date(2026, 2, 1))

    # when the RRP moves by 0.000001 and products are synced
    result = run(sync_engine, autotask, partner, program)

    # then the service gets the new price
    after = autotask.sim.record("Services", service_id)
    assert after is not None and float(after["unitPrice"]) == 9.123457
    assert result.status == "SUCCESS" and result.updated == 1


@pytest.mark.parametrize(
    ("rrp", "held_as"),
    [
        # Autotask keeps a double and may print it in full
        ("9.123456", 9.123455999999999),
        # 20 significant digits: no double holds it, the PSA keeps the nearest one
        ("12345678901234.123456", 12345678901234.123),
    ],
)
def test_a_price_the_psa_holds_as_its_double_is_not_written_again(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int, rrp: str, held_as: float
) -> None:
    # given a synced product whose price the PSA holds as a double
    code = sku()
    add_product(sync_engine, program, code, buy="1.000001", rrp=rrp)
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.edit("Services", service_id, unitPrice=held_as)
    autotask.sim.request_log.clear()

    # when products are synced again, twice
    first = run(sync_engine, autotask, partner, program)
    second = run(sync_engine, autotask, partner, program)

    # then nothing is written: no endless updates
    assert (first.status, second.status) == ("NO_CHANGE", "NO_CHANGE")
    assert writes(autotask) == []


def test_a_service_deleted_in_autotask_is_recreated(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    old = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.delete("Services", old)

    result = run(sync_engine, autotask, partner, program)

    new = services(autotask)[f"PC_{code}"]["id"]
    assert new != old
    assert items(sync_engine, result.id)[code].action == "RECREATE"
    with Session(sync_engine) as session:
        assert session.scalar(select(ProductServiceLink.service_id)) == new


def test_an_inactive_service_stays_inactive_but_its_price_is_kept_up_to_date(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.deactivate_service(service_id)
    set_price(sync_engine, product, buy="1.00", rrp="2.00", day=date(2026, 3, 1))

    run(sync_engine, autotask, partner, program)

    after = autotask.sim.record("Services", service_id)
    assert after is not None and after["isActive"] is False
    assert float(after["unitPrice"]) == 2.0


def test_a_product_gone_from_the_price_list_never_deletes_its_service(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    with Session(sync_engine) as session, session.begin():
        from prism_tables.catalogue import Product

        row = session.get(Product, product)
        assert row is not None
        row.retired = True

    result = run(sync_engine, autotask, partner, program)

    assert f"PC_{code}" in services(autotask)
    assert services(autotask)[f"PC_{code}"]["isActive"] is True
    assert items(sync_engine, result.id)[code].action == "SKIP"


def test_a_name_taken_by_a_service_prism_did_not_create_is_an_item_error_with_the_fix(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    taken, free = sku(), sku()
    add_product(sync_engine, program, taken)
    add_product(sync_engine, program, free)
    # someone created PC_<sku> by hand before Prism's first sync
    run_one = psa_config(autotask).autotask
    from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
    from prism_domain.sync import Credentials

    psa = run_one(Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE))
    from decimal import Decimal

    from prism_psa.port import NewService

    psa.create_service(
        NewService(
            f"PC_{taken}", "by hand", "by hand", Decimal(1), Decimal(1), RECURRING_CODE_ID, None
        )
    )

    result = run(sync_engine, autotask, partner, program)

    item = items(sync_engine, result.id)[taken]
    assert item.outcome == "ERROR"
    assert item.message is not None
    assert f"PC_{taken}" in item.message and "Rename or delete that service" in item.message
    assert items(sync_engine, result.id)[free].outcome == "SUCCESS"  # the others go on
    assert (result.status, result.failed, result.created) == ("FAILURE", 1, 1)


def test_long_texts_are_truncated_to_400_and_1000_with_a_warning(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, description="x" * 1500)

    result = run(sync_engine, autotask, partner, program)

    created = services(autotask)[f"PC_{code}"]
    assert len(created["description"]) == 400
    assert len(created["invoiceDescription"]) == 1000
    item = items(sync_engine, result.id)[code]
    assert item.outcome == "WARNING" and "truncated" in (item.message or "")
    assert result.status == "WARNING"


def test_in_use_mode_syncs_only_products_on_the_invoices_of_synced_customers(
    sync_engine: Engine, autotask: SimHandle, partner: int
) -> None:
    program = add_program(sync_engine)
    configure(sync_engine, partner, program, mode="IN_USE")
    used, unused, unmapped, off = sku(), sku(), sku(), sku()
    for code in (used, unused, unmapped, off):
        add_product(sync_engine, program, code)
    add_invoice_line(sync_engine, partner, program, used)
    add_invoice_line(sync_engine, partner, program, unmapped, mapping=None)  # S4: not mapped
    add_invoice_line(sync_engine, partner, program, off, mapping=False)  # S9: sync off

    run(sync_engine, autotask, partner, program)

    names = services(autotask)
    assert f"PC_{used}" in names
    assert not {f"PC_{unused}", f"PC_{unmapped}", f"PC_{off}"} & names.keys()


def test_a_retired_product_still_invoiced_asks_for_a_mapping_by_hand(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, retired=True)
    add_invoice_line(sync_engine, partner, program, code)

    result = run(sync_engine, autotask, partner, program)

    item = items(sync_engine, result.id)[code]
    assert item.outcome == "ERROR" and "map the product to it by hand" in (item.message or "")
    assert f"PC_{code}" not in services(autotask)


def test_a_wrong_secret_fails_the_run_with_the_unauthorised_action(
    sync_engine: Engine, autotask: SimHandle, database_url: str
) -> None:
    partner = add_partner(sync_engine)
    connect(sync_engine, partner, secret="changed-since")
    program = add_program(sync_engine)
    configure(sync_engine, partner, program)
    add_product(sync_engine, program, sku())

    result = run(sync_engine, autotask, partner, program)

    assert result.status == "FAILURE"
    assert "uncheck Locked" in (result.message or "")
    with Session(sync_engine) as session:
        connection = session.scalars(select(PsaConnection)).one()
    assert (connection.status, connection.problem) == ("FAILING", "WRONG_SECRET")
    assert connection.status_message == result.message


def test_a_disabled_program_is_not_synced(
    sync_engine: Engine, autotask: SimHandle, partner: int
) -> None:
    program = add_program(sync_engine)
    configure(sync_engine, partner, program, enabled=False)
    add_product(sync_engine, program, sku())

    with Session(sync_engine) as session, session.begin():
        assert (
            run_product_sync(session, psa_config(autotask), partner, program, SyncTrigger.MANUAL)
            is None
        )
    assert services(autotask).keys() == {"Desktop Maintenance"}


def add_invoice_line(
    engine: Engine, partner: int, program: int, code: str, *, mapping: bool | None = True
) -> None:
    """An invoice line of `code` for a new customer, mapped to a PSA contract with sync on
    (`mapping=True`), off (False), or not mapped (None)."""
    from decimal import Decimal

    from prism_tables.customers import Customer
    from prism_tables.sync.connections import CustomerMapping

    with Session(engine) as session, session.begin():
        customer = Customer(
            owner_id=partner,
            name=f"C {uuid.uuid4().hex[:6]}",
            name_key=uuid.uuid4().hex,
            domain=None,
            status="ACTIVE",
        )
        session.add(customer)
        session.flush()
        invoice = Invoice(
            key=uuid.uuid4().hex,
            partner_id=partner,
            program_id=program,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            currency="AUD",
            total=Decimal("9.00"),
        )
        session.add(invoice)
        session.flush()
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=1,
                customer_id=customer.id,
                sku=code,
                kind="SUBSCRIPTION",
                billing_term="MONTHLY",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 1, 31),
                quantity=Decimal(1),
                unit_cost=Decimal("8.10"),
                unit_price=Decimal("9.00"),
                amount=Decimal("9.00"),
            )
        )
        if mapping is not None:
            session.add(
                CustomerMapping(
                    partner_id=partner,
                    program_id=program,
                    customer_id=customer.id,
                    company_id=175,
                    company_name="Contoso Pty Ltd",
                    contract_id=29683001,
                    contract_name="Contoso Managed Services",
                    sync_enabled=mapping,
                )
            )


def test_a_create_whose_answer_is_lost_is_found_by_name_and_linked_not_repeated(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    from autotask_sim import Fault

    code = sku()
    add_product(sync_engine, program, code)
    # Autotask creates the service, then the answer is lost (502)
    autotask.sim.add_fault(Fault("lost_response", method="POST", path=r"/Services$", status=502))

    result = run(sync_engine, autotask, partner, program)

    matching = [name for name in services(autotask) if name == f"PC_{code}"]
    assert matching == [f"PC_{code}"]
    assert (result.status, result.created) == ("SUCCESS", 1)
    again = run(sync_engine, autotask, partner, program)
    assert again.status == "NO_CHANGE"


def test_a_burst_of_price_changes_costs_one_run(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    from datetime import UTC, datetime

    from prism_domain.catalogue import ProductPriceChanged
    from prism_syncer.products.handlers import product_handlers

    products = [add_product(sync_engine, program, sku()) for _ in range(3)]
    handle = product_handlers(psa_config(autotask))[ProductPriceChanged.type]
    changed_at = datetime.now(UTC)
    events = [
        ProductPriceChanged(
            aggregate_id=str(p),
            occurred_at=changed_at,
            program_id=program,
            sku="x",
            currency="AUD",
            effective_from="2026-01-01",
            old_buy_price=None,
            old_rrp=None,
            new_buy_price="8.10",
            new_rrp="9.00",
        ).envelope()
        for p in products
    ]

    for envelope in events:
        with Session(sync_engine) as session, session.begin():
            handle(session, envelope)

    with Session(sync_engine) as session:
        runs = session.scalars(select(ProductSyncRun.trigger)).all()
    assert runs == ["PRICE_CHANGED"]
    assert len([n for n in services(autotask) if n.startswith("PC_")]) == 3
