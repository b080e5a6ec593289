"""The printed card: real WeasyPrint renders, read back with pypdfium2 and zbar."""

from __future__ import annotations

import datetime
import io

import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.test.signals import template_rendered
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from cards.models import CardDesign
from cards.numbers import display
from cards.pdf import (
    card_status_url,
    card_user_agent_css,
    cards_document,
    design_template_for,
    qr_svg,
    render_cards_pdf,
    render_document_pdf,
)
from tests.cards.factories import CardDesignFactory, CardFactory, CardTypeFactory

pytestmark = pytest.mark.django_db

CR80_WIDTH_PT = 85.6 / 25.4 * 72
CR80_HEIGHT_PT = 54 / 25.4 * 72
BASE_URL = "https://hms-kort.test.example.org/portal"


def pages_of(pdf: bytes) -> list[pdfium.PdfPage]:
    document = pdfium.PdfDocument(pdf)
    return [document[index] for index in range(len(document))]


def text_of(page: pdfium.PdfPage) -> str:
    return str(page.get_textpage().get_text_range())


def image_of(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    return page.render(scale=dpi / 72).to_pil().convert("RGB")


def pixel_at_mm(image: Image.Image, x_mm: float, y_mm: float) -> tuple[int, int, int]:
    scale = image.width / 85.6
    pixel = image.getpixel((round(x_mm * scale), round(y_mm * scale)))
    assert isinstance(pixel, tuple)
    return (pixel[0], pixel[1], pixel[2])


def close_to(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True))


@pytest.fixture
def design_type():
    """A card type of its own with the 2018 design and the 2020 design."""
    card_type = CardTypeFactory(code="pdf-test", name_nb="Testkort", name_en="Test card")
    CardDesignFactory(card_type=card_type, design_2018=True)
    CardDesignFactory(card_type=card_type)
    return card_type


def test_every_card_is_a_cr80_front_and_back():
    pdf = render_cards_pdf([CardFactory(with_photo=True)])

    assert pdf.startswith(b"%PDF-")
    pages = pages_of(pdf)
    assert len(pages) == 2
    for page in pages:
        width, height = page.get_size()
        assert width == pytest.approx(CR80_WIDTH_PT, abs=0.5)
        assert height == pytest.approx(CR80_HEIGHT_PT, abs=0.5)


def test_a_batch_of_three_cards_is_six_pages_in_the_order_given():
    cards = [
        CardFactory(holder_first_name="Første", holder_last_name="Kortholder"),
        CardFactory(holder_first_name="Andre", holder_last_name="Kortholder", with_photo=True),
        CardFactory(holder_first_name="Tredje", holder_last_name="Kortholder"),
    ]

    pages = pages_of(render_cards_pdf(cards))

    assert len(pages) == 6
    for index, card in enumerate(cards):
        assert card.holder_name in text_of(pages[2 * index])
        assert display(card.number) in text_of(pages[2 * index + 1])


@pytest.mark.parametrize("issued_on", [datetime.date(2019, 6, 3), datetime.date(2024, 3, 1)])
def test_the_qr_code_decodes_to_the_cards_status_url(settings, design_type, issued_on):
    settings.PORTAL_BASE_URL = BASE_URL
    card = CardFactory(
        card_type=design_type,
        issued_on=issued_on,
        valid_until=issued_on + datetime.timedelta(days=700),
    )

    back = pages_of(render_cards_pdf([card]))[1]
    symbols = zbar_decode(image_of(back, dpi=300), symbols=[ZBarSymbol.QRCODE])

    assert [symbol.data.decode() for symbol in symbols] == [f"{BASE_URL}/status/{card.number}/"]
    assert card_status_url(card.number) == f"{BASE_URL}/status/{card.number}/"


