"""Money: a price including VAT split into its parts, and the quote of an order.

Pure functions over Decimal (never floats). Prices in the price list include VAT
(DOMAIN.md, "Price"), so each amount is split once: the part excluding VAT is rounded to
øre (ROUND_HALF_UP) and the VAT is what remains. Every line therefore adds up exactly, and
so do the totals, which are sums of the lines: the parts always equal the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ORE = Decimal("0.01")


def round_ore(amount: Decimal) -> Decimal:
    """Round to whole øre, halves away from zero (as on a Norwegian invoice)."""
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Amounts:
    """An amount excluding VAT, its VAT and the sum, at one VAT rate."""

    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal
    vat_rate: Decimal

    @property
    def vat_percent(self) -> str:
        """The VAT rate as a percentage for display: Decimal("0.25") gives "25"."""
        return format((self.vat_rate * 100).normalize(), "f")


def amounts_from_incl_vat(incl_vat: Decimal, vat_rate: Decimal) -> Amounts:
    """Split a price including VAT into the price excluding VAT and the VAT."""
    if not isinstance(incl_vat, Decimal) or not isinstance(vat_rate, Decimal):
        raise TypeError("money is Decimal, never float")
    if incl_vat < 0 or not 0 <= vat_rate < 1:
        raise ValueError(f"not a price: {incl_vat} at VAT rate {vat_rate}")
    incl = round_ore(incl_vat)
    excl = round_ore(incl / (1 + vat_rate))
    return Amounts(excl_vat=excl, vat=incl - excl, incl_vat=incl, vat_rate=vat_rate)


@dataclass(frozen=True)
class PriceItem:
    """Something to be paid for, as priced in the price list (including VAT)."""

    description: str
    incl_vat: Decimal
    vat_rate: Decimal
    person: str = ""


@dataclass(frozen=True)
class QuoteLine:
    """One card in a quote: the card type, whose card it is (a name) and its amounts."""

    description: str
    person: str
    amounts: Amounts


@dataclass(frozen=True)
class Quote:
    """What an order costs: its lines, the postage (once per delivery) and the totals."""

    lines: tuple[QuoteLine, ...]
    postage: Amounts
    total: Amounts

    @property
    def vat_percent(self) -> str:
        """The one VAT rate of the quote, or "" when lines differ (then each line says)."""
        rates = {line.amounts.vat_rate for line in self.lines} | {self.postage.vat_rate}
        return self.postage.vat_percent if len(rates) == 1 else ""


def quote_from_amounts(lines: Sequence[QuoteLine], postage: Amounts) -> Quote:
    """A quote of amounts already split (a new quote, or one read back from an invoice)."""
    parts = [line.amounts for line in lines] + [postage]
    total = Amounts(
        excl_vat=sum((p.excl_vat for p in parts), Decimal("0.00")),
        vat=sum((p.vat for p in parts), Decimal("0.00")),
        incl_vat=sum((p.incl_vat for p in parts), Decimal("0.00")),
        vat_rate=postage.vat_rate,
    )
    return Quote(lines=tuple(lines), postage=postage, total=total)


def quote_make(items: Sequence[PriceItem], postage: PriceItem) -> Quote:
    """The quote of an order: each item split into its parts, postage added once."""
    lines = [
        QuoteLine(
            description=item.description,
            person=item.person,
            amounts=amounts_from_incl_vat(item.incl_vat, item.vat_rate),
        )
        for item in items
    ]
    return quote_from_amounts(lines, amounts_from_incl_vat(postage.incl_vat, postage.vat_rate))
