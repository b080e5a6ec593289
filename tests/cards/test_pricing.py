"""Money: prices including VAT split exactly into their parts; postage by effective date."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cards import catalogue
from cards.models import CardPrice, CardType, Postage
from cards.pricing import PriceItem, amounts_from_incl_vat, quote_make, round_ore

POSTAGE = PriceItem(description="", incl_vat=Decimal("40.00"), vat_rate=Decimal("0.25"))


def test_the_seed_prices_split_into_price_excl_vat_and_vat() -> None:
    construction = amounts_from_incl_vat(Decimal("131.56"), Decimal("0.25"))
    assert (construction.excl_vat, construction.vat) == (Decimal("105.25"), Decimal("26.31"))
    cleaning = amounts_from_incl_vat(Decimal("183.78"), Decimal("0.25"))
    assert (cleaning.excl_vat, cleaning.vat) == (Decimal("147.02"), Decimal("36.76"))
    assert construction.vat_percent == "25"


def test_rounding_is_to_ore_with_halves_up_not_to_even_and_not_through_floats() -> None:
    assert round_ore(Decimal("0.125")) == Decimal("0.13")
    assert round_ore(Decimal("0.135")) == Decimal("0.14")
    # 2.675 is 2.67499… as a float; as money it rounds up.
    assert round_ore(Decimal("2.675")) == Decimal("2.68")
    assert round_ore(Decimal("-0.125")) == Decimal("-0.13")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        amounts_from_incl_vat(131.56, Decimal("0.25"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a price"):
        amounts_from_incl_vat(Decimal("10.00"), Decimal("1.25"))


@pytest.mark.parametrize("rate", ["0.25", "0.15", "0.12", "0.00"])
def test_the_parts_always_add_up_to_the_total(rate) -> None:
    vat_rate = Decimal(rate)
    prices = [Decimal(n) / 100 for n in range(0, 30_000, 7)]
    for price in prices:
        amounts = amounts_from_incl_vat(price, vat_rate)
        assert amounts.excl_vat + amounts.vat == amounts.incl_vat == price
        assert amounts.excl_vat == round_ore(price / (1 + vat_rate))
    items = [PriceItem(description="kort", incl_vat=p, vat_rate=vat_rate) for p in prices[:50]]
    quote = quote_make(items, POSTAGE)
    parts = [line.amounts for line in quote.lines] + [quote.postage]
    assert quote.total.excl_vat == sum(p.excl_vat for p in parts)
    assert quote.total.vat == sum(p.vat for p in parts)
    assert quote.total.incl_vat == sum(prices[:50]) + Decimal("40.00")
    assert quote.total.excl_vat + quote.total.vat == quote.total.incl_vat


def test_a_quote_of_one_card_and_postage() -> None:
    quote = quote_make(
        [
            PriceItem(
                description="HMS-kort bygg og anlegg",
                person="Ola Snekker",
                incl_vat=Decimal("131.56"),
                vat_rate=Decimal("0.25"),
            )
        ],
        POSTAGE,
    )
    assert quote.postage.excl_vat == Decimal("32.00")
    assert quote.postage.vat == Decimal("8.00")
    assert quote.total.excl_vat == Decimal("137.25")
    assert quote.total.vat == Decimal("34.31")
    assert quote.total.incl_vat == Decimal("171.56")
    assert quote.vat_percent == "25"


def test_a_quote_with_two_vat_rates_does_not_claim_one() -> None:
    quote = quote_make(
        [PriceItem(description="x", incl_vat=Decimal("115.00"), vat_rate=Decimal("0.15"))],
        POSTAGE,
    )
    assert quote.lines[0].amounts.vat == Decimal("15.00")
    assert quote.vat_percent == ""


@pytest.mark.django_db
def test_postage_follows_its_effective_date() -> None:
    # The seed migration's placeholder postage: 40.00 from 2020-01-01.
    assert catalogue.postage_on(datetime.date(2026, 6, 1)).amount_incl_vat == Decimal("40.00")
    with pytest.raises(catalogue.NoPriceError):
        catalogue.postage_on(datetime.date(2019, 12, 31))
    Postage.objects.create(
        effective_from=datetime.date(2031, 1, 1), amount_incl_vat=Decimal("55.00")
    )
    assert catalogue.postage_on(datetime.date(2030, 12, 31)).amount_incl_vat == Decimal("40.00")
    assert catalogue.postage_on(datetime.date(2031, 1, 1)).amount_incl_vat == Decimal("55.00")


@pytest.mark.django_db
def test_one_postage_per_day_and_never_negative() -> None:
    duplicate = Postage(effective_from=datetime.date(2020, 1, 1), amount_incl_vat=Decimal("1"))
    with pytest.raises(ValidationError, match="allerede en porto fra denne datoen"):
        duplicate.full_clean()
    negative = Postage(effective_from=datetime.date(2032, 1, 1), amount_incl_vat=Decimal("-1"))
    with pytest.raises(ValidationError, match="Porto kan ikke være negativ"):
        negative.full_clean()


@pytest.mark.django_db
def test_the_vat_rate_comes_from_the_price_list() -> None:
    construction = CardType.objects.get(code="construction")
    CardPrice.objects.create(
        card_type=construction,
        effective_from=datetime.date(2031, 1, 1),
        price_incl_vat=Decimal("140.00"),
        vat_rate=Decimal("0.12"),
    )
    before = catalogue.card_price_on(construction, datetime.date(2030, 12, 31))
    after = catalogue.card_price_on(construction, datetime.date(2031, 1, 1))
    assert (before.price_incl_vat, before.vat_rate) == (Decimal("131.56"), Decimal("0.25"))
    assert (after.price_incl_vat, after.vat_rate) == (Decimal("140.00"), Decimal("0.12"))