def test_the_text_layer_has_the_printed_facts_and_not_the_identity_number(settings):
    settings.PORTAL_BASE_URL = BASE_URL
    card = CardFactory(
        holder_first_name="Åse Marie",
        holder_last_name="Ødegård",
        holder_birth_date=datetime.date(1984, 7, 9),
        employer_name="Bjørnstad Bygg & Rør <AS>",
        employer_orgnr="923609016",
        issuer_name="Arbeidstilsynet",
        issued_on=datetime.date(2025, 3, 14),
        valid_until=datetime.date(2027, 3, 14),
        with_photo=True,
    )

    front, back = (text_of(page) for page in pages_of(render_cards_pdf([card])))
    text = front + back

    for printed in (
        "Åse Marie Ødegård",
        "Bjørnstad Bygg & Rør <AS>",
        "923 609 016",
        display(card.number),
        "14.03.2027",
        "14.03.2025",
        "09.07.1984",
        "Arbeidstilsynet",
        "hms-kort.test.example.org/portal/status/",
    ):
        assert printed in text
    for label in (
        "Gyldig til / Valid until",
        "Fødselsdato / Date of birth",
        "Arbeidsgiver / Employer",
        "Org.nr.",
        "Kortnummer / Card number",
        "Utstedt / Issued",
        "Utsteder / Issuer",
        "Kortet er personlig / The card is personal",
    ):
        assert label in text
    assert card.holder_national_id not in text
    assert card.holder_national_id not in "".join(text.split())


def test_the_design_in_force_on_the_issue_date_is_printed(design_type):
    old = CardFactory(
        card_type=design_type,
        issued_on=datetime.date(2019, 11, 20),
        valid_until=datetime.date(2021, 11, 20),
    )
    new = CardFactory(
        card_type=design_type,
        issued_on=datetime.date(2024, 2, 1),
        valid_until=datetime.date(2026, 2, 1),
    )
    rendered: list[str] = []

    def record(sender, template, context, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        pages = pages_of(render_cards_pdf([old, new]))
    finally:
        template_rendered.disconnect(record)

    assert rendered.count(CardDesign.Template.DESIGN_2018) == 1
    assert rendered.count(CardDesign.Template.DESIGN_2020) == 1
    # Each design words the status check its own way.
    assert "Kontroller kortet / Verify the card" in text_of(pages[1])
    assert "Sjekk status / Check status" not in text_of(pages[1])
    assert "Sjekk status / Check status" in text_of(pages[3])
    assert "Kontroller kortet / Verify the card" not in text_of(pages[3])


def test_design_lookup_edges(design_type):
    before_any = CardFactory.build(card_type=design_type, issued_on=datetime.date(2017, 5, 1))
    on_the_day = CardFactory.build(card_type=design_type, issued_on=datetime.date(2020, 1, 1))
    pinned = CardFactory.build(
        card_type=design_type,
        issued_on=datetime.date(2024, 1, 1),
        design=CardDesign.objects.get(card_type=design_type, effective_from="2018-01-01"),
    )
    without_designs = CardFactory.build(
        card_type=CardTypeFactory(code="no-designs"), issued_on=datetime.date(2019, 1, 1)
    )

    assert design_template_for(before_any) == CardDesign.Template.DESIGN_2018
    assert design_template_for(on_the_day) == CardDesign.Template.DESIGN_2020
    assert design_template_for(pinned) == CardDesign.Template.DESIGN_2018
    assert design_template_for(without_designs) == CardDesign.Template.DESIGN_2020


def test_construction_and_cleaning_print_in_different_colours():
    construction = CardFactory(card_type=CardTypeFactory(construction=True))
    cleaning = CardFactory(card_type=CardTypeFactory(cleaning=True))

    pages = pages_of(render_cards_pdf([construction, cleaning]))
    # The 2020 design's band across the top of the front.
    band_construction = pixel_at_mm(image_of(pages[0], dpi=150), 60, 1)
    band_cleaning = pixel_at_mm(image_of(pages[2], dpi=150), 60, 1)

    assert close_to(band_construction, (0xD9, 0x54, 0x1E))
    assert close_to(band_cleaning, (0x00, 0x79, 0x8C))


def test_the_photo_is_printed_and_a_card_without_one_gets_a_placeholder():
    with_photo = CardFactory(with_photo=True)
    without_photo = CardFactory(photo="")

    pages = pages_of(render_cards_pdf([with_photo, without_photo]))
    # Top-left inside the 2020 design's photo frame (3 mm, 13.5 mm, 21 x 27 mm).
    photo_corner = pixel_at_mm(image_of(pages[0], dpi=150), 5, 15.5)
    placeholder_corner = pixel_at_mm(image_of(pages[2], dpi=150), 5, 15.5)

    assert close_to(photo_corner, (0x4A, 0x7F, 0xB5))  # the factory photo's background
    assert close_to(placeholder_corner, (0xE4, 0xE7, 0xEB))


@pytest.mark.parametrize(
    "design", [CardDesign.Template.DESIGN_2018, CardDesign.Template.DESIGN_2020]
)
def test_the_printed_photo_has_the_passport_ratio_35_45(design):
    card_type = CardTypeFactory()
    CardDesignFactory(card_type=card_type, template=design)
    # A stored photo from before the 35:45 frame (3:4) is cropped to it as well.
    card = CardFactory(card_type=card_type, with_photo=True)
    import pypdfium2.raw as pdfium_c

    (photo,) = [
        image
        for image in pages_of(render_cards_pdf([card]))[0].get_objects(
            filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]
        )
        if image.get_px_size()[0] < image.get_px_size()[1]  # the QR code is on the back
    ]
    width_px, height_px = photo.get_px_size()
    left, bottom, right, top = photo.get_bounds()

    assert (width_px, height_px) == (315, 405)
    assert width_px * 45 == height_px * 35
    assert abs((right - left) / (top - bottom) - 35 / 45) < 0.005


