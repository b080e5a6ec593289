"""The order confirmation: the document that lets a worker start before the card arrives.

Seed page and DOMAIN.md ("Who orders"): workers may start work before the card arrives when
the order can be documented. The confirmation is one PDF per order line with the worker's
name, the employer, the card type, the order date and number, and a QR code leading to a
public page that says whether the order still stands. Its address is signed (salted, with
the time it was made) and holds the order line's id and its order's time, never anything
about the person; a tampered address leads nowhere, and an old one says only that it has
expired.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from cards.pdf import qr_png
from hmsportal.pdf import render_pdf
from orders.models import OrderLine

SALT = "orders.order-confirmation"
# Longer than any token we make (about 60 characters); anything longer is not ours.
MAX_TOKEN_LENGTH = 200
TEMPLATE = "orders/pdf/confirmation.html"


def confirmation_token(line: OrderLine) -> str:
    """The signed reference to the line that the public page's address carries."""
    return signing.dumps(
        [line.pk, int(line.order.created_at.timestamp())], salt=SALT, compress=False
    )


def confirmation_url(line: OrderLine) -> str:
    """The public page's full address, as the QR code holds it."""
    return settings.PORTAL_BASE_URL + reverse("order_confirmation", args=[confirmation_token(line)])


class ConfirmationExpired(Exception):
    """The signature is ours but older than ORDER_CONFIRMATION_VALID_DAYS."""


@dataclass(frozen=True)
class TokenReference:
    line_id: int
    ordered_at: int


def confirmation_reference(token: str) -> TokenReference | None:
    """What a token refers to; None when it is not one of ours (tampered, garbled).

    Raises ConfirmationExpired for a genuine token older than ORDER_CONFIRMATION_VALID_DAYS.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    max_age = datetime.timedelta(days=settings.ORDER_CONFIRMATION_VALID_DAYS)
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ConfirmationExpired from None
    except signing.BadSignature:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(type(part) is int for part in payload)
    ):
        return None
    return TokenReference(line_id=payload[0], ordered_at=payload[1])


def _data_uri(content: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode('ascii')}"


def confirmation_pdf(line: OrderLine) -> bytes:
    """The order confirmation of one order line as a PDF (labels in bokmål and English)."""
    url = confirmation_url(line)
    return render_pdf(
        TEMPLATE,
        {
            "line": line,
            "order": line.order,
            "ordered_on": timezone.localtime(line.order.created_at),
            "employer_orgnr": " ".join(
                line.order.employer_orgnr[i : i + 3] for i in range(0, 9, 3)
            ),
            "url": url,
            "qr_src": _data_uri(qr_png(url), "image/png"),
        },
    )


def confirmation_filename(line: OrderLine) -> str:
    """The attachment's name: the order and line numbers, nothing about the person."""
    return f"ordrebekreftelse-{line.order_id}-{line.pk}.pdf"
