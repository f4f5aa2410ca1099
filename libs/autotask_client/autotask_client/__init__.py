"""A typed client for the Autotask PSA REST API v1.0 (issue 5)."""

from prism_http.retry import Idempotency, RetryPolicy

from . import query
from .client import AutotaskClient, Page
from .credentials import Credentials
from .errors import (
    APIStatusError,
    AuthenticationError,
    AutotaskError,
    BudgetExhaustedError,
    ContractRuleError,
    DuplicateKeyError,
    InvalidIntegrationCodeError,
    InvalidResponseError,
    MethodNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnexpectedServerError,
    UserDisabledError,
    UserInactiveError,
    UserLockedError,
    ValidationError,
    ZoneNotFoundError,
)
from .limits import LocalLimiter, NoLimiter, RequestLimiter
from .models import (
    BillingCode,
    Company,
    Contract,
    ContractService,
    ContractServiceAdjustment,
    ContractServiceUnit,
    EntityFields,
    Service,
    ThresholdInfo,
    ZoneInfo,
)
from .query import Query
from .resources import RecordPage
from .zone import DEFAULT_ZONE_PROBE_URL, ZoneCache

__all__ = [
    "DEFAULT_ZONE_PROBE_URL",
    "APIStatusError",
    "AuthenticationError",
    "AutotaskClient",
    "AutotaskError",
    "BillingCode",
    "BudgetExhaustedError",
    "Company",
    "Contract",
    "ContractRuleError",
    "ContractService",
    "ContractServiceAdjustment",
    "ContractServiceUnit",
    "Credentials",
    "DuplicateKeyError",
    "EntityFields",
    "Idempotency",
    "InvalidIntegrationCodeError",
    "InvalidResponseError",
    "LocalLimiter",
    "MethodNotAllowedError",
    "NoLimiter",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Query",
    "RateLimitError",
    "RecordPage",
    "RequestLimiter",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "Service",
    "ThresholdInfo",
    "TransportError",
    "UnexpectedServerError",
    "UserDisabledError",
    "UserInactiveError",
    "UserLockedError",
    "ValidationError",
    "ZoneCache",
    "ZoneInfo",
    "ZoneNotFoundError",
    "query",
]
