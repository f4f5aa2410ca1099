"""Demo data: what a partner's Autotask holds before Prism syncs anything.

Fixed dates and ids, so recordings made against a fresh simulator are repeatable.
"""

from __future__ import annotations

from typing import Any

from .metadata import (
    ADJUSTMENTS,
    BILLING_CODES,
    COMPANIES,
    CONTRACT_SERVICES,
    CONTRACTS,
    ID_START,
    SERVICES,
)
from .rules import Rules

# Stable ids other code and docs can name.
OWN_COMPANY_ID = 0
VENDOR_COMPANY_ID = 174
CUSTOMER_IDS = (175, 176, 177)
RECURRING_CODE_ID = 29682801
INACTIVE_RECURRING_CODE_ID = 29682802
GENERAL_CODE_ID = 29682803
RECURRING_CONTRACT_ID = 29683001
SECOND_RECURRING_CONTRACT_ID = 29683002
INACTIVE_CONTRACT_ID = 29683003
EXPIRED_CONTRACT_ID = 29683004
TM_CONTRACT_ID = 29683005
EXISTING_SERVICE_ID = 29683401


def _company(id: int, name: str, company_type: int) -> dict[str, Any]:
    return {
        "id": id,
        "companyName": name,
        "companyNumber": f"C{id:05d}",
        "companyType": company_type,
        "phone": "+61 2 5550 0100",
        "ownerResourceID": 29682885,
        "isActive": True,
        "createDate": "2023-07-01T09:30:00",
        "city": "Sydney",
        "countryID": 14,
    }


def _contract(
    id: int, company: int, name: str, ctype: int, status: int, start: str, end: str
) -> dict[str, Any]:
    return {
        "id": id,
        "companyID": company,
        "contractName": name,
        "contractNumber": f"K-{id}",
        "contractType": ctype,
        "contractCategory": 1,
        "contractPeriodType": 1,
        "status": status,
        "startDate": f"{start}T00:00:00",
        "endDate": f"{end}T00:00:00",
        "isDefaultContract": False,
        "lastModifiedDateTime": "2023-07-01T09:30:00",
    }


def _billing_code(id: int, name: str, use_type: int, active: bool) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "description": name,
        "externalNumber": None,
        "billingCodeType": 0,
        "useType": use_type,
        "isActive": active,
        "isExcludedFromNewContracts": False,
        "unitPrice": None,
        "unitCost": None,
        "markupRate": None,
        "afterHoursWorkType": None,
        "department": None,
        "generalLedgerAccount": None,
        "taxCategoryID": None,
    }


def seed(rules: Rules) -> None:
    store = rules.store
    with store.transaction():
        rows: list[tuple[str, dict[str, Any]]] = [
            (COMPANIES, _company(OWN_COMPANY_ID, "Prism Demo MSP (own company)", 8)),
            (COMPANIES, _company(VENDOR_COMPANY_ID, "rhipe - Cloud Services", 7)),
            (COMPANIES, _company(CUSTOMER_IDS[0], "Contoso Pty Ltd", 1)),
            (COMPANIES, _company(CUSTOMER_IDS[1], "Fabrikam Holdings", 1)),
            (COMPANIES, _company(CUSTOMER_IDS[2], "Northwind Traders", 1)),
            (BILLING_CODES, _billing_code(RECURRING_CODE_ID, "Recurring Cloud Services", 5, True)),
            (
                BILLING_CODES,
                _billing_code(INACTIVE_RECURRING_CODE_ID, "Recurring (retired)", 5, False),
            ),
            (BILLING_CODES, _billing_code(GENERAL_CODE_ID, "Remote Support", 1, True)),
            (
                CONTRACTS,
                _contract(
                    RECURRING_CONTRACT_ID,
                    CUSTOMER_IDS[0],
                    "Contoso Managed Services",
                    7,
                    1,
                    "2024-01-01",
                    "2030-12-31",
                ),
            ),
            (
                CONTRACTS,
                _contract(
                    SECOND_RECURRING_CONTRACT_ID,
                    CUSTOMER_IDS[1],
                    "Fabrikam Cloud",
                    7,
                    1,
                    "2024-07-01",
                    "2030-06-30",
                ),
            ),
            (
                CONTRACTS,
                _contract(
                    INACTIVE_CONTRACT_ID,
                    CUSTOMER_IDS[1],
                    "Fabrikam (cancelled)",
                    7,
                    0,
                    "2024-01-01",
                    "2030-12-31",
                ),
            ),
            (
                CONTRACTS,
                _contract(
                    EXPIRED_CONTRACT_ID,
                    CUSTOMER_IDS[2],
                    "Northwind 2020",
                    7,
                    1,
                    "2020-01-01",
                    "2020-12-31",
                ),
            ),
            (
                CONTRACTS,
                _contract(
                    TM_CONTRACT_ID,
                    CUSTOMER_IDS[2],
                    "Northwind T&M",
                    1,
                    1,
                    "2024-01-01",
                    "2030-12-31",
                ),
            ),
        ]
        for entity, data in rows:
            record = rules.blank(entity)
            record.update(data)
            store.put(entity, record)
        service = rules.blank(SERVICES)
        service.update(
            {
                "id": EXISTING_SERVICE_ID,
                "name": "Desktop Maintenance",
                "description": "Per-desktop maintenance, monthly",
                "invoiceDescription": "Desktop Maintenance",
                "billingCodeID": RECURRING_CODE_ID,
                "periodType": 1,
                "unitPrice": 20.0,
                "unitCost": 8.0,
                "markupRate": 150.0,
                "isActive": True,
                "createDate": "2023-07-01T09:30:00",
                "lastModifiedDate": "2023-07-01T09:30:00",
            }
        )
        store.put(SERVICES, service)
        # Sequences start past the seeded ids.
        for entity in (
            COMPANIES,
            CONTRACTS,
            SERVICES,
            BILLING_CODES,
            CONTRACT_SERVICES,
            ADJUSTMENTS,
        ):
            taken = [int(r["id"]) for r in store.all(entity)]
            store.set_next_id(entity, max([ID_START[entity] - 1, *taken]) + 1)
        store.set_meta("seeded", "1")
