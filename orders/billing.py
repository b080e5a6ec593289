"""Money and delivery of an order: where the card goes, the invoice and its KID.

Payment is by invoice to the organisation (issue 9). The invoice stores every amount, name
and address as they were on its issue day: it never changes when prices, the postage or
Enhetsregisteret change later.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from stdnum import luhn

from cards import catalogue
from cards.models import CardType
from cards.pricing import Amounts, PriceItem, Quote, QuoteLine, quote_from_amounts, quote_make
from hmsportal.pdf import render_pdf
from orders.models import Invoice, InvoiceLine, InvoiceNumberCounter, Order
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts

# The invoice number in the KID is padded to this many digits, so every KID of the portal
# has the same length (8 with the check digit) until the millionth invoice.
KID_NUMBER_DIGITS = 7


@dataclass(frozen=True)
class DeliveryAddress:
    """Where a card is sent when it is not to the business address."""

    name: str
    street: str
    postcode: str
    city: str


def delivery_fields(
    *, employer: OrganisationFacts, given: DeliveryAddress | None
) -> dict[str, str]:
    """The Order fields of the delivery address: the one given, else the business address."""
    address = given or DeliveryAddress(
        name="", street=employer.street, postcode=employer.postcode, city=employer.city
    )
    return {
        "delivery_name": address.name,
        "delivery_street": address.street,
        "delivery_postcode": address.postcode,
        "delivery_city": address.city,
    }


def kid_for(number: int) -> str:
    """The KID payment reference of an invoice number: the number and a MOD10 check digit."""
    if number <= 0:
        raise ValueError("invoice numbers start at 1")
    digits = f"{number:0{KID_NUMBER_DIGITS}d}"
    return digits + luhn.calc_check_digit(digits)


def _invoice_number_next() -> int:
    # The row lock makes concurrent orders take numbers one after the other; it is held to
    # the end of the order's transaction, so a rolled-back order leaves no gap.
    # The migration makes the row; should it be gone, the first order to notice makes it
    # again (and a concurrent one waits for that insert, then locks the same row).
    counter = InvoiceNumberCounter.objects.select_for_update().filter(pk=1).first()
    if counter is None:
        try:
            with transaction.atomic():
                InvoiceNumberCounter.objects.create(pk=1)
        except IntegrityError:
            pass
        counter = InvoiceNumberCounter.objects.select_for_update().get(pk=1)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def order_price_quote(*, order: Order, day: datetime.date) -> Quote:
    """The order's quote from the prices stored on its lines, the VAT rates and the postage
    in the price list on the day."""
    items = [
        PriceItem(
            description=line.card_type.name_nb,
            person=line.full_name,
            incl_vat=line.price_incl_vat,
            vat_rate=catalogue.card_price_on(line.card_type, day).vat_rate,
        )
        for line in order.lines.select_related("card_type")
    ]
    postage = catalogue.postage_on(day)
    return quote_make(
        items,
        PriceItem(description="", incl_vat=postage.amount_incl_vat, vat_rate=postage.vat_rate),
    )


@transaction.atomic
def invoice_create(*, order: Order, customer: OrganisationFacts | None = None) -> Invoice:
    """Invoice an order to its employer, with the employer's name and address in
    Enhetsregisteret (as given when the order was placed, or looked up)."""
    issued_on = timezone.localdate()
    quote = order_price_quote(order=order, day=issued_on)
    if customer is None:
        customer = registry_selectors.organisation_get(orgnr=order.employer_orgnr)
    producer = catalogue.producer_at(timezone.now())
    number = _invoice_number_next()
    invoice = Invoice(
        order=order,
        number=number,
        kid=kid_for(number),
        issued_on=issued_on,
        due_on=issued_on + datetime.timedelta(days=settings.INVOICE_DUE_DAYS),
        customer_orgnr=order.employer_orgnr,
        customer_name=customer.name if customer else order.employer_name,
        customer_street=customer.street if customer else "",
        customer_postcode=customer.postcode if customer else "",
        customer_city=customer.city if customer else "",
        issuer_name=producer.name if producer else "",
        issuer_orgnr=producer.orgnr if producer else "",
        account_number=settings.INVOICE_ACCOUNT_NUMBER,
        postage_excl_vat=quote.postage.excl_vat,
        postage_vat=quote.postage.vat,
        postage_vat_rate=quote.postage.vat_rate,
        total_excl_vat=quote.total.excl_vat,
        total_vat=quote.total.vat,
        total_incl_vat=quote.total.incl_vat,
    )
    invoice.full_clean()
    invoice.save()
    for line, priced in zip(order.lines.all(), quote.lines, strict=True):
        invoice_line = InvoiceLine(
            invoice=invoice,
            order_line=line,
            card_type_name=priced.description,
            person_name=priced.person,
            vat_rate=priced.amounts.vat_rate,
            price_excl_vat=priced.amounts.excl_vat,
            vat=priced.amounts.vat,
            price_incl_vat=priced.amounts.incl_vat,
        )
        invoice_line.full_clean()
        invoice_line.save()
    return invoice


def invoice_quote(invoice: Invoice) -> Quote:
    """The invoice's amounts as a quote, from what is stored (never today's prices)."""
    # The stored name is the bokmål one the invoice was made with; an English copy names the
    # same card type in English (the amounts are the stored ones either way).
    english = (get_language() or "").startswith("en")
    lines = [
        QuoteLine(
            description=line.order_line.card_type.name_en if english else line.card_type_name,
            person=line.person_name,
            amounts=Amounts(
                excl_vat=line.price_excl_vat,
                vat=line.vat,
                incl_vat=line.price_incl_vat,
                vat_rate=line.vat_rate,
            ),
        )
        for line in invoice.lines.select_related("order_line__card_type")
    ]
    postage = Amounts(
        excl_vat=invoice.postage_excl_vat,
        vat=invoice.postage_vat,
        incl_vat=invoice.postage_incl_vat,
        vat_rate=invoice.postage_vat_rate,
    )
    return quote_from_amounts(lines, postage)


def invoice_for_employer(*, employer_orgnr: str, order_id: int) -> Invoice | None:
    """The invoice of one of the employer's orders, with its lines and order, or None."""
    return (
        Invoice.objects.select_related("order")
        .prefetch_related("lines")
        .filter(order_id=order_id, order__employer_orgnr=employer_orgnr)
        .first()
    )


