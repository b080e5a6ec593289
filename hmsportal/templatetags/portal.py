"""Template filters shared by the portal's pages."""

from __future__ import annotations

from django import template

from cards.numbers import display
from registry.rules import REASONS, Reason

register = template.Library()


@register.filter
def reason_text(code: str) -> str:
    return Reason(code).text() if code in REASONS else code


@register.filter
def reason_fix(code: str) -> str:
    return Reason(code).fix() if code in REASONS else ""


@register.filter
def card_number(number: str) -> str:
    return display(number)
