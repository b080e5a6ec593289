"""The portal's A4 documents as PDF: a template and its context in, PDF bytes out (WeasyPrint).

For documents people print or attach to mail (the order confirmation). The printed card has
its own renderer, tuned for batches of hundreds, in cards/pdf.py. Callers only store or send
the bytes, so the engine stays swappable (STYLE.md §6).

A document reaches nothing outside the portal: the fetcher allows data: URIs (a QR code is
handed in as one) and files under static/pdf/ and the font folder, so no name or address
typed by a user can make a render fetch anything.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# DejaVu Sans from fonts-dejavu-core, named by file (as cards/pdf.py does) so that
# fontconfig cannot quietly substitute a font with other metrics.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"normal": FONT_DIR / "DejaVuSans.ttf", "bold": FONT_DIR / "DejaVuSans-Bold.ttf"}
FONT_FAMILY = "HMS Document Sans"

# WeasyPrint shares Pango and fontconfig state through the font configuration: one render
# at a time per process keeps a threaded web worker safe.
_render_lock = threading.Lock()


def _assets_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "pdf"


class _DocumentFetcher(URLFetcher):
    """data: URIs, and files under the document assets and the font folder; nothing else."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"file", "data"})
        self._roots = [root.resolve() for root in roots]

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("file:"):
            path = Path(urlsplit(url).path).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                raise ValueError(f"{url} is not a document asset")
        response: URLFetcherResponse = super().fetch(url, headers)
        return response


@functools.cache
def _font_config_and_fonts() -> tuple[FontConfiguration, CSS]:
    missing = [str(path) for path in FONT_FILES.values() if not path.is_file()]
    if missing:
        raise ImproperlyConfigured(
            f"Document font missing ({', '.join(missing)}): install the Debian package "
            "fonts-dejavu-core."
        )
    font_config = FontConfiguration()
    rules = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}'
        for weight, path in FONT_FILES.items()
    )
    fetcher = _DocumentFetcher((FONT_DIR,))
    return font_config, CSS(string=rules, font_config=font_config, url_fetcher=fetcher)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render the template with the context to a PDF.

    The template may link stylesheets and images relative to static/pdf/ (its base URL) and
    use the font family "HMS Document Sans".
    """
    html = render_to_string(template, context)
    assets = _assets_dir()
    fetcher = _DocumentFetcher((assets, FONT_DIR))
    with _render_lock:
        font_config, fonts = _font_config_and_fonts()
        pdf: bytes = HTML(
            string=html, base_url=assets.as_uri() + "/", url_fetcher=fetcher
        ).write_pdf(stylesheets=[fonts], font_config=font_config)
    return pdf
