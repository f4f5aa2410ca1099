"""Demo data: what a partner's ConnectWise holds before Prism syncs anything.

Fixed dates and ids, so recordings made against a fresh simulator are repeatable.
"""

from __future__ import annotations

from typing import Any

from .entities import (
    ADDITIONS,
    AGREEMENT_TYPES,
    AGREEMENTS,
    CATALOG,
    CATEGORIES,
    COMPANIES,
    PRODUCT_TYPES,
    SUBCATEGORIES,
)
from .rules import Rules
from .store import Store

OWN_COMPANY_ID = 2
CUSTOMER_IDS = (250, 251, 252)
CATEGORY_ID = 11
SUBCATEGORY_ID = 21
INACTIVE_SUBCATEGORY_ID = 22
PRODUCT_TYPE_ID = 31
MANAGED_TYPE_ID = 41
PROJECT_TYPE_ID = 42
AGREEMENT_ID = 301
SECOND_AGREEMENT_ID = 302
CANCELLED_AGREEMENT_ID = 303
EXISTING_ITEM_ID = 1001
EXISTING_ADDITION_ID = 5001
SEEDED_INFO = {"lastUpdated": "2025-12-01T09:00:00Z", "updatedBy": "admin1"}


def _ref(id: int, name: str) -> dict[str, Any]:
    return {"id": id, "name": name}


def _company(id: int, identifier: str, name: str) -> dict[str, Any]:
    return {
        "id": id,
        "identifier": identifier,
        "name": name,
        "status": _ref(1, "Active"),
        "types": [_ref(1, "Client")],
        "deletedFlag": False,
        "phoneNumber": "0255500100",
        "website": f"https://{identifier.lower()}.example",
        "_info": SEEDED_INFO,
    }


def _agreement(
    id: int, company: dict[str, Any], name: str, start: str, *, cancelled: bool = False
) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "type": _ref(MANAGED_TYPE_ID, "Managed Services"),
        "company": {
            "id": company["id"],
            "identifier": company["identifier"],
            "name": company["name"],
        },
        "contact": None,
        "startDate": f"{start}T00:00:00Z",
        "endDate": None,
        "noEndingDateFlag": True,
        "cancelledFlag": cancelled,
        "dateCancelled": "2025-11-30T00:00:00Z" if cancelled else None,
        "agreementStatus": "Cancelled" if cancelled else "Active",
        "billingCycle": _ref(2, "Monthly"),
        "billAmount": 0.0,
        "prorateFlag": True,
        "invoiceProratedAdditionsFlag": True,
        "parentAgreement": None,
        "_info": SEEDED_INFO,
    }


def seed(store: Store, rules: Rules) -> None:
    store.put(CATEGORIES, {"id": CATEGORY_ID, "name": "Software", "inactiveFlag": False})
    for id, name, inactive in (
        (SUBCATEGORY_ID, "Cloud subscriptions", False),
        (INACTIVE_SUBCATEGORY_ID, "Retired", True),
    ):
        store.put(
            SUBCATEGORIES,
            {
                "id": id,
                "name": name,
                "category": _ref(CATEGORY_ID, "Software"),
                "inactiveFlag": inactive,
            },
        )
    store.put(PRODUCT_TYPES, {"id": PRODUCT_TYPE_ID, "name": "Subscription", "inactiveFlag": False})
    for id, name, prorate in (
        (MANAGED_TYPE_ID, "Managed Services", True),
        (PROJECT_TYPE_ID, "Block Time", False),
    ):
        store.put(
            AGREEMENT_TYPES,
            {
                "id": id,
                "name": name,
                "inactiveFlag": False,
                "prorateFlag": prorate,
                "invoiceProratedAdditionsFlag": prorate,
            },
        )
    own = _company(OWN_COMPANY_ID, "PrismMSP", "Prism Demo MSP")
    store.put(COMPANIES, own)
    customers = [
        _company(CUSTOMER_IDS[0], "Acme", "Acme Pty Ltd"),
        _company(CUSTOMER_IDS[1], "Globex", "Globex Corporation"),
        _company(CUSTOMER_IDS[2], "Initech", 'Initech "West"'),
    ]
    for company in customers:
        store.put(COMPANIES, company)
    store.put(AGREEMENTS, _agreement(AGREEMENT_ID, customers[0], "Acme Managed", "2025-01-01"))
    store.put(
        AGREEMENTS, _agreement(SECOND_AGREEMENT_ID, customers[1], "Globex Managed", "2025-06-01")
    )
    store.put(
        AGREEMENTS,
        _agreement(
            CANCELLED_AGREEMENT_ID, customers[2], "Initech (old)", "2024-01-01", cancelled=True
        ),
    )
    store.put(
        CATALOG,
        {
            "id": EXISTING_ITEM_ID,
            "identifier": "MS-365-BP",
            "description": "Microsoft 365 Business Premium",
            "customerDescription": "Microsoft 365 Business Premium (monthly)",
            "inactiveFlag": False,
            "subcategory": _ref(SUBCATEGORY_ID, "Cloud subscriptions"),
            "category": _ref(CATEGORY_ID, "Software"),
            "type": _ref(PRODUCT_TYPE_ID, "Subscription"),
            "productClass": "NonInventory",
            "price": 33.0,
            "cost": 26.4,
            "taxableFlag": True,
            "recurringFlag": True,
            "integrationXRef": None,
            "_info": SEEDED_INFO,
        },
    )
    addition = rules.addition(
        store.get(AGREEMENTS, AGREEMENT_ID) or {},
        {
            "product": {"id": EXISTING_ITEM_ID},
            "quantity": 12,
            "billCustomer": "Billable",
            "effectiveDate": "2025-01-01T00:00:00Z",
        },
    )
    addition["_info"] = SEEDED_INFO
    store.put(ADDITIONS, addition)
