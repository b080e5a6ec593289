"""Template filters shared by the portal's pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

from cards.numbers import display
from cards.selectors import revocation_explanation
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


@register.filter
def money(amount: Decimal | None) -> str:
    """An amount in kroner with two decimals, in the active language's format (exact)."""
    if amount is None:
        return ""
    return number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def card_type_name(card_type: Any) -> str:
    """A card type's name in the language of the page (card types are data: both names)."""
    return str(card_type.name(get_language()))


@register.filter
def blackout_message(blackout: Any) -> str:
    """An ordering blackout's own message in the page's language ("" when it has none)."""
    return str(blackout.message(get_language()))


@register.filter
def revocation_text(reason: str | None) -> str:
    """Why a card was revoked, in the page's language: who ended it, and why."""
    return revocation_explanation(reason or "")
