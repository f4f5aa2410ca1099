"""A local stand-in for the ConnectWise PSA REST API, faithful to its documented rules."""

from .app import create_app
from .config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PORT,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SimConfig,
)
from .server import SimHandle, serve_in_thread
from .simulator import Fault, Simulator

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_COMPANY_ID",
    "DEFAULT_PORT",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "Fault",
    "SimConfig",
    "SimHandle",
    "Simulator",
    "create_app",
    "serve_in_thread",
]
