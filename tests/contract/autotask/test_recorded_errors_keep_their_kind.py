"""Every error class the client raises for an API answer, replayed from cassettes.

Transport errors and timeouts have no HTTP answer to record; unit tests cover them.
"""

from __future__ import annotations

from datetime import date

import pytest

from autotask_client import (
    AuthenticationError,
    ContractRuleError,
    ContractServiceAdjustment,
    DuplicateKeyError,
    InvalidIntegrationCodeError,
    MethodNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Service,
    UnexpectedServerError,
    UserLockedError,
    ValidationError,
    ZoneNotFoundError,
)
from autotask_sim import Fault
from autotask_sim.seed import (
    EXISTING_SERVICE_ID,
    INACTIVE_CONTRACT_ID,
    RECURRING_CODE_ID,
    RECURRING_CONTRACT_ID,
)

pytestmark = pytest.mark.contract


def service(name: str) -> Service:
    return Service(name=name, billing_code_id=RECURRING_CODE_ID, period_type=1, unit_price=5)


def test_authentication_error(recorded) -> None:
    with pytest.raises(AuthenticationError) as caught:
        recorded.client_as(secret="not-the-secret").companies.get(0)
    assert caught.value.status == 401


def test_locked_user(recorded) -> None:
    recorded.backdoor(lambda sim: sim.lock_user())
    with pytest.raises(UserLockedError) as caught:
        recorded.client.companies.get(0)
    assert caught.value.status == 401
    assert "has been locked" in caught.value.errors[0]


def test_zone_not_found(recorded) -> None:
    with pytest.raises(ZoneNotFoundError) as caught:
        recorded.client_as(username="nobody@example.test").zone()
    assert caught.value.errors == ["Zone information could not be determined"]


def test_invalid_integration_code(recorded) -> None:
    with pytest.raises(InvalidIntegrationCodeError):
        recorded.client_as(integration_code="NOT-A-REAL-CODE").companies.get(0)


def test_permission_denied(recorded) -> None:
    recorded.backdoor(lambda sim: sim.deny("Services", "create"))
    with pytest.raises(PermissionDeniedError):
        recorded.client.services.create(service("PC_denied"))


def test_not_found(recorded) -> None:
    assert recorded.client.services.get(1) is None
    with pytest.raises(NotFoundError):
        recorded.client.services.update(1, {"unitPrice": 1})


def test_method_not_allowed(recorded) -> None:
    with pytest.raises(MethodNotAllowedError) as caught:
        recorded.client.request("GET", "Services")
    assert caught.value.errors == ["The requested resource does not support http method 'GET'."]


def test_validation_error(recorded) -> None:
    with pytest.raises(ValidationError) as caught:
        recorded.client.services.create({"description": "no name"})
    assert "Value does not exist for the required field name. " in caught.value.errors


def test_duplicate_service_name(recorded) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        recorded.client.services.create(service("desktop maintenance"))
    assert "IX_service" in caught.value.errors[0]


def test_contract_rules(recorded) -> None:
    adjustments = recorded.client.contract_service_adjustments
    with pytest.raises(ContractRuleError) as caught:
        adjustments.create(
            ContractServiceAdjustment(
                contract_id=RECURRING_CONTRACT_ID,
                service_id=EXISTING_SERVICE_ID,
                unit_change=1,
                effective_date=date(2031, 1, 1),
            )
        )
    assert caught.value.errors[0].startswith(
        "ContractServiceAdjustment effectiveDate must be between"
    )
    with pytest.raises(ContractRuleError):
        adjustments.create(
            ContractServiceAdjustment(
                contract_id=INACTIVE_CONTRACT_ID,
                service_id=EXISTING_SERVICE_ID,
                unit_change=1,
                effective_date=date(2025, 1, 1),
            )
        )


def test_rate_limited(recorded) -> None:
    recorded.backdoor(lambda sim: sim.use_budget(10_000))
    client = recorded.client
    client.retry = RetryPolicy(max_retries=0)
    with pytest.raises(RateLimitError) as caught:
        client.companies.get(0)
    assert caught.value.status == 429 and caught.value.retry_after


def test_server_errors(recorded) -> None:
    recorded.backdoor(
        lambda sim: sim.add_fault(Fault("error", method="GET", path="/Companies/", status=503))
    )
    assert recorded.client.companies.get(0) is not None  # retried
    recorded.backdoor(
        lambda sim: sim.add_fault(Fault("error", method="POST", path="/Services$", status=503))
    )
    with pytest.raises(ServerError):
        recorded.client.services.create(service("PC_unlucky"))  # never retried
    body = {
        "errors": [
            "An unexpected error has occurred.  If the problem persists, please contact Autotask "
            "Support and reference Error ID: 54634."
        ],
        "errorId": 54634,
    }
    recorded.backdoor(
        lambda sim: sim.add_fault(
            Fault("error", method="PATCH", path="/Services$", status=500, body=body)
        )
    )
    with pytest.raises(UnexpectedServerError) as caught:
        recorded.client.services.update(EXISTING_SERVICE_ID, {"unitPrice": 21})
    assert caught.value.error_id == 54634
