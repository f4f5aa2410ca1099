"""Organisations (SPEC T1): the distributor runs the platform; partners resell to customers."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    DISTRIBUTOR = "DISTRIBUTOR"
    PARTNER = "PARTNER"
