"""The ConnectWise adapter's catalogue and directory against the simulator: catalog items as
services, subcategories as billing codes, companies and agreements in the pickers, and
ConnectWise's refusals as the port's errors. The product sync's rules on catalog items (texts
and their limits, prices, inactive items, clashes) are tested on both PSAs in
tests/integration/syncer/products."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from connectwise_sim import Fault, SimConfig
from connectwise_sim.entities import CATALOG, COMPANIES
from connectwise_sim.seed import (
    AGREEMENT_ID,
    CANCELLED_AGREEMENT_ID,
    CUSTOMER_IDS,
    EXISTING_ITEM_ID,
    INACTIVE_SUBCATEGORY_ID,
    PRODUCT_TYPE_ID,
    SECOND_AGREEMENT_ID,
    SUBCATEGORY_ID,
)
from prism_domain.sync import ConnectionProblem
from prism_psa.port import (
    ConnectionCheckFailed,
    NewService,
    PsaNameClash,
    PsaRuleError,
    PsaUnauthorized,
    PsaUnavailable,
)
from tests.support.connectwise import ConnectWise, connectwise

pytestmark = pytest.mark.integration

TODAY = date(2026, 2, 15)


@pytest.fixture
def cw() -> Iterator[ConnectWise]:
    with connectwise() as world:
        yield world


def new_service(name: str, **changes: object) -> NewService:
    fields: dict[str, object] = {
        "name": name,
        "description": "Widget seat",
        "invoice_description": "Widget seat, per user per month",
        "unit_price": Decimal("10.50"),
        "unit_cost": Decimal("7.25"),
        "billing_code_id": SUBCATEGORY_ID,
        "vendor_company_id": None,
    }
    return NewService(**(fields | changes))  # type: ignore[arg-type]


def test_a_new_service_is_of_the_first_active_product_type_and_read_back_by_id(
    cw: ConnectWise,
) -> None:
    """Its fields, texts, prices and subcategory the product sync's tests check on both PSAs
    (tests/integration/syncer/products)."""
    name = f"PC_sku_{uuid.uuid4().hex[:8]}"

    made = cw.psa.create_service(new_service(name, vendor_company_id=CUSTOMER_IDS[0]))

    item = cw.sim.record(CATALOG, made)
    assert item is not None
    assert item["type"]["id"] == PRODUCT_TYPE_ID and item["recurringFlag"] is True
    assert item["vendor"] == {"id": CUSTOMER_IDS[0], "identifier": "Acme", "name": "Acme Pty Ltd"}
    found = cw.psa.services_by_name([name.upper()])
    assert list(found) == [name.casefold()]
    service = found[name.casefold()]
    assert (service.id, service.unit_price, service.unit_cost, service.active) == (
        made,
        Decimal("10.5"),
        Decimal("7.25"),
        True,
    )
    assert service.invoice_description == "Widget seat, per user per month"
    assert cw.psa.services_by_id([made, 999_999]) == {made: service}
    assert cw.psa.service(made) == service and cw.psa.service(999_999) is None


def test_a_vendor_company_that_is_not_in_connectwise_is_refused(cw: ConnectWise) -> None:
    name = f"PC_sku_{uuid.uuid4().hex[:8]}"
    with pytest.raises(PsaRuleError, match="Company 999999 not found"):
        cw.psa.create_service(new_service(name, vendor_company_id=999_999))
    assert cw.psa.services_by_name([name]) == {}


def test_a_taken_identifier_is_a_name_clash(cw: ConnectWise) -> None:
    with pytest.raises(PsaNameClash):
        cw.psa.create_service(new_service("ms-365-bp"))


def test_many_names_are_read_in_few_requests(cw: ConnectWise) -> None:
    names = [f"PC_{i:03d}_{uuid.uuid4().hex}" for i in range(120)]
    for name in names[:3]:
        cw.psa.create_service(new_service(name))
    cw.sim.request_log.clear()

    found = cw.psa.services_by_name(names)

    assert sorted(found) == sorted(n.casefold() for n in names[:3])
    catalog_reads = [r for r in cw.reads() if r.endswith("procurement/catalog")]
    assert 1 < len(catalog_reads) <= 6  # URLs kept short, not one request per name


def test_billing_codes_are_the_active_subcategories(cw: ConnectWise) -> None:
    codes = cw.psa.recurring_billing_codes()

    assert [c.id for c in codes] == [SUBCATEGORY_ID]
    assert codes[0].name == "Cloud subscriptions" and codes[0].detail == "Software"
    assert INACTIVE_SUBCATEGORY_ID not in {c.id for c in codes}


def test_the_connection_check_names_the_api_and_each_refusal() -> None:
    with connectwise() as cw:
        assert cw.psa.check().endswith("/v2025_1/apis/3.0/")
    with connectwise(private_key="wrong") as cw, pytest.raises(ConnectionCheckFailed) as wrong:
        cw.psa.check()
    assert wrong.value.problem is ConnectionProblem.WRONG_SECRET
    with connectwise(company_id="nobody") as cw, pytest.raises(ConnectionCheckFailed) as company:
        cw.psa.check()
    assert company.value.problem is ConnectionProblem.UNKNOWN_USER
    with connectwise(client_id="unregistered") as cw, pytest.raises(ConnectionCheckFailed) as cid:
        cw.psa.check()
    assert cid.value.problem is ConnectionProblem.INVALID_INTEGRATION_CODE
    with connectwise() as cw, pytest.raises(ConnectionCheckFailed) as down:
        cw.sim.add_fault(Fault(503, path="system/info", times=10))
        cw.psa.check()
    assert down.value.problem is ConnectionProblem.UNREACHABLE


def test_refusals_mid_sync_are_the_ports_errors_without_credentials(cw: ConnectWise) -> None:
    cw.sim.deny("catalog", "POST")
    with pytest.raises(PsaUnauthorized) as denied:
        cw.psa.create_service(new_service("PC_denied"))
    assert denied.value.problem is ConnectionProblem.PERMISSION_DENIED
    assert "Security Roles" in str(denied.value)

    cw.sim.add_fault(Fault(429, path="procurement/catalog", times=50, headers={"Retry-After": "1"}))
    with pytest.raises(PsaUnavailable):
        cw.psa.services_by_id([EXISTING_ITEM_ID])

    with connectwise(private_key="sim-wrong-key") as other:
        with pytest.raises(PsaUnauthorized) as refused:
            other.psa.services_by_id([EXISTING_ITEM_ID])
        assert refused.value.problem is ConnectionProblem.WRONG_SECRET
        assert "sim-wrong-key" not in str(refused.value)
        assert "API Members" in str(refused.value)


def test_company_pickers_page_forward_by_id(cw: ConnectWise) -> None:
    cw.sim.edit(COMPANIES, CUSTOMER_IDS[1], deletedFlag=True)

    first = cw.psa.companies(None, first=2)
    rest = cw.psa.companies(None, first=2, after=first.choices[-1].id)

    assert first.has_more is True and rest.has_more is False
    ids = [c.id for c in first.choices + rest.choices]
    assert ids == sorted(ids) and CUSTOMER_IDS[1] not in ids and len(ids) == 3
    assert cw.psa.count_companies(None) == 3
    initech = cw.psa.companies('"west"')
    assert [c.name for c in initech.choices] == ['Initech "West"']
    assert cw.psa.count_companies("acme", vendors_only=True) == 1
    assert cw.psa.company(CUSTOMER_IDS[0]) is not None
    assert cw.psa.company(CUSTOMER_IDS[1]) is None and cw.psa.company(999_999) is None


def test_contract_pickers_list_agreements_in_force_that_prorate(cw: ConnectWise) -> None:
    ended = cw.add_agreement(end=date(2026, 1, 31))
    later = cw.add_agreement(start=date(2026, 3, 1))
    flat = cw.add_agreement(prorate=False)
    bounded = cw.add_agreement(end=date(2026, 12, 31), name="Acme bounded")

    page = cw.psa.recurring_contracts(None, None, today=TODAY)

    ids = [c.id for c in page.choices]
    assert ids == [AGREEMENT_ID, SECOND_AGREEMENT_ID, bounded]
    assert not {CANCELLED_AGREEMENT_ID, ended, later, flat} & set(ids)
    assert cw.psa.count_recurring_contracts(None, None, today=TODAY) == 3
    acme = cw.psa.recurring_contracts(CUSTOMER_IDS[0], "bounded", today=TODAY)
    assert [c.id for c in acme.choices] == [bounded] and acme.has_more is False
    assert cw.psa.count_recurring_contracts(CUSTOMER_IDS[1], None, today=TODAY) == 1


def test_contracts_say_whether_invoices_can_sync_to_them(cw: ConnectWise) -> None:
    flat = cw.add_agreement(prorate=False)
    bounded = cw.add_agreement(start=date(2026, 1, 1), end=date(2026, 12, 31))

    found = cw.psa.contracts_by_id([AGREEMENT_ID, CANCELLED_AGREEMENT_ID, flat, bounded, 9])

    assert set(found) == {AGREEMENT_ID, CANCELLED_AGREEMENT_ID, flat, bounded}
    assert found[AGREEMENT_ID].active and found[AGREEMENT_ID].recurring
    assert found[AGREEMENT_ID].start == date(2025, 1, 1) and found[AGREEMENT_ID].end is None
    assert not found[CANCELLED_AGREEMENT_ID].active
    assert found[CANCELLED_AGREEMENT_ID].end == date(2025, 11, 29)
    assert found[flat].active and not found[flat].recurring
    assert (found[bounded].start, found[bounded].end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_oversize_settings_do_not_matter_to_reads() -> None:
    """Reads never ask for more than ConnectWise serves, whatever it does with more."""
    with connectwise(SimConfig(oversize_page="400")) as cw:
        assert len(cw.psa.companies(None, first=500).choices) == 4