def card_type_quote(
    *, card_type: CardType, day: datetime.date, language: str | None
) -> Quote | None:
    """What one card of the type costs on the day, postage included; None without a price."""
    try:
        postage = catalogue.postage_on(day)
        price = catalogue.card_price_on(card_type, day)
    except catalogue.NoPriceError:
        return None
    name = card_type.name(language)
    return quote_make(
        [PriceItem(description=name, incl_vat=price.price_incl_vat, vat_rate=price.vat_rate)],
        PriceItem(description="", incl_vat=postage.amount_incl_vat, vat_rate=postage.vat_rate),
    )


def price_list_quotes(*, day: datetime.date, language: str | None) -> list[tuple[str, Quote]]:
    """What one card of each orderable type costs on the day, postage included, by type
    name: the price table of the order form. Types without a price are left out."""
    quotes = []
    for card_type in catalogue.orderable_card_types():
        quote = card_type_quote(card_type=card_type, day=day, language=language)
        if quote is not None:
            quotes.append((card_type.name(language), quote))
    return quotes


def account_number_display(account_number: str) -> str:
    """A bank account number the way Norwegians write it: 1503.00.00002."""
    return f"{account_number[:4]}.{account_number[4:6]}.{account_number[6:]}"


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The invoice as a PDF, rendered from what it stores (in the active language)."""
    order = invoice.order
    context: dict[str, Any] = {
        "invoice": invoice,
        "order": order,
        "quote": invoice_quote(invoice),
        "account_number": account_number_display(invoice.account_number),
    }
    return render_pdf("orders/pdf/invoice.html", context)
