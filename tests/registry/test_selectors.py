"""Reads of the registers live in registry.selectors (writes in registry.services)."""

from __future__ import annotations

from registry import selectors, services
from registry.facts import Requirements
from registry.models import RegisterLookup


def test_the_registers_a_check_consults_is_a_read_of_the_selectors() -> None:
    assert not hasattr(services, "registers_consulted")
    R = RegisterLookup.Register
    plain = selectors.registers_consulted(Requirements())
    assert plain == [R.ENHETSREGISTERET, R.FOLKEREGISTERET, R.EMPLOYMENT, R.STAFFING]
    assert selectors.registers_consulted(Requirements(cleaning_approval=True))[-1] == R.CLEANING