def test_qr_svg_is_a_path_based_svg():
    svg = qr_svg("https://example.org/status/123456789012/")

    assert svg.startswith("<svg")
    assert "<path" in svg
    assert "<rect" not in svg


def test_the_inline_svg_qr_code_decodes_as_well(settings):
    """The measured alternative to the PNG (cards/pdf.py docstring) must stay a working one."""
    settings.PORTAL_BASE_URL = BASE_URL
    card = CardFactory()

    pdf = render_document_pdf(cards_document([card], qr_format="svg"))
    symbols = zbar_decode(image_of(pages_of(pdf)[1], dpi=300), symbols=[ZBarSymbol.QRCODE])

    assert [symbol.data.decode() for symbol in symbols] == [f"{BASE_URL}/status/{card.number}/"]


def test_the_trimmed_user_agent_stylesheet_still_matches_weasyprint():
    """The memory saving depends on WeasyPrint's wording of its UA rules: notice a change."""
    css, removed = card_user_agent_css()

    # ::marker, five footnote and note pseudo-elements and 16 page margin boxes.
    assert removed == 22
    assert "::marker" not in css
    assert "@top-left " not in css
    assert "@footnote" in css  # the footnote area itself stays


def test_render_card_samples_writes_both_designs_for_both_types(tmp_path):
    out = io.StringIO()
    call_command(
        "render_card_samples", str(tmp_path), "--dpi", "300", "--base-url", BASE_URL, stdout=out
    )

    for stem in ("construction-2018", "cleaning-2018", "construction-2020", "cleaning-2020"):
        front = Image.open(tmp_path / f"{stem}-front.png")
        back = Image.open(tmp_path / f"{stem}-back.png")
        assert front.size == back.size == (1012, 638)  # 85.6 x 54 mm at 300 dpi
        [symbol] = zbar_decode(back, symbols=[ZBarSymbol.QRCODE])
        assert symbol.data.decode().startswith(f"{BASE_URL}/status/")
    assert "construction-2018: cards/pdf/design_2018.html" in out.getvalue()
    assert "cleaning-2020: cards/pdf/design_2020.html" in out.getvalue()
    assert len(pages_of((tmp_path / "samples.pdf").read_bytes())) == 8


def test_no_cards_is_an_error():
    with pytest.raises(ValueError, match="No cards"):
        render_cards_pdf([])
