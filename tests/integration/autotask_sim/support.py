"""What the simulator's write tests share."""

from __future__ import annotations

from autotask_client import Service
from autotask_sim.seed import RECURRING_CODE_ID


def new_service(client, name: str = "PC_sku_1357", **extra) -> int:
    fields = {"name": name, "billing_code_id": RECURRING_CODE_ID, "period_type": 1}
    fields |= {"unit_price": 10, "unit_cost": 6} | extra
    return client.services.create(Service(**fields))
