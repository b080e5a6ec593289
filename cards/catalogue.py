"""Reads of the card catalogue: card types, prices, designs, producers and blackouts.

Everything here changes over time and is data with effective dates (DOMAIN.md).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import QuerySet

from cards.models import CardDesign, CardPrice, CardType, OrderingBlackout, Postage, Producer
from registry.facts import Requirements


class NoPriceError(LookupError):
    """The card type has no price in force: it cannot be ordered."""


def orderable_card_types() -> QuerySet[CardType]:
    """Card types that can be ordered now."""
    return CardType.objects.filter(is_orderable=True).order_by("name_nb")


def requirements_for(card_type: CardType) -> Requirements:
    """What the card type demands of the registers, for the rules engine."""
    return Requirements(
        cleaning_approval=card_type.requires_cleaning_approval,
        residence_permit=card_type.requires_residence_permit,
    )


def price_on(card_type: CardType, day: datetime.date) -> Decimal:
    """The card type's price including VAT on the day, or NoPriceError."""
    price = (
        CardPrice.objects.filter(card_type=card_type, effective_from__lte=day)
        .order_by("-effective_from")
        .values_list("price_incl_vat", flat=True)
        .first()
    )
    if price is None:
        raise NoPriceError(card_type.code)
    return price


def card_price_on(card_type: CardType, day: datetime.date) -> CardPrice:
    """The card type's price list entry in force on the day (price and VAT rate)."""
    price = (
        CardPrice.objects.filter(card_type=card_type, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    if price is None:
        raise NoPriceError(card_type.code)
    return price


def postage_on(day: datetime.date) -> Postage:
    """The postage in force on the day, or NoPriceError: without it nothing can be billed."""
    postage = Postage.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if postage is None:
        raise NoPriceError("postage")
    return postage


def design_in_force(card_type: CardType, day: datetime.date) -> CardDesign | None:
    """The card type's design in force on the day (a card is printed in its issue day's)."""
    return (
        CardDesign.objects.filter(card_type=card_type, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def producer_at(moment: datetime.datetime) -> Producer | None:
    """The card producer in force at the moment."""
    return Producer.objects.filter(effective_from__lte=moment).order_by("-effective_from").first()


def blackout_at(moment: datetime.datetime) -> OrderingBlackout | None:
    """The ordering blackout in force at the moment, if any."""
    return OrderingBlackout.objects.filter(starts_at__lte=moment, ends_at__gt=moment).first()


def blackouts_upcoming(moment: datetime.datetime, days: int = 60) -> QuerySet[OrderingBlackout]:
    """Blackouts in force now or starting soon, for the ordering pages."""
    return OrderingBlackout.objects.filter(
        ends_at__gt=moment, starts_at__lte=moment + datetime.timedelta(days=days)
    ).order_by("starts_at")
