"""The collections the simulator serves: their paths, names and fields."""

from __future__ import annotations

from dataclasses import dataclass

COMPANIES = "companies"
AGREEMENTS = "agreements"
AGREEMENT_TYPES = "agreement_types"
ADDITIONS = "additions"
CATALOG = "catalog"
PRODUCT_TYPES = "product_types"
SUBCATEGORIES = "subcategories"
CATEGORIES = "categories"


@dataclass(frozen=True)
class EntityInfo:
    name: str
    #: The name ConnectWise uses in ``"{resource} object is invalid"`` and ``errors[].resource``.
    resource: str
    fields: frozenset[str]
    writable: bool = False

    def knows(self, path: str) -> bool:
        return path.split("/")[0].lower() in self.fields


def _fields(*names: str) -> frozenset[str]:
    return frozenset(n.lower() for n in ("id", "_info", *names))


ENTITIES: dict[str, EntityInfo] = {
    COMPANIES: EntityInfo(
        COMPANIES,
        "company",
        _fields("identifier", "name", "status", "types", "deletedFlag", "phoneNumber", "website"),
    ),
    AGREEMENT_TYPES: EntityInfo(
        AGREEMENT_TYPES,
        "agreementType",
        _fields("name", "inactiveFlag", "prorateFlag", "invoiceProratedAdditionsFlag"),
    ),
    AGREEMENTS: EntityInfo(
        AGREEMENTS,
        "agreement",
        _fields(
            "name",
            "type",
            "company",
            "contact",
            "startDate",
            "endDate",
            "noEndingDateFlag",
            "cancelledFlag",
            "dateCancelled",
            "agreementStatus",
            "billingCycle",
            "billAmount",
            "prorateFlag",
            "invoiceProratedAdditionsFlag",
            "parentAgreement",
        ),
    ),
    ADDITIONS: EntityInfo(
        ADDITIONS,
        "addition",
        _fields(
            "product",
            "quantity",
            "lessIncluded",
            "unitPrice",
            "unitCost",
            "billCustomer",
            "effectiveDate",
            "cancelledDate",
            "taxableFlag",
            "invoiceDescription",
            "description",
            "agreementId",
            "agreementStatus",
            "billedQuantity",
            "extPrice",
            "extCost",
            "prorateCost",
            "proratePrice",
            "prorateCurrentPeriodFlag",
            "sequenceNumber",
        ),
        writable=True,
    ),
    CATALOG: EntityInfo(
        CATALOG,
        "catalogItem",
        _fields(
            "identifier",
            "description",
            "customerDescription",
            "inactiveFlag",
            "subcategory",
            "category",
            "type",
            "productClass",
            "price",
            "cost",
            "taxableFlag",
            "recurringFlag",
            "integrationXRef",
            "vendor",
        ),
        writable=True,
    ),
    PRODUCT_TYPES: EntityInfo(PRODUCT_TYPES, "productType", _fields("name", "inactiveFlag")),
    SUBCATEGORIES: EntityInfo(
        SUBCATEGORIES, "productSubcategory", _fields("name", "category", "inactiveFlag")
    ),
    CATEGORIES: EntityInfo(CATEGORIES, "productCategory", _fields("name", "inactiveFlag")),
}

#: ``apis/3.0/...`` collection paths (lower case) to entity names.
PATHS: dict[tuple[str, ...], str] = {
    ("company", "companies"): COMPANIES,
    ("finance", "agreements"): AGREEMENTS,
    ("finance", "agreements", "types"): AGREEMENT_TYPES,
    ("procurement", "catalog"): CATALOG,
    ("procurement", "types"): PRODUCT_TYPES,
    ("procurement", "subcategories"): SUBCATEGORIES,
    ("procurement", "categories"): CATEGORIES,
}
