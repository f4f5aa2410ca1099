"""Every client operation, replayed from cassettes recorded against the simulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from autotask_client import (
    Company,
    ContractService,
    ContractServiceAdjustment,
    Service,
)
from autotask_client import query as q
from autotask_sim.seed import (
    CUSTOMER_IDS,
    EXISTING_SERVICE_ID,
    RECURRING_CODE_ID,
    RECURRING_CONTRACT_ID,
)

pytestmark = pytest.mark.contract


def test_zone_version_and_threshold(recorded) -> None:
    c = recorded.client
    zone = c.zone()
    assert zone.url == "https://webservices2.autotask.net/ATServicesRest/"
    assert c.base_url() == "https://webservices2.autotask.net/ATServicesRest/V1.0/"
    assert c.version_information() == ["1.0"]
    assert c.version().major_version
    threshold = c.test_connection()
    assert threshold.external_request_threshold == 10000
    assert threshold.request_threshold_timeframe == 60


def test_companies(recorded) -> None:
    companies = recorded.client.companies
    customers = list(companies.query(q.eq("companyType", 1), q.eq("isActive", True)))
    assert [c.id for c in customers] == list(CUSTOMER_IDS)
    assert companies.count(q.eq("companyType", 1)) == 3
    own = companies.get(0)
    assert own is not None and own.company_name
    assert companies.first(q.contains("companyName", "wind")) is not None
    new_id = companies.create(
        Company(
            company_name="Woodgrove Bank",
            company_type=1,
            phone="+61 2 5550 0199",
            owner_resource_id=29682885,
        )
    )
    assert companies.update(new_id, {"phone": "+61 2 5550 0200"}) == new_id
    created = companies.get(new_id)
    assert created is not None and created.phone == "+61 2 5550 0200"
    created.city = "Perth"
    assert companies.replace(created) == new_id
    assert companies.info().can_create
    assert companies.fields().value_for("companyType", "customer") == 1
    assert [u.name for u in companies.user_defined_fields()] == ["Number of Employees"]


def test_contracts_and_billing_codes(recorded) -> None:
    c = recorded.client
    fields = c.contracts.fields()
    recurring = fields.value_for("contractType", "Recurring Service")
    active = fields.value_for("status", "Active")
    contracts = list(
        c.contracts.query(
            q.eq("contractType", recurring),
            q.eq("status", active),
            q.eq("companyID", CUSTOMER_IDS[0]),
        )
    )
    assert [k.id for k in contracts] == [RECURRING_CONTRACT_ID]
    contract = c.contracts.get(RECURRING_CONTRACT_ID)
    assert contract is not None and contract.start_date is not None
    assert contract.start_date == date(2024, 1, 1)  # a day field: the date it names
    code_fields = c.billing_codes.fields()
    use_type = code_fields.value_for("useType", "recurring contract service code")
    codes = list(c.billing_codes.query(q.eq("useType", use_type), q.eq("isActive", True)))
    assert [b.id for b in codes] == [RECURRING_CODE_ID]
    assert c.billing_codes.get(RECURRING_CODE_ID) is not None
    assert (
        c.contracts.update(RECURRING_CONTRACT_ID, {"description": "synced by Prism"})
        == RECURRING_CONTRACT_ID
    )


def test_services(recorded) -> None:
    services = recorded.client.services
    fields = services.fields()
    assert fields.max_length("description") == 400
    sid = services.create(
        Service(
            name="PC_sku_1357",
            description="Microsoft 365 Business Premium"[: fields.max_length("description")],
            billing_code_id=RECURRING_CODE_ID,
            period_type=fields.value_for("periodType", "Monthly"),
            unit_price=Decimal("32.90"),
            unit_cost=Decimal("26.32"),
        )
    )
    assert services.update(sid, {"unitPrice": 33.5, "unitCost": 27.1}) == sid
    service = services.get(sid)
    assert service is not None and service.unit_price == Decimal("33.5") and service.is_active
    assert [s.id for s in services.query(q.begins_with("name", "PC_"))] == [sid]
    assert services.count(q.in_("id", [sid, EXISTING_SERVICE_ID])) == 2
    service.invoice_description = "M365 BP"
    assert services.replace(service) == sid


def test_contract_services_adjustments_and_units(recorded) -> None:
    c = recorded.client
    sid = c.services.create(
        Service(
            name="PC_sku_2468",
            billing_code_id=RECURRING_CODE_ID,
            period_type=1,
            unit_price=10,
            unit_cost=6,
        )
    )
    cs_id = c.contract_services.create(
        RECURRING_CONTRACT_ID, ContractService(service_id=sid, unit_price=11)
    )
    assert (
        c.contract_services.update(RECURRING_CONTRACT_ID, cs_id, {"invoiceDescription": "Seats"})
        == cs_id
    )
    assert [s.id for s in c.contract_services.for_contract(RECURRING_CONTRACT_ID)] == [cs_id]
    assert c.contract_services.get(cs_id) is not None
    assert c.contract_services.count(q.eq("contractID", RECURRING_CONTRACT_ID)) == 1

    for units, day in ((5, date(2024, 1, 1)), (2, date(2024, 1, 15))):
        adj = ContractServiceAdjustment(
            contract_id=RECURRING_CONTRACT_ID, service_id=sid, unit_change=units, effective_date=day
        )
        assert c.contract_service_adjustments.create(adj) is not None
    assert c.contract_service_adjustments.fields().field("unitChange").is_required

    january = list(
        c.contract_service_units.query(
            q.eq("contractServiceID", cs_id), q.lt("startDate", date(2024, 2, 1))
        )
    )
    assert [(u.units, u.start_date.day, u.end_date.day) for u in january] == [
        (5, 1, 14),
        (7, 15, 31),
    ]
    assert c.contract_service_units.get(january[0].id) is not None
    in_force = c.contract_service_units.in_force(cs_id, date(2024, 1, 20))
    assert in_force is not None and in_force.units == 7
    all_units = list(c.contract_service_units.for_contract(RECURRING_CONTRACT_ID))
    assert len(all_units) == c.contract_service_units.count(
        q.eq("contractID", RECURRING_CONTRACT_ID)
    )


def test_paging_across_500_records(recorded) -> None:
    def bulk(sim) -> None:
        with sim.store.transaction():
            for i in range(5000, 5620):
                record = sim.rules.blank("Companies")
                record.update(
                    {"id": i, "companyName": f"Bulk {i}", "companyType": 3, "isActive": True}
                )
                sim.store.put("Companies", record)

    recorded.backdoor(bulk)
    companies = recorded.client.companies
    prospects = q.query(q.eq("companyType", 3), include=["companyName"])
    assert len(list(companies.query(prospects))) == 620
    assert len(list(companies.query_by_id_cursor(prospects))) == 620
    assert (
        len(list(companies.query(q.query(q.in_("id", range(5000, 5620)), include=["id"])))) == 620
    )
