"""How the simulator answers a failure, in the API's own envelopes."""

from __future__ import annotations

from typing import Any

# Texts the real API sends (sources in docs/autotask.md).
ZONE_NOT_FOUND = "Zone information could not be determined"
INVALID_INTEGRATION_CODE = "IntegrationCode is invalid."
NO_PERMISSION = (
    "The logged in Resource does not have the adequate permissions to {verb} this entity."
)
NO_MATCHING_RECORDS = "No matching records found. The operation was not performed."
EFFECTIVE_DATE_OUTSIDE = (
    "ContractServiceAdjustment effectiveDate must be between the start date and end date of "
    "the Contract referenced by contractID."
)
DUPLICATE_SERVICE = (
    "Violation of UNIQUE KEY constraint 'IX_service'. Cannot insert duplicate key in object "
    "'dbo.Service'. The duplicate key value is ({name}). Error updating database for {which} "
    "entity records."
)
REQUIRED_MISSING = "Value does not exist for the required field {field}. "
BAD_REFERENCE = "Value does not reference an existing entity for {field} . "
METHOD_NOT_ALLOWED = "The requested resource does not support http method '{method}'."
# The text Autotask answered a locked API user with (AutotaskDevelopment/Sample-Code #2).
USER_LOCKED = (
    "The user account has been locked.  Please see your Autotask Administrator for details."
)
TOO_MANY_OR = "Invalid query syntax. Queries are limited to {n} or fewer 'OR' conditions."

# The simulator's own wording where no real text is on record.
NOT_RECURRING = "{entity} contractID must reference a Recurring Service type Contract."
USER_INACTIVE = "The user account is inactive.  Please see your Autotask Administrator for details."
CONTRACT_NOT_ACTIVE = "The Contract referenced by contractID is not active."
TOO_LONG = "Value for field {field} exceeds the maximum length of {length} characters."
BAD_VALUE = "Invalid value for field {field}: expected {type}."
BILLING_CODE_NOT_RECURRING = (
    "billingCodeID must reference an active billing code of use type Recurring Contract "
    "Service Code."
)
SERVICE_ALREADY_ON_CONTRACT = "The Service referenced by serviceID is already on this Contract."
UNITS_BELOW_ZERO = "unitChange would take the units of the Contract Service below zero."
THRESHOLD_EXCEEDED = (
    "Request threshold exceeded: the limit of {budget} requests per {minutes} minutes has been "
    "reached. Requests are denied until usage falls below the threshold."
)
THREAD_LIMIT = (
    "Thread limit exceeded: at most {n} concurrent requests per integration per endpoint."
)
MAX_RECORDS_RANGE = "MaxRecords must be between 1 and 500."
FILTER_REQUIRED = "A query must contain at least one filter."
UNKNOWN_FIELD = "Invalid field name in query: {field}."
UNKNOWN_OP = "Invalid query operator: {op}."
ONE_UDF = "Only one user-defined field may be used in a query."
BAD_BOOLEAN = "Invalid boolean value for field {field}; use true or false."
BAD_PAGING = "The paging token is invalid or does not match the query."
ID_REQUIRED = "The id of the entity to update is required."


class ApiFailure(Exception):
    """Raised inside a handler; becomes an HTTP answer."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def failure(*messages: str, status: int = 500) -> ApiFailure:
    return ApiFailure(status, {"errors": list(messages)})


def framework(status: int, message: str) -> ApiFailure:
    # ASP.NET answers (404/405) carry {"Message": ...}, not {"errors": [...]}.
    return ApiFailure(status, {"Message": message})
