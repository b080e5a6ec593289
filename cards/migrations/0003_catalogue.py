"""Reference data from the seed page: card types, prices, designs, producers, blackout."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import migrations

OSLO = ZoneInfo("Europe/Oslo")


def load(apps, schema_editor):
    CardType = apps.get_model("cards", "CardType")
    CardPrice = apps.get_model("cards", "CardPrice")
    CardDesign = apps.get_model("cards", "CardDesign")
    Producer = apps.get_model("cards", "Producer")
    OrderingBlackout = apps.get_model("cards", "OrderingBlackout")

    construction, _ = CardType.objects.get_or_create(
        code="construction",
        defaults={"name_nb": "HMS-kort bygg og anlegg", "name_en": "HSE card construction"},
    )
    cleaning, _ = CardType.objects.get_or_create(
        code="cleaning",
        defaults={
            "name_nb": "HMS-kort renhold",
            "name_en": "HSE card cleaning",
            "requires_cleaning_approval": True,
            "requires_residence_permit": True,
        },
    )
    for card_type, price in ((construction, "131.56"), (cleaning, "183.78")):
        CardPrice.objects.get_or_create(
            card_type=card_type,
            effective_from=datetime.date(2019, 1, 1),
            defaults={"price_incl_vat": Decimal(price), "vat_rate": Decimal("0.25")},
        )
        CardDesign.objects.get_or_create(
            card_type=card_type,
            effective_from=datetime.date(2018, 1, 1),
            defaults={"name": "Design 2018–2019", "template": "cards/pdf/design_2018.html"},
        )
        CardDesign.objects.get_or_create(
            card_type=card_type,
            effective_from=datetime.date(2020, 1, 1),
            defaults={"name": "Design 2020", "template": "cards/pdf/design_2020.html"},
        )
    Producer.objects.get_or_create(
        effective_from=datetime.datetime(2018, 1, 1, tzinfo=OSLO),
        defaults={"name": "IDEMIA Norway AS"},
    )
    Producer.objects.get_or_create(
        effective_from=datetime.datetime(2020, 1, 2, tzinfo=OSLO),
        defaults={"name": "Evry Card Services AS"},
    )
    OrderingBlackout.objects.get_or_create(
        starts_at=datetime.datetime(2019, 12, 18, 16, 0, tzinfo=OSLO),
        defaults={
            "ends_at": datetime.datetime(2020, 1, 2, 0, 0, tzinfo=OSLO),
            "message_nb": "Bytte av kortprodusent: det er ikke mulig å bestille HMS-kort fra 18. desember kl. 16.00 til 2. januar.",
            "message_en": "Change of card producer: no cards can be ordered from 18 December 16:00 until 2 January.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cards", "0002_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
