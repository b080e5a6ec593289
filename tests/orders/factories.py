"""Factories for the orders app: an order for the small dataset's employer, one line for its
employee (tests/datasets.py), with an encrypted photo and ID document."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory

from cards.models import CardType
from orders.models import Order, OrderLine
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg
from tests.hmsportal.factories import UserFactory


class OrderFactory(DjangoModelFactory[Order]):
    class Meta:
        model = Order

    employer_orgnr = EMPLOYER
    employer_name = "Fjordbygg AS"
    ordered_by = factory.SubFactory(UserFactory)


class OrderLineFactory(DjangoModelFactory[OrderLine]):
    """A construction card for the dataset's worker on the sub-unit, not yet checked."""

    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    employer_orgnr = factory.LazyAttribute(lambda line: line.order.employer_orgnr)
    card_type = factory.LazyFunction(lambda: CardType.objects.get(code="construction"))
    price_incl_vat = Decimal("131.56")
    national_id = WORKER
    first_name = "Ola"
    last_name = "Snekker"
    workplace_orgnr = SUB_UNIT
    photo = factory.LazyFunction(lambda: ContentFile(jpeg(), name="photo.jpg"))
    id_document = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4", name="id.pdf"))
