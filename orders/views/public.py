"""The public page an order confirmation's QR code leads to: no login.

Anyone holding the confirmation (an inspector, a site manager, the client) may see that the
order exists and how far it has come. The page shows what the confirmation itself shows
(name, employer, card type, order date and number) and the state in plain words, never the
identity number or the birth date. It is rate limited per address like the status check; a
tampered address answers 404 and an expired one a page that says only that.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from hmsportal.ratelimit import rate_limited
from orders import selectors
from orders.confirmations import ConfirmationExpired, confirmation_reference
from orders.progress import line_progress

CONFIRMATION_SCOPE = "order-confirmation"


def _robots(response: HttpResponse) -> HttpResponse:
    # The page names a person: keep it out of search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_exempt  # GET only: nothing to protect, and other methods get 405 rather than 403
@require_safe
@never_cache
@rate_limited(scope=CONFIRMATION_SCOPE)
def order_confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an order and say where it is now."""
    try:
        reference = confirmation_reference(token)
    except ConfirmationExpired:
        return _robots(render(request, "orders/confirmation_expired.html", status=410))
    if reference is None:
        raise Http404
    line = selectors.order_line_for_confirmation(
        line_id=reference.line_id, ordered_at=reference.ordered_at
    )
    if line is None:
        raise Http404
    return _robots(
        render(
            request,
            "orders/confirmation.html",
            {
                "line": line,
                "order": line.order,
                "progress": line_progress(line),
                "card_type_name": line.card_type.name(get_language()),
                "checked_now": timezone.localtime(),
            },
        )
    )
