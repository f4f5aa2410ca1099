"""Field metadata for the simulated entities: one table drives validation and the
``entityInformation`` endpoints, so what the simulator enforces is what it advertises.

Names and data types are the official swagger's (autotask-openapi-subset.json).
Required fields, lengths and picklist codes are instance data in real Autotask; the
values here follow AUTOTASK.md where it has them and are marked as assumptions in
docs/autotask.md where it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Entity keys are the REST path segments.
COMPANIES = "Companies"
CONTRACTS = "Contracts"
SERVICES = "Services"
CONTRACT_SERVICES = "ContractServices"
ADJUSTMENTS = "ContractServiceAdjustments"
UNITS = "ContractServiceUnits"
BILLING_CODES = "BillingCodes"

# First ids per entity, so ids look like Autotask's and never collide across entities.
ID_START = {
    COMPANIES: 174,
    CONTRACTS: 29683001,
    SERVICES: 29683401,
    CONTRACT_SERVICES: 29684001,
    ADJUSTMENTS: 29685001,
    UNITS: 29686001,
    BILLING_CODES: 29682801,
}

ENTITIES = (COMPANIES, CONTRACTS, SERVICES, CONTRACT_SERVICES, ADJUSTMENTS, UNITS, BILLING_CODES)
BY_LOWER = {e.lower(): e for e in ENTITIES}

# (name, dataType) straight from the swagger models.
_SWAGGER_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    COMPANIES: (
        ("id", "long"), ("additionalAddressInformation", "string"), ("address1", "string"),
        ("address2", "string"), ("alternatePhone1", "string"), ("alternatePhone2", "string"),
        ("apiVendorID", "integer"), ("assetValue", "double"),
        ("billToCompanyLocationID", "integer"), ("billToAdditionalAddressInformation", "string"),
        ("billingAddress1", "string"), ("billingAddress2", "string"),
        ("billToAddressToUse", "integer"), ("billToAttention", "string"),
        ("billToCity", "string"), ("billToCountryID", "integer"), ("billToState", "string"),
        ("billToZipCode", "string"), ("city", "string"), ("classification", "integer"),
        ("companyCategoryID", "integer"), ("companyName", "string"), ("companyNumber", "string"),
        ("companyType", "integer"), ("competitorID", "integer"), ("countryID", "integer"),
        ("createDate", "datetime"), ("createdByResourceID", "integer"),
        ("currencyID", "integer"), ("fax", "string"),
        ("impersonatorCreatorResourceID", "integer"), ("invoiceEmailMessageID", "integer"),
        ("invoiceMethod", "integer"), ("invoiceNonContractItemsToParentCompany", "boolean"),
        ("invoiceTemplateID", "integer"), ("isActive", "boolean"),
        ("isClientPortalActive", "boolean"), ("isEnabledForComanaged", "boolean"),
        ("isSample", "boolean"), ("isTaskFireActive", "boolean"), ("isTaxExempt", "boolean"),
        ("lastActivityDate", "datetime"), ("lastTrackedModifiedDateTime", "datetime"),
        ("marketSegmentID", "integer"), ("ownerResourceID", "integer"),
        ("parentCompanyID", "integer"), ("phone", "string"), ("postalCode", "string"),
        ("purchaseOrderTemplateID", "integer"), ("quoteEmailMessageID", "integer"),
        ("quoteTemplateID", "integer"), ("sicCode", "string"), ("state", "string"),
        ("stockMarket", "string"), ("stockSymbol", "string"), ("surveyCompanyRating", "double"),
        ("taxID", "string"), ("taxRegionID", "integer"), ("territoryID", "integer"),
        ("webAddress", "string"),
    ),
    CONTRACTS: (
        ("id", "long"), ("billingPreference", "integer"), ("billToCompanyContactID", "integer"),
        ("billToCompanyID", "integer"), ("companyID", "integer"), ("contactID", "integer"),
        ("contactName", "string"), ("contractCategory", "integer"),
        ("contractExclusionSetID", "integer"), ("contractName", "string"),
        ("contractNumber", "string"), ("contractPeriodType", "integer"),
        ("contractType", "integer"), ("description", "string"), ("endDate", "datetime"),
        ("estimatedCost", "double"), ("estimatedHours", "double"),
        ("estimatedRevenue", "double"), ("exclusionContractID", "long"),
        ("internalCurrencyOverageBillingRate", "double"), ("internalCurrencySetupFee", "double"),
        ("isCompliant", "boolean"), ("isDefaultContract", "boolean"),
        ("lastModifiedDateTime", "datetime"), ("opportunityID", "integer"),
        ("organizationalLevelAssociationID", "integer"), ("overageBillingRate", "double"),
        ("purchaseOrderNumber", "string"), ("renewedContractID", "long"),
        ("serviceLevelAgreementID", "integer"), ("setupFee", "double"),
        ("setupFeeBillingCodeID", "long"), ("startDate", "datetime"), ("status", "integer"),
        ("timeReportingRequiresStartAndStopTimes", "integer"),
    ),
    SERVICES: (
        ("id", "long"), ("billingCodeID", "integer"), ("createDate", "datetime"),
        ("creatorResourceID", "integer"), ("description", "string"),
        ("invoiceDescription", "string"), ("isActive", "boolean"),
        ("lastModifiedDate", "datetime"), ("markupRate", "double"), ("name", "string"),
        ("periodType", "integer"), ("serviceLevelAgreementID", "long"), ("unitCost", "double"),
        ("unitPrice", "double"), ("updateResourceID", "integer"), ("vendorCompanyID", "integer"),
        ("manufacturerServiceProvider", "string"),
        ("manufacturerServiceProviderProductNumber", "string"),
        ("catalogNumberPartNumber", "string"), ("sku", "string"), ("internalID", "string"),
        ("externalID", "string"), ("url", "string"),
    ),
    CONTRACT_SERVICES: (
        ("id", "long"), ("contractID", "integer"), ("internalCurrencyAdjustedPrice", "double"),
        ("internalCurrencyUnitPrice", "double"), ("internalDescription", "string"),
        ("invoiceDescription", "string"), ("quoteItemID", "long"), ("serviceID", "integer"),
        ("unitCost", "double"), ("unitPrice", "double"),
        # Named by DOC ContractServicesEntity.htm, absent from both swaggers.
        ("adjustedPrice", "double"),
    ),
    ADJUSTMENTS: (
        ("id", "long"), ("adjustedUnitCost", "double"), ("adjustedUnitPrice", "double"),
        ("allowRepeatService", "boolean"), ("contractID", "integer"),
        ("contractServiceID", "integer"), ("effectiveDate", "datetime"),
        ("quoteItemID", "integer"), ("serviceID", "integer"), ("unitChange", "integer"),
    ),
    UNITS: (
        ("id", "long"), ("approveAndPostDate", "datetime"), ("contractID", "integer"),
        ("contractServiceID", "integer"), ("cost", "double"), ("endDate", "datetime"),
        ("internalCurrencyPrice", "double"), ("organizationalLevelAssociationID", "integer"),
        ("price", "double"), ("serviceID", "integer"), ("startDate", "datetime"),
        ("units", "integer"), ("vendorCompanyID", "integer"),
    ),
    BILLING_CODES: (
        ("id", "long"), ("afterHoursWorkType", "integer"), ("billingCodeType", "integer"),
        ("department", "integer"), ("description", "string"), ("externalNumber", "string"),
        ("generalLedgerAccount", "integer"), ("isActive", "boolean"),
        ("isExcludedFromNewContracts", "boolean"), ("markupRate", "double"), ("name", "string"),
        ("taxCategoryID", "integer"), ("unitCost", "double"), ("unitPrice", "double"),
        ("useType", "integer"),
    ),
}  # fmt: skip

# Picklists as (value, label). Only contractType 7 = Recurring Service and useType 5 =
# Recurring Contract Service Code are documented; the rest are the simulator's choice.
CONTRACT_TYPE_RECURRING = 7
CONTRACT_STATUS_ACTIVE = 1
USE_TYPE_RECURRING = 5
PERIOD_MONTHLY = 1
PICKLISTS: dict[tuple[str, str], tuple[tuple[int, str], ...]] = {
    (COMPANIES, "companyType"): (
        (1, "Customer"), (2, "Lead"), (3, "Prospect"), (4, "Dead"), (6, "Cancelation"),
        (7, "Vendor"), (8, "Partner"),
    ),
    (CONTRACTS, "contractType"): (
        (1, "Time and Materials"), (3, "Fixed Price"), (4, "Block Hours"), (6, "Retainer"),
        (7, "Recurring Service"), (8, "Incident (Per Ticket)"),
    ),
    (CONTRACTS, "status"): ((0, "Inactive"), (1, "Active")),
    (CONTRACTS, "contractPeriodType"): (
        (1, "Monthly"), (2, "Quarterly"), (3, "Semi-Annual"), (4, "Yearly"),
    ),
    (SERVICES, "periodType"): ((1, "Monthly"), (2, "Quarterly"), (3, "Semi-Annual"), (4, "Yearly")),
    (BILLING_CODES, "useType"): (
        (1, "General Allocation Code"), (2, "Expense Code"), (3, "Internal Allocation Code"),
        (4, "Material Cost Code"), (5, "Recurring Contract Service Code"), (6, "Milestone Code"),
        (7, "Product Code"),
    ),
    (BILLING_CODES, "billingCodeType"): ((0, "Normal"), (1, "System"), (2, "Non-Billable")),
}  # fmt: skip

REQUIRED: dict[str, tuple[str, ...]] = {
    COMPANIES: ("companyName", "companyType", "phone", "ownerResourceID"),
    CONTRACTS: ("companyID", "contractName", "contractType", "status", "startDate", "endDate"),
    # DOC ServicesEntity.htm: required on create.
    SERVICES: ("name", "billingCodeID", "periodType", "unitPrice"),
    CONTRACT_SERVICES: ("contractID", "serviceID"),
    ADJUSTMENTS: ("contractID", "effectiveDate", "unitChange"),
    UNITS: (),
    BILLING_CODES: (),
}

LENGTHS: dict[tuple[str, str], int] = {
    (COMPANIES, "companyName"): 100,
    (COMPANIES, "companyNumber"): 50,
    (COMPANIES, "phone"): 25,
    (CONTRACTS, "contractName"): 100,
    (CONTRACTS, "contractNumber"): 50,
    (CONTRACTS, "description"): 2000,
    (SERVICES, "name"): 150,  # UNCONFIRMED (100/150/200); SimConfig.service_name_length
    (SERVICES, "description"): 400,  # seed: "character limits of 400 and 1000"
    (SERVICES, "invoiceDescription"): 1000,
    (SERVICES, "sku"): 50,
    (CONTRACT_SERVICES, "invoiceDescription"): 1000,
    (CONTRACT_SERVICES, "internalDescription"): 1000,
    (BILLING_CODES, "name"): 200,  # DOC BillingCodesEntity.htm
    (BILLING_CODES, "description"): 500,
    (BILLING_CODES, "externalNumber"): 100,
}

_SYSTEM_FIELDS = {
    "id", "createDate", "createdByResourceID", "creatorResourceID", "lastActivityDate",
    "lastTrackedModifiedDateTime", "lastModifiedDate", "lastModifiedDateTime",
    "impersonatorCreatorResourceID", "updateResourceID", "markupRate",
}  # fmt: skip
READ_ONLY: dict[str, set[str]] = {
    COMPANIES: set(_SYSTEM_FIELDS),
    CONTRACTS: set(_SYSTEM_FIELDS),
    SERVICES: set(_SYSTEM_FIELDS),
    CONTRACT_SERVICES: {"id", "internalCurrencyAdjustedPrice", "internalCurrencyUnitPrice"},
    ADJUSTMENTS: {"id"},
    UNITS: {name for name, _ in _SWAGGER_FIELDS[UNITS]},
    BILLING_CODES: {name for name, _ in _SWAGGER_FIELDS[BILLING_CODES]},
}
# Fields typed date-time that hold a calendar day (AUTOTASK.md §8: "treat as dates").
DAY_FIELDS: set[tuple[str, str]] = {
    (CONTRACTS, "startDate"),
    (CONTRACTS, "endDate"),
    (ADJUSTMENTS, "effectiveDate"),
    (UNITS, "startDate"),
    (UNITS, "endDate"),
}
# DOC ContractServicesEntity.htm: "on update only adjustedPrice and invoiceDescription".
UPDATABLE: dict[str, set[str]] = {CONTRACT_SERVICES: {"adjustedPrice", "invoiceDescription"}}

REFERENCES: dict[tuple[str, str], str] = {
    (CONTRACTS, "companyID"): COMPANIES,
    (SERVICES, "billingCodeID"): BILLING_CODES,
    (SERVICES, "vendorCompanyID"): COMPANIES,
    (CONTRACT_SERVICES, "contractID"): CONTRACTS,
    (CONTRACT_SERVICES, "serviceID"): SERVICES,
    (ADJUSTMENTS, "contractID"): CONTRACTS,
    (ADJUSTMENTS, "serviceID"): SERVICES,
    (ADJUSTMENTS, "contractServiceID"): CONTRACT_SERVICES,
    (UNITS, "contractID"): CONTRACTS,
    (UNITS, "serviceID"): SERVICES,
    (UNITS, "contractServiceID"): CONTRACT_SERVICES,
    (COMPANIES, "parentCompanyID"): COMPANIES,
}
# SOAP-era names, which is what Autotask reports as referenceEntityType.
_SOAP_NAMES = {
    COMPANIES: "Account", CONTRACTS: "Contract", SERVICES: "Service",
    CONTRACT_SERVICES: "ContractService", BILLING_CODES: "AllocationCode",
}  # fmt: skip

UDFS: dict[str, tuple[tuple[str, str], ...]] = {
    COMPANIES: (("Number of Employees", "Number"),),
    SERVICES: (),
}

# What each entity's URL accepts (AUTOTASK.md §4 capability matrix).
CAPABILITIES: dict[str, dict[str, bool]] = {
    COMPANIES: {"create": True, "update": True, "query": True, "delete": False},
    CONTRACTS: {"create": True, "update": True, "query": True, "delete": False},
    SERVICES: {"create": True, "update": True, "query": True, "delete": False},
    CONTRACT_SERVICES: {"create": True, "update": True, "query": True, "delete": False},
    ADJUSTMENTS: {"create": True, "update": False, "query": False, "delete": False},
    UNITS: {"create": False, "update": False, "query": True, "delete": False},
    BILLING_CODES: {"create": False, "update": False, "query": True, "delete": False},
}


@dataclass(frozen=True)
class FieldMeta:
    name: str
    data_type: str
    length: int = 0
    required: bool = False
    read_only: bool = False
    reference: str | None = None
    picklist: tuple[tuple[int, str], ...] = field(default=())

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataType": self.data_type,
            "length": self.length,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isQueryable": True,
            "isReference": self.reference is not None,
            "referenceEntityType": _SOAP_NAMES.get(self.reference or "", self.reference),
            "isPickList": bool(self.picklist),
            "picklistValues": [
                {
                    "value": str(value),
                    "label": label,
                    "isDefaultValue": False,
                    "sortOrder": order,
                    "parentValue": "",
                    "isActive": True,
                    "isSystem": False,
                }
                for order, (value, label) in enumerate(self.picklist)
            ]
            if self.picklist
            else None,
            "picklistParentValueField": "",
            "isSupportedWebhookField": False,
        }


def fields_of(entity: str, service_name_length: int = 150) -> list[FieldMeta]:
    out = []
    for name, data_type in _SWAGGER_FIELDS[entity]:
        length = LENGTHS.get((entity, name), 0)
        if (entity, name) == (SERVICES, "name"):
            length = service_name_length
        elif data_type == "string" and not length:
            length = 100 if "phone" not in name.lower() else 25
        out.append(
            FieldMeta(
                name=name,
                data_type=data_type,
                length=length,
                required=name in REQUIRED[entity],
                read_only=name in READ_ONLY[entity],
                reference=REFERENCES.get((entity, name)),
                picklist=PICKLISTS.get((entity, name), ()),
            )
        )
    return out


def entity_info(entity: str) -> dict[str, Any]:
    caps = CAPABILITIES[entity]
    return {
        "name": entity[:-1] if entity.endswith("s") else entity,
        "canCreate": caps["create"],
        "canDelete": caps["delete"],
        "canQuery": caps["query"],
        "canUpdate": caps["update"],
        "userAccessForCreate": "All" if caps["create"] else "None",
        "userAccessForDelete": "None",
        "userAccessForQuery": "All" if caps["query"] else "None",
        "userAccessForUpdate": "All" if caps["update"] else "None",
        "hasUserDefinedFields": bool(UDFS.get(entity)),
        "supportsWebhookCallouts": entity in (COMPANIES, CONTRACTS),
    }


def udf_info(entity: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "label": name,
            "type": udf_type,
            "length": 0,
            "description": None,
            "isRequired": False,
            "isReadOnly": False,
            "isQueryable": True,
            "isReference": False,
            "referenceEntityType": None,
            "isPickList": False,
            "picklistValues": None,
            "picklistParentValueField": None,
            "defaultValue": None,
            "isSupportedWebhookField": False,
        }
        for name, udf_type in UDFS.get(entity, ())
    ]
