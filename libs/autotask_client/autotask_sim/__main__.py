"""``python -m autotask_sim``: serve on 127.0.0.1:$AUTOTASK_SIM_PORT (default 8081)."""

from __future__ import annotations

import logging
import os

import uvicorn

from .app import create_app
from .config import DEFAULT_PORT, DEFAULT_STATE_PATH, SimConfig


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    host = os.environ.get("AUTOTASK_SIM_HOST", "127.0.0.1")
    port = int(os.environ.get("AUTOTASK_SIM_PORT", DEFAULT_PORT))
    state = os.environ.get("AUTOTASK_SIM_STATE", DEFAULT_STATE_PATH)
    config = SimConfig.from_env()
    logging.getLogger("autotask_sim").info(
        "Autotask simulator on http://%s:%d (state %s, user %s)", host, port, state, config.username
    )
    # No access log: the zone lookup's query string carries the API username.
    uvicorn.run(create_app(config, state), host=host, port=port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
