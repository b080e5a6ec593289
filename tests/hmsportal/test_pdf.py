"""The portal's document renderer (hmsportal/pdf.py): template in, PDF out, nothing fetched
from outside the portal."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from hmsportal.pdf import _assets_dir, _DocumentFetcher, render_pdf


def test_a_template_renders_to_an_a4_pdf_with_its_text(db) -> None:
    from tests.orders.factories import OrderLineFactory

    line = OrderLineFactory(first_name="Åse Marie", last_name="Ødegård")
    pdf = render_pdf(
        "orders/pdf/confirmation.html",
        {"line": line, "order": line.order, "url": "https://example.org/x", "qr_src": ""},
    )
    page = pdfium.PdfDocument(pdf)[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert "Åse Marie Ødegård" in str(page.get_textpage().get_text_range())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/tracker.png",
        "https://example.org/logo.png",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ],
)
def test_a_document_cannot_fetch_anything_outside_its_assets(url) -> None:
    fetcher = _DocumentFetcher((_assets_dir(),))
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_a_document_can_fetch_its_stylesheet_and_data_uris() -> None:
    fetcher = _DocumentFetcher((_assets_dir(),))
    assert b"@page" in fetcher.fetch((_assets_dir() / "document.css").as_uri()).read()
    assert fetcher.fetch("data:text/plain;base64,aGVq").read() == b"hej"
