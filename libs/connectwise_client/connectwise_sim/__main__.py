"""``python -m connectwise_sim``: serve on 127.0.0.1:$CONNECTWISE_SIM_PORT (default 8082)."""

from __future__ import annotations

import logging
import os

import uvicorn

from .app import create_app
from .config import DEFAULT_PORT, SimConfig


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    host = os.environ.get("CONNECTWISE_SIM_HOST", "127.0.0.1")
    port = int(os.environ.get("CONNECTWISE_SIM_PORT", DEFAULT_PORT))
    config = SimConfig.from_env()
    logging.getLogger("connectwise_sim").info(
        "ConnectWise simulator on http://%s:%d (company %s)", host, port, config.company_id
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
