"""The printed HMS card: cards in, PDF bytes out (WeasyPrint).

Tasks only store what this module returns, so the engine stays swappable (STYLE.md §6).

One PDF holds any number of cards, each as a CR80 front page and back page (85.6 x 54 mm,
DOMAIN.md "What the card is"). One call is ONE HTML document and ONE WeasyPrint render:
rendering cards one by one and merging would repeat the font subsetting and the PDF
assembly per card. Print batches (cards/batches.py) call it per 50 cards and append the
pages, which keeps memory flat for batches of any size at about 1 % more file size.

Speed and memory, measured with bench/bench_pdf.py (500 cards, each with its own photo, one
core of the 2-CPU development machine, which other work shared):
- a batch of 500: 15.1 s (14.9 s CPU, 30 ms a card), peak RSS 350 MB, of which about
  110 MB is Python, Django, WeasyPrint and the loaded cards before anything is rendered.
  A bare HTML(string=...).write_pdf() of the same document: 19.7 s (17.8 s CPU), 536 MB.
- one card: 43 ms warm (the first render of a process: 180 ms); bare: 70 ms.
What makes the difference:
- The stylesheets and the font configuration are built once per process (`_engine()`,
  about 70 ms: fontconfig, our @font-face files, card.css and the user-agent stylesheet).
- The user-agent stylesheet is WeasyPrint's own minus the rules cards never use (see
  UA_RULES_CARDS_NEVER_USE): WeasyPrint keeps a style per element and pseudo-element and
  per page until the PDF is written; without those rules a 200-card render took a fifth
  less memory and a fifth less time.
- The templates use as few elements as they can (templates/cards/pdf/base.html): memory
  grows with the number of boxes, about 15 kB each for the whole render.
- Photos: a 315 x 405 px JPEG (380 dpi in the 21 x 27 mm frame, 35:45), made with Pillow's
  JPEG draft mode from the stored photo. (Measured with the earlier 300 x 400 px, 3:4 frame.) WeasyPrint copies a JPEG into the PDF as it is
  (DCTDecode) unless asked to re-encode it, so optimize_images and jpeg_quality stay off.
  Images reach WeasyPrint from memory through the URL fetcher (card-image:<key>) rather
  than as data: URIs in the HTML, whose base64 text the template, the parser and the image
  cache each copied: 380 -> 349 MB at the peak of a 500-card batch and 9 % less time.
- QR code: a greyscale PNG of 10 px per module (about 350 dpi at 30 mm; image-rendering:
  pixelated keeps the modules square), made from qrcode's module matrix. qrcode's
  path-based SVG (qr_svg) inlined decodes as well, and is vector, but WeasyPrint parses its
  path of a few hundred squares in Python on every card: 44.6 ms a card and 413 MB for
  the batch against 29.8 ms and 350 MB, 50-64 ms for one card against 40-43 ms. Both
  decode with zbar from a 300 dpi rendering (tests/cards/test_pdf.py).
- Write options (WeasyPrint 70 DEFAULT_OPTIONS): fonts subset (full_fonts=False), no
  hinting, compressed streams. uncompressed_pdf=True and full_fonts=True were no faster
  within the noise and made the file 2.9 and 1.8 times larger.

Font: DejaVu Sans from the Debian package fonts-dejavu-core (fontconfig depends on it, so it
is on every Debian/Ubuntu machine that runs WeasyPrint), loaded through @font-face from its
fixed path under the family name "HMS Card Sans". Naming the files rather than a family
means fontconfig cannot quietly substitute a font with other metrics that would make the
texts overflow; a missing file stops rendering with a message naming the package.
"""

from __future__ import annotations

import base64
import datetime
import functools
import io
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from PIL import Image, ImageOps
from weasyprint import CSS, HTML
from weasyprint import html as weasyprint_html
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from cards.models import Card, CardDesign, CardType
from cards.numbers import display
from cards.photos import DEFAULT_CROP_CENTRING

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"normal": FONT_DIR / "DejaVuSans.ttf", "bold": FONT_DIR / "DejaVuSans-Bold.ttf"}
FONT_FAMILY = "HMS Card Sans"

# The photo frame is 35:45, the passport photo's ratio (21 x 27 mm in the 2020 design);
# 315 x 405 px prints at about 380 dpi. cards/photos.py stores photos in the same ratio.
PHOTO_PIXELS = (315, 405)
PHOTO_JPEG_QUALITY = 85

