"""Adapters for the national registers, chosen by settings.REGISTRY_BACKEND."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from registry.clients.base import BusinessRegister, EmploymentRegister, PopulationRegister
from registry.clients.embedded import (
    EmbeddedBusinessRegister,
    EmbeddedEmploymentRegister,
    EmbeddedPopulationRegister,
)


def business_register() -> BusinessRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedBusinessRegister()
    raise ImproperlyConfigured(f"Unknown REGISTRY_BACKEND {settings.REGISTRY_BACKEND!r}")


def employment_register() -> EmploymentRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedEmploymentRegister()
    raise ImproperlyConfigured(f"Unknown REGISTRY_BACKEND {settings.REGISTRY_BACKEND!r}")


def population_register() -> PopulationRegister:
    if settings.REGISTRY_BACKEND == "embedded":
        return EmbeddedPopulationRegister()
    raise ImproperlyConfigured(f"Unknown REGISTRY_BACKEND {settings.REGISTRY_BACKEND!r}")


__all__ = [
    "BusinessRegister",
    "EmploymentRegister",
    "PopulationRegister",
    "business_register",
    "employment_register",
    "population_register",
]
