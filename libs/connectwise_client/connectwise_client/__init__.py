"""A typed client for the ConnectWise PSA (Manage) REST API, ``apis/3.0`` (issue 17)."""

from prism_http.retry import NO_RETRIES, Idempotency, RetryPolicy

from . import conditions, patch
from .client import (
    DEFAULT_CODEBASE,
    DEFAULT_SITE,
    MAX_PAGE_SIZE,
    ConnectWiseClient,
    Page,
    RequestLimiter,
)
from .conditions import Condition
from .credentials import Credentials
from .errors import (
    APIStatusError,
    AuthenticationError,
    CompanyNotFoundError,
    ConflictError,
    ConnectWiseError,
    DuplicateError,
    ErrorDetail,
    InvalidResponseError,
    MethodNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)
from .models import (
    Addition,
    Agreement,
    AgreementType,
    CatalogItem,
    Company,
    CompanyInfo,
    ProductSubcategory,
    ProductType,
    Reference,
)
from .resources import Additions, Collection, Writable

__all__ = [
    "DEFAULT_CODEBASE",
    "DEFAULT_SITE",
    "MAX_PAGE_SIZE",
    "NO_RETRIES",
    "APIStatusError",
    "Addition",
    "Additions",
    "Agreement",
    "AgreementType",
    "AuthenticationError",
    "CatalogItem",
    "Collection",
    "Company",
    "CompanyInfo",
    "CompanyNotFoundError",
    "Condition",
    "ConflictError",
    "ConnectWiseClient",
    "ConnectWiseError",
    "Credentials",
    "DuplicateError",
    "ErrorDetail",
    "Idempotency",
    "InvalidResponseError",
    "MethodNotAllowedError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "ProductSubcategory",
    "ProductType",
    "RateLimitError",
    "Reference",
    "RequestLimiter",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "ValidationError",
    "Writable",
    "conditions",
    "patch",
]
