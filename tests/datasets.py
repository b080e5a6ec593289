"""A small registry dataset shared by end-to-end tests: one employer with a sub-unit, its
managing director, and one employee registered on the sub-unit."""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from PIL import Image

EMPLOYER = "914778271"
SUB_UNIT = "973861883"
OWNER = "15108695088"  # daglig leder
WORKER = "01017512338"


def small_dataset() -> dict:
    today = timezone.localdate()
    return {
        "organisations": [
            {
                "orgnr": EMPLOYER,
                "parent_orgnr": None,
                "name": "Fjordbygg AS",
                "form": "AS",
                "registered_on": "2010-05-01",
                "deleted_on": None,
                "bankrupt": False,
                "under_liquidation": False,
                "vat_registered": True,
                "cleaning_approved": None,
                "staffing_approved": None,
                "industry_code": "41.200",
                "address": {"street": "Kaigata 1", "postcode": "5003", "city": "Bergen"},
                "roles": [{"person": OWNER, "role": "DAGL"}],
            },
            {
                "orgnr": SUB_UNIT,
                "parent_orgnr": EMPLOYER,
                "name": "Fjordbygg AS avd. Voss",
                "form": "BEDR",
                "registered_on": "2012-01-01",
                "deleted_on": None,
                "bankrupt": False,
                "under_liquidation": False,
                "vat_registered": False,
                "cleaning_approved": None,
                "staffing_approved": None,
                "industry_code": "41.200",
                "address": {"street": "Strandavegen 3", "postcode": "5700", "city": "Voss"},
                "roles": [],
            },
        ],
        "persons": [
            {
                "id": OWNER,
                "first_name": "Kari",
                "last_name": "Nordmann",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            },
            {
                "id": WORKER,
                "first_name": "Ola",
                "last_name": "Snekker",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            },
        ],
        "employments": [
            {
                "orgnr": SUB_UNIT,
                "person": WORKER,
                "start": (today - datetime.timedelta(days=400)).isoformat(),
                "end": None,
                "hired_out": False,
            },
        ],
    }


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (180, 140, 110)).save(buffer, format="JPEG")
    return buffer.getvalue()


def ensure_card_catalogue() -> None:
    """The seed migrations' card types, prices, designs and postage (idempotent): transactional tests
    flush the database, and the live server's thread does not see serialized rollbacks."""
    import importlib

    from django.apps import apps

    importlib.import_module("cards.migrations.0003_catalogue").load(apps, None)
    importlib.import_module("cards.migrations.0006_postage").seed_postage(apps, None)
