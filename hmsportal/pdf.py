"""Documents as PDF: an HTML template and its context in, PDF bytes out (WeasyPrint).

For the portal's paper (invoices, confirmations); the printed cards have their own tuned
engine in cards/pdf.py. Callers store or send what comes back, so the engine stays
swappable (STYLE.md §6). A render reaches no network and no file outside the fonts: the
templates carry their styles inline and every text in them is escaped.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# WeasyPrint shares Pango and fontconfig state between renders; one at a time per process
# keeps a threaded web worker safe.
_lock = threading.Lock()


class _FontsOnlyFetcher(URLFetcher):
    """Lets a document load the DejaVu font files and nothing else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file"})

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url.startswith(FONT_DIR.as_uri() + "/"):
            raise ValueError(f"{url} is not a font file")
        response: URLFetcherResponse = super().fetch(url, headers)
        return response


def font_face_css(family: str) -> str:
    """@font-face rules naming the DejaVu files (fonts-dejavu-core) under a family name."""
    files = {"normal": FONT_DIR / "DejaVuSans.ttf", "bold": FONT_DIR / "DejaVuSans-Bold.ttf"}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise ImproperlyConfigured(
            f"Font missing ({', '.join(missing)}): install the Debian package fonts-dejavu-core."
        )
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}'
        for weight, path in files.items()
    )


def html_pdf(html: str) -> bytes:
    """One HTML document rendered as PDF."""
    with _lock:
        pdf: bytes = HTML(
            string=html, base_url=FONT_DIR.as_uri() + "/", url_fetcher=_FontsOnlyFetcher()
        ).write_pdf()
    return pdf


def template_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """A template rendered with its context (font_face_css is given as `font_faces`) as PDF."""
    return html_pdf(
        render_to_string(template_name, {"font_faces": font_face_css("Document Sans"), **context})
    )
