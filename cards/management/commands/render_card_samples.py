"""Render sample cards (each design x construction/cleaning) to PNGs for the docs.

    python manage.py render_card_samples docs/cards --base-url https://hms-kort.example.no

Writes <type>-<design year>-front.png and -back.png per sample, and samples.pdf with all
of them, from a real render_cards_pdf. The sample cards are never saved: they are built in
memory against the card types and designs in the database (the seed migration has them),
so the command can run against any database without leaving anything behind. pypdfium2
(a development dependency) turns the PDF pages into images.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings
from PIL import Image, ImageDraw

from cards.models import Card, CardType
from cards.numbers import card_number_new
from cards.pdf import design_template_for, render_cards_pdf
from registry.identifiers import orgnr_with_check_digit

# Issue dates on either side of the 2020 design change (seed page: new design from 2020).
SAMPLE_ISSUE_DATES = {"2018": datetime.date(2019, 6, 3), "2020": datetime.date(2024, 9, 16)}
SAMPLE_TYPES = ("construction", "cleaning")
SAMPLE_DPI = 300


def sample_photo(background: str) -> bytes:
    """A plain portrait stand-in (coloured background, head and shoulders) as a JPEG, in the
    photo frame's 35:45 like every stored photo (cards/photos.py)."""
    width, height = 700, 900
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((230, 170, 470, 460), fill="#e8c4a0")
    draw.pieslice((120, 500, 580, 1160), 180, 360, fill="#2d3748")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def sample_card(card_type: CardType, issued_on: datetime.date, index: int) -> Card:
    people = [
        ("Kari", "Nordmann", "Nordbygg Entreprenør AS"),
        ("Ola Johan", "Bakke-Sørensen", "Fjordrein Renhold og Vaktmestertjenester AS"),
        ("Åse", "Østby", "Tømrer Ødegård & Sønn AS"),
        ("Mohammed", "Al-Rashid", "Rent og Pent Oslo AS"),
    ]
    first_name, last_name, employer = people[index % len(people)]
    orgnr = next(
        number
        for body in range(91_245_670 + index * 1_000, 91_245_700 + index * 1_000)
        if (number := orgnr_with_check_digit(str(body))) is not None
    )
    card = Card(
        number=card_number_new(),
        card_type=card_type,
        state=Card.State.ACTIVE,
        holder_national_id="",
        holder_first_name=first_name,
        holder_last_name=last_name,
        holder_birth_date=datetime.date(1980 + index * 3, 3 + index, 11 + index),
        workplace_orgnr=orgnr,
        employer_orgnr=orgnr,
        employer_name=employer,
        issuer_name="Arbeidstilsynet",
        issued_on=issued_on,
        valid_until=issued_on + datetime.timedelta(days=730),
    )
    # An unsaved file: the PDF module reads it through FieldFile without touching storage.
    colours = ["#4a7fb5", "#7b9e4a", "#b5674a", "#6a4ab5"]
    card.photo = ContentFile(sample_photo(colours[index % len(colours)]), name="sample.jpg")
    return card


class Command(BaseCommand):
    help = "Render sample HMS cards (each design x construction/cleaning) to PNG files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Where to write the PNGs (created).")
        parser.add_argument("--dpi", type=int, default=SAMPLE_DPI)
        parser.add_argument(
            "--base-url", help="Portal address for the QR codes (default PORTAL_BASE_URL)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            import pypdfium2
        except ImportError as error:  # pragma: no cover - a development tool
            raise CommandError("pypdfium2 is needed (development dependencies).") from error

        directory: Path = options["directory"]
        card_types = CardType.objects.in_bulk(SAMPLE_TYPES, field_name="code")
        missing = sorted(set(SAMPLE_TYPES) - set(card_types))
        if missing:
            raise CommandError(f"Card types missing: {', '.join(missing)} (run migrate).")

        samples: list[tuple[str, Card]] = []
        for index, (year, type_code) in enumerate(
            (year, code) for year in SAMPLE_ISSUE_DATES for code in SAMPLE_TYPES
        ):
            card = sample_card(card_types[type_code], SAMPLE_ISSUE_DATES[year], index)
            samples.append((f"{type_code}-{year}", card))

        with override_settings(PORTAL_BASE_URL=options["base_url"] or settings.PORTAL_BASE_URL):
            pdf = render_cards_pdf([card for _, card in samples])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "samples.pdf").write_bytes(pdf)
        document = pypdfium2.PdfDocument(pdf)
        try:
            for index, (stem, card) in enumerate(samples):
                for offset, side in enumerate(("front", "back")):
                    page = document[2 * index + offset]
                    image = page.render(scale=options["dpi"] / 72).to_pil()
                    image.save(directory / f"{stem}-{side}.png", optimize=True)
                self.stdout.write(f"{stem}: {design_template_for(card)}")
        finally:
            document.close()
        self.stdout.write(self.style.SUCCESS(f"Wrote {2 * len(samples)} PNGs to {directory}"))