# 10 px per module: a 41-module code in the 28-30 mm frame prints at about 350 dpi.
QR_PIXELS_PER_MODULE = 10

# Images handed to WeasyPrint from memory by _CardAssetFetcher.
IMAGE_SCHEME = "card-image"

DATE_FORMAT = "%d.%m.%Y"

# Colour families by card type code. The scheme keeps widening (DOMAIN.md), so any other
# type prints in a neutral palette until it gets colours of its own.
PALETTES = {
    "construction": "p-construction",
    "bygg": "p-construction",
    "cleaning": "p-cleaning",
    "renhold": "p-cleaning",
}
DEFAULT_PALETTE = "p-other"

QrFormat = Literal["png", "svg"]


def _assets_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "cards" / "pdf"


def card_status_url(number: str) -> str:
    """The public status check the card's QR code leads to."""
    return settings.PORTAL_BASE_URL + reverse("cards:status_card", args=[number])


# ---- QR codes ----


def _qr_code(url: str, image_factory: Any = None) -> qrcode.QRCode[Any]:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, image_factory=image_factory
    )
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_svg(url: str) -> str:
    """The QR code of url as a path-based SVG document (error correction M, 4-module margin)."""
    code = _qr_code(url, image_factory=qrcode.image.svg.SvgPathImage)
    svg: str = code.make_image().to_string(encoding="unicode")
    return svg


