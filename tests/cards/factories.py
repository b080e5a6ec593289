"""Factories for the cards app: card types, designs, producers and cards."""

from __future__ import annotations

import datetime
import io
import secrets

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from PIL import Image, ImageDraw

from cards.models import Card, CardDesign, CardType, Producer
from cards.numbers import card_number_new
from registry.identifiers import national_id_with_check_digits, orgnr_with_check_digit


def valid_orgnr() -> str:
    """A random organisation number with a valid check digit."""
    while True:
        orgnr = orgnr_with_check_digit(str(80_000_000 + secrets.randbelow(20_000_000)))
        if orgnr is not None:
            return orgnr


def valid_national_id(birth_date: datetime.date) -> str:
    """A random fødselsnummer for someone born on birth_date (1900-1999 individual numbers)."""
    while True:
        first_nine = f"{birth_date:%d%m%y}{secrets.randbelow(500):03d}"
        national_id = national_id_with_check_digits(first_nine)
        if national_id is not None:
            return national_id


def photo_jpeg(width: int = 600, height: int = 800, colour: str = "#4a7fb5") -> bytes:
    """A real JPEG portrait: a coloured background with a head-and-shoulders shape."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (width * 0.3, height * 0.18, width * 0.7, height * 0.55), fill="#f1c9a5", outline="#333"
    )
    draw.rectangle((width * 0.15, height * 0.62, width * 0.85, height), fill="#2d3748")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


class CardTypeFactory(DjangoModelFactory[CardType]):
    """Construction by default; `CardTypeFactory(cleaning=True)` for the cleaning card.

    Both exist from the seed migration (cards 0004), which get_or_create then returns.
    """

    class Meta:
        model = CardType
        django_get_or_create = ("code",)

    class Params:
        construction = factory.Trait(
            code="construction", name_nb="Bygg og anlegg", name_en="Construction"
        )
        cleaning = factory.Trait(
            code="cleaning",
            name_nb="Renhold",
            name_en="Cleaning",
            requires_cleaning_approval=True,
            requires_residence_permit=True,
        )

    code = "construction"
    name_nb = "Bygg og anlegg"
    name_en = "Construction"
    requires_cleaning_approval = False
    requires_residence_permit = False
    is_orderable = True


class CardDesignFactory(DjangoModelFactory[CardDesign]):
    """A design from 2020; `design_2018=True` for the 2018-2019 one (the seed has both)."""

    class Meta:
        model = CardDesign
        django_get_or_create = ("card_type", "effective_from")

    class Params:
        design_2018 = factory.Trait(
            name="Design 2018-2019",
            template=CardDesign.Template.DESIGN_2018,
            effective_from=datetime.date(2018, 1, 1),
        )

    card_type = factory.SubFactory(CardTypeFactory)
    name = "Design fra 2020"
    template = CardDesign.Template.DESIGN_2020
    effective_from = datetime.date(2020, 1, 1)


class ProducerFactory(DjangoModelFactory[Producer]):
    class Meta:
        model = Producer

    name = "Evry Card Services AS"
    orgnr = factory.LazyFunction(valid_orgnr)
    effective_from = factory.Sequence(
        lambda n: (
            datetime.datetime(2030, 1, 2, 0, 0, tzinfo=datetime.UTC) + datetime.timedelta(days=n)
        )
    )


class CardFactory(DjangoModelFactory[Card]):
    """An approved card issued today for two years; `with_photo=True` stores a real JPEG."""

    class Meta:
        model = Card

    class Params:
        with_photo = factory.Trait(
            photo=factory.LazyFunction(lambda: ContentFile(photo_jpeg(), name="photo.jpg"))
        )

    number = factory.LazyFunction(card_number_new)
    renews = None
    renewal_pending = factory.LazyAttribute(lambda card: card.renews is not None)
    card_type = factory.SubFactory(CardTypeFactory)
    state = Card.State.APPROVED
    holder_first_name = factory.Faker("first_name", locale="no_NO")
    holder_last_name = factory.Faker("last_name", locale="no_NO")
    holder_birth_date = factory.Faker(
        "date_between_dates",
        date_start=datetime.date(1960, 1, 1),
        date_end=datetime.date(1999, 12, 31),
    )
    holder_national_id = factory.LazyAttribute(
        lambda card: valid_national_id(card.holder_birth_date)
    )
    workplace_orgnr = factory.LazyFunction(valid_orgnr)
    employer_orgnr = factory.LazyFunction(valid_orgnr)
    employer_name = factory.Faker("company", locale="no_NO")
    issuer_name = "Arbeidstilsynet"
    issued_on = factory.LazyFunction(lambda: timezone.localdate())
    valid_until = factory.LazyAttribute(
        lambda card: (
            card.issued_on.replace(year=card.issued_on.year + 2)
            if (card.issued_on.month, card.issued_on.day) != (2, 29)
            else card.issued_on.replace(year=card.issued_on.year + 2, day=28)
        )
    )
