"""Adapters for the national registers, chosen by settings.REGISTRY_BACKEND.

"embedded" reads the registry app's own tables. "http" speaks each register's API:
Enhetsregisteret's open API (ENHETSREGISTERET_URL; organisations come from the local copy of
its bulk files while that copy is current, see registry/unit_copy.py), Skatteetaten's Arbeidsforhold i oppdrag
and NAV's Aa-registeret (ARBEIDSFORHOLD_URL, AAREG_URL) and Folkeregisteret
(FOLKEREGISTERET_URL; persons its event feed shows no change for are answered from their last
answer, see registry/person_copy.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from registry.clients.aareg import SkatteetatenEmploymentRegister
from registry.clients.base import BusinessRegister, EmploymentRegister, PopulationRegister
from registry.clients.brreg import BrregBusinessRegister
from registry.clients.brreg_copy import CopiedBusinessRegister
from registry.clients.embedded import (
    EmbeddedBusinessRegister,
    EmbeddedEmploymentRegister,
    EmbeddedPopulationRegister,
)
from registry.clients.freg_copy import FeedFollowingPopulationRegister


def _unknown_backend() -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Unknown REGISTRY_BACKEND {settings.REGISTRY_BACKEND!r}")


def business_register() -> BusinessRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedBusinessRegister()
    if settings.REGISTRY_BACKEND == "http":
        # Decided per call (a query of two rows): a failed night's load or a stalled change
        # feed puts the lookups back on the API until the copy is current again.
        from registry.unit_copy import unit_copy_current

        if unit_copy_current():
            return CopiedBusinessRegister()
        return BrregBusinessRegister()
    raise _unknown_backend()


def employment_register() -> EmploymentRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedEmploymentRegister()
    if settings.REGISTRY_BACKEND == "http":
        return SkatteetatenEmploymentRegister()
    raise _unknown_backend()


def population_register() -> PopulationRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedPopulationRegister()
    if settings.REGISTRY_BACKEND == "http":
        # Asks Folkeregisteret only about persons its event feed marked (registry/person_copy.py).
        return FeedFollowingPopulationRegister()
    raise _unknown_backend()


__all__ = [
    "BusinessRegister",
    "EmploymentRegister",
    "PopulationRegister",
    "business_register",
    "employment_register",
    "population_register",
]
