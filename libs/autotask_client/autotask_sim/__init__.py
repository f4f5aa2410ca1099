"""A local stand-in for the Autotask PSA REST API, faithful to its documented rules."""

from .app import create_app
from .config import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_PORT,
    DEFAULT_SECRET,
    DEFAULT_STATE_PATH,
    DEFAULT_USERNAME,
    SimConfig,
)
from .faults import Fault
from .server import SimHandle, serve_in_thread
from .simulator import Simulator

__all__ = [
    "DEFAULT_INTEGRATION_CODE",
    "DEFAULT_PORT",
    "DEFAULT_SECRET",
    "DEFAULT_STATE_PATH",
    "DEFAULT_USERNAME",
    "Fault",
    "SimConfig",
    "SimHandle",
    "Simulator",
    "create_app",
    "serve_in_thread",
]