def qr_png(url: str, *, pixels_per_module: int = QR_PIXELS_PER_MODULE) -> bytes:
    """The same QR code as a greyscale PNG, pixels_per_module px square per module."""
    modules = _qr_code(url).get_matrix()  # includes the 4-module margin
    size = len(modules)
    pixels = bytes(0 if dark else 255 for row in modules for dark in row)
    image = Image.frombytes("L", (size, size), pixels).resize(
        (size * pixels_per_module, size * pixels_per_module), Image.Resampling.NEAREST
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_SVG_ROOT_ATTRIBUTES = re.compile(r'\s(?:width|height)="[^"]*"')


def _qr_inline_svg(url: str) -> SafeString:
    svg = qr_svg(url)
    root_end = svg.index(">")
    # Sized by the stylesheet, not by width/height; the fixed id would repeat in a batch.
    root = _SVG_ROOT_ATTRIBUTES.sub("", svg[:root_end]) + ' class="qr-code"'
    svg = root + svg[root_end:].replace(' id="qr-path"', "")
    # The SVG is ours (the configured base URL and a card number's digits), not user input.
    return mark_safe(svg)  # noqa: S308


# ---- Designs ----


def design_template_for(card: Card) -> str:
    """The design template to print the card with.

    card.design when one was recorded for the card; otherwise the design of its card type in
    force on its issue date (latest effective_from <= issued_on; a card issued before the
    first design gets the first); DESIGN_2020 when the type has no designs at all.
    """
    return _templates_for([card])[0]


def _template_in_force(designs: Iterable[tuple[datetime.date, str]], day: datetime.date) -> str:
    ordered = sorted(designs)
    if not ordered:
        return CardDesign.Template.DESIGN_2020
    in_force = [template for effective_from, template in ordered if effective_from <= day]
    return in_force[-1] if in_force else ordered[0][1]


def _templates_for(cards: Sequence[Card]) -> list[str]:
    """design_template_for of every card, in two queries whatever the number of cards."""
    pinned_ids = {card.design_id for card in cards if card.design_id is not None}
    pinned = dict(CardDesign.objects.filter(pk__in=pinned_ids).values_list("pk", "template"))
    designs: dict[int, list[tuple[datetime.date, str]]] = defaultdict(list)
    rows = CardDesign.objects.filter(card_type_id__in={card.card_type_id for card in cards})
    for type_id, effective_from, template in rows.values_list(
        "card_type_id", "effective_from", "template"
    ):
        designs[type_id].append((effective_from, template))
    return [
        pinned[card.design_id]
        if card.design_id is not None
        else _template_in_force(designs[card.card_type_id], card.issued_on)
        for card in cards
    ]


# ---- The print document ----


def print_photo(photo: bytes) -> bytes:
    """The photo as printed: a small JPEG cropped to the 35:45 frame."""
    with Image.open(io.BytesIO(photo)) as image:
        # JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale when that still covers the frame:
        # a stored 826 x 1062 photo (cards/photos.py) decodes at half size, 413 x 531.
        image.draft("RGB", PHOTO_PIXELS)
        upright = ImageOps.exif_transpose(image).convert("RGB")
    # Stored photos are already 35:45 (cards/photos.py), so this only scales them; photos
    # stored before that (3:4) lose a strip, a little above centre where faces sit.
    framed = ImageOps.fit(
        upright,
        PHOTO_PIXELS,
        method=Image.Resampling.LANCZOS,
        centering=(0.5, DEFAULT_CROP_CENTRING),
    )
    out = io.BytesIO()
    framed.save(out, format="JPEG", quality=PHOTO_JPEG_QUALITY)
    return out.getvalue()


@dataclass
class PrintDocument:
    """The HTML of a print run and the images it names as card-image:<key> URLs."""

    html: str = ""
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def add_image(self, content: bytes, media_type: str) -> str:
        url = f"{IMAGE_SCHEME}:{len(self.images)}"
        self.images[url] = (content, media_type)
        return url

    def self_contained_html(self) -> str:
        """The HTML with every image inlined as a data: URI (for a render without us)."""
        html = self.html
        for url, (content, media_type) in self.images.items():
            data_uri = f"data:{media_type};base64,{base64.b64encode(content).decode('ascii')}"
            html = html.replace(f'"{url}"', f'"{data_uri}"')
        return html


def _date(day: datetime.date | None) -> str:
    return day.strftime(DATE_FORMAT) if day else "-"


def _orgnr(orgnr: str) -> str:
    """Organisation numbers are printed in groups of three: 999 888 777."""
    return " ".join(orgnr[i : i + 3] for i in range(0, len(orgnr), 3))


@dataclass(frozen=True, slots=True)
class PrintedCard:
    """Exactly what is printed on one card; the holder's identity number is not in it."""

    template: str
    palette: str
    number: str
    holder_name: str
    birth_date: str
    employer_name: str
    employer_orgnr: str
    type_name_nb: str
    type_name_en: str
    issued_on: str
    valid_until: str
    issuer_name: str
    photo_src: str
    qr_markup: SafeString
    status_site: str


def _status_site() -> str:
    """Where people type a card number, as printed: host and path without the scheme."""
    parts = urlsplit(settings.PORTAL_BASE_URL)
    return parts.netloc + parts.path + reverse("cards:status")


def _photo_src(card: Card, document: PrintDocument) -> str:
    if not card.photo:
        return "placeholder.svg"
    with card.photo.open("rb") as stored:
        photo = bytes(stored.read())
    return document.add_image(print_photo(photo), "image/jpeg")


def _qr_markup(url: str, document: PrintDocument, qr_format: QrFormat) -> SafeString:
    if qr_format == "svg":
        return _qr_inline_svg(url)
    src = document.add_image(qr_png(url), "image/png")
    return format_html('<img class="qr-code" src="{}" alt="">', src)


def cards_document(cards: Sequence[Card], *, qr_format: QrFormat = "png") -> PrintDocument:
    """The print document of the cards, before layout."""
    document = PrintDocument()
    templates = _templates_for(cards)
    # Card types in one query, whether or not the caller used select_related.
    card_types = CardType.objects.in_bulk({card.card_type_id for card in cards})
    site = _status_site()
    printed = []
    for card, template in zip(cards, templates, strict=True):
        card_type = card_types[card.card_type_id]
        printed.append(
            PrintedCard(
                template=template,
                palette=PALETTES.get(card_type.code, DEFAULT_PALETTE),
                number=display(card.number),
                holder_name=card.holder_name,
                birth_date=_date(card.holder_birth_date),
                employer_name=card.employer_name,
                employer_orgnr=_orgnr(card.employer_orgnr),
                type_name_nb=card_type.name_nb,
                type_name_en=card_type.name_en,
                issued_on=_date(card.issued_on),
                valid_until=_date(card.valid_until),
                issuer_name=card.issuer_name,
                photo_src=_photo_src(card, document),
                qr_markup=_qr_markup(card_status_url(card.number), document, qr_format),
                status_site=site,
            )
        )
    document.html = render_to_string("cards/pdf/base.html", {"cards": printed})
    return document


# ---- Rendering ----


class _CardAssetFetcher(URLFetcher):
    """Fetches only what a card is made of: its images, our assets and the font files.

    Names and employers are escaped text, so no URL can come from them; this keeps it that
    way should a template ever change, and no render can reach the network.
    """

    def __init__(
        self, roots: Sequence[Path], images: dict[str, tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(allowed_protocols={"file"})
        self._roots = [root.resolve() for root in roots]
        self._images = images or {}

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith(f"{IMAGE_SCHEME}:"):
            content, media_type = self._images[url]
            return URLFetcherResponse(url, content, {"Content-Type": media_type})
        path = Path(urlsplit(url).path).resolve()
        if not any(path.is_relative_to(root) for root in self._roots):
            raise ValueError(f"{url} is not a card asset")
        response: URLFetcherResponse = super().fetch(url, headers)
        return response


# WeasyPrint's user-agent stylesheet gives every element a ::marker, footnote and note
# pseudo-element style and every page sixteen margin-box styles, and keeps them all until
# the PDF is written. Cards have no lists, footnotes, notes or margin boxes. If a WeasyPrint
# release rewords these rules the pattern stops matching and the full stylesheet is used:
# slower, never wrong (tests/cards/test_pdf.py notices).
UA_RULES_CARDS_NEVER_USE = re.compile(
    r"^[ \t]*(?:::marker|::(?:foot)?note-(?:call|marker|callback)"
    r"|@(?:top|bottom|left|right)-[a-z-]+)[ \t]*\{[^{}]*\}[ \t]*$",
    re.MULTILINE,
)


def card_user_agent_css() -> tuple[str, int]:
    """WeasyPrint's user-agent stylesheet without the rules cards never use, and their count."""
    return UA_RULES_CARDS_NEVER_USE.subn("", weasyprint_html.UA)


class _CardHTML(HTML):
    """An HTML document with the trimmed user-agent stylesheet.

    _ua_stylesheets is WeasyPrint's (private) hook for it, in place since version 53.
    """

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_engine().user_agent_stylesheet]


@dataclass(frozen=True)
class _Engine:
    font_config: FontConfiguration
    user_agent_stylesheet: CSS
    stylesheets: list[CSS]
    asset_roots: tuple[Path, ...]
    base_url: str
    # WeasyPrint shares Pango and fontconfig state through the font configuration; one
    # render at a time per process keeps a threaded web worker safe.
    lock: threading.Lock


def font_face_css() -> str:
    """@font-face rules naming the DejaVu files, or ImproperlyConfigured when missing."""
    missing = [str(path) for path in FONT_FILES.values() if not path.is_file()]
    if missing:
        raise ImproperlyConfigured(
            f"Card font missing ({', '.join(missing)}): install the Debian package "
            "fonts-dejavu-core."
        )
    return "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}'
        for weight, path in FONT_FILES.items()
    )


@functools.cache
def _engine() -> _Engine:
    assets = _assets_dir()
    roots = (assets, FONT_DIR)
    fetcher = _CardAssetFetcher(roots)
    font_config = FontConfiguration()
    user_agent_css, _ = card_user_agent_css()
    return _Engine(
        font_config=font_config,
        # Its @counter-style rules are already in the document's counter styles
        # (HTML._ua_counter_style); a fresh dict keeps them from being declared twice.
        user_agent_stylesheet=CSS(string=user_agent_css, counter_style=CounterStyle()),
        stylesheets=[
            CSS(string=font_face_css(), font_config=font_config, url_fetcher=fetcher),
            CSS(filename=assets / "card.css", font_config=font_config, url_fetcher=fetcher),
        ],
        asset_roots=roots,
        base_url=assets.as_uri() + "/",
        lock=threading.Lock(),
    )


def render_document_pdf(document: PrintDocument) -> bytes:
    """One WeasyPrint render of a print document with the cached stylesheets and fonts."""
    engine = _engine()
    fetcher = _CardAssetFetcher(engine.asset_roots, document.images)
    with engine.lock:
        html = _CardHTML(string=document.html, base_url=engine.base_url, url_fetcher=fetcher)
        pdf: bytes = html.write_pdf(
            stylesheets=engine.stylesheets,
            font_config=engine.font_config,
            full_fonts=False,
            hinting=False,
            optimize_images=False,
            uncompressed_pdf=False,
        )
    return pdf


def render_cards_pdf(cards: Sequence[Card]) -> bytes:
    """One PDF with a front page and a back page per card, in the order given."""
    if not cards:
        raise ValueError("No cards to render.")
    return render_document_pdf(cards_document(cards))
