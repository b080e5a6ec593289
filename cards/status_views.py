"""The public status check: a page for people and a JSON API for site-registration systems.

Anyone may check a card by number or QR code (DOMAIN.md, "The status check"). Both show what
the card itself shows and whether it is valid today, never the identity number or the birth
date. Neither needs a login; both are rate limited per address (API keys get their own
budget), and page and API draw on the same anonymous budget so one cannot be used to get
around the other.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from cards.api_keys import api_client_for_key, api_key_from_request
from cards.numbers import NumberForm, classify, display, normalise
from cards.selectors.status import CardStatusFacts, card_for_status, card_status_facts
from cards.standing import card_standing, revocation_day_and_reason
from cards.status_page import render_status_page, status_answer
from hmsportal.ratelimit import Budget, Decision, anonymous_budget, rate_limited
from hmsportal.storage import DocumentDecryptionError, read_document

logger = logging.getLogger(__name__)

# Page and API share one scope, and so one anonymous budget per address. Photos have their
# own: every result page loads one, and they must not halve the lookups a person gets.
STATUS_SCOPE = "status"
PHOTO_SCOPE = "status-photo"
PHOTO_SALT = "cards.status-photo"
PHOTO_TOKEN_SECONDS = 10 * 60
# Nothing longer can be a card number once spaces and dashes are gone; the cap keeps absurd
# input (a pasted document) from costing more than a length check.
MAX_INPUT_LENGTH = 64

MESSAGES = {
    "required": _("Enter the card number."),
    "malformed": _(
        "This is not a valid card number. Card numbers have 12 digits (older cards: 10)."
    ),
    "mistyped": _("The card number is mistyped. Check the digits."),
    "not_found": _("We cannot find a card with this number."),
}


def number_error(value: str) -> str | None:
    """Why the typed value cannot be a card number ("malformed", "mistyped"), or None."""
    if len(value) > MAX_INPUT_LENGTH:
        return "malformed"
    form = classify(value)
    if form is NumberForm.MALFORMED:
        return "malformed"
    if form is NumberForm.MISTYPED:
        return "mistyped"
    return None


class CardNumberField(forms.Field):
    """A card number as people type it; cleans to the digits only.

    A plain Field rather than a CharField: CharField's own checks (null characters, length)
    would answer hostile input with messages that say nothing about card numbers.
    """

    default_error_messages = {
        "required": MESSAGES["required"],
        "malformed": MESSAGES["malformed"],
        "mistyped": MESSAGES["mistyped"],
    }

    def to_python(self, value: Any) -> str:
        return str(value).strip() if value else ""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        error = number_error(value)
        if error is not None:
            raise forms.ValidationError(self.error_messages[error], code=error)

    def clean(self, value: Any) -> str:
        cleaned = super().clean(value)
        return normalise(cleaned) if cleaned else ""


class StatusForm(forms.Form):
    card = CardNumberField(label=_("Card number"))


def _page_limited(request: HttpRequest, decision: Decision) -> HttpResponse:
    return render(request, "cards/status_limited.html", {"retry_after": decision.retry_after})


def _render_status(request: HttpRequest, context: dict[str, Any], *, status: int) -> HttpResponse:
    response = render_status_page(request, context, status=status)
    # The result names a person: keep it out of search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@rate_limited(scope=STATUS_SCOPE, on_limited=_page_limited)
def _status_lookup(request: HttpRequest, value: str) -> HttpResponse:
    """Look the typed or scanned number up and render the answer (rate limited)."""
    form = StatusForm(data={"card": value})
    if not form.is_valid():
        error = form.errors.as_data()["card"][0]
        return _render_status(request, {"form": form, "outcome": error.code}, status=400)
    number: str = form.cleaned_data["card"]
    card = card_for_status(number=number)
    if card is None:
        context = {
            "form": form,
            "outcome": "not_found",
            "not_found_message": MESSAGES["not_found"],
            "number_display": display(number),
        }
        return _render_status(request, context, status=404)
    standing = card_standing(card, today=timezone.localdate(), public=True)
    context = {
        # Built only if the page renders it: the empty form under a found card comes from
        # the page's shell or the fragment cache (cards/status.html).
        "form": SimpleLazyObject(StatusForm),
        "outcome": "found",
        "status": standing.status,
        "reasons": standing.reasons,
        "answer": status_answer(
            card=card,
            standing=standing,
            card_type_name=card.card_type.name(get_language()),
            number_display=display(card.number),
            photo_url=reverse("cards:status_photo", args=[photo_token(card.number)])
            if card.photo
            else "",
            checked_now=timezone.now(),
        ),
    }
    return _render_status(request, context, status=200)


# The status page's answers are never cached: they name a person, and the status changes.
# These are the headers django.views.decorators.cache.never_cache sets (a test holds them
# to it); it parses and patches Cache-Control twice and formats Expires for every response,
# 120 k instructions or 3.5 % of a page's CPU (bench/README.md), where a lookup needs two
# fixed strings, the date one per second.
NEVER_CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, private"


@functools.lru_cache(maxsize=2)
def _expires(second: int) -> str:
    return http_date(second)


def _never_cached(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not response.has_header("Expires"):
            response["Expires"] = _expires(int(time.time()))
        response["Cache-Control"] = NEVER_CACHE_CONTROL
        return response

    return wrapper


# GET-only views change nothing, so CSRF protection has nothing to guard; exempting them lets
# any other method reach require_safe and get 405 instead of a CSRF 403.
@csrf_exempt
@require_safe
@_never_cached
def status_page(request: HttpRequest) -> HttpResponse:
    """The check form, and the answer when a number is submitted (?card=…)."""
    if "card" not in request.GET:
        return _render_status(request, {"form": StatusForm(), "outcome": ""}, status=200)
    return _status_lookup(request, request.GET.get("card", ""))


@csrf_exempt
@require_safe
@_never_cached
def status_card(request: HttpRequest, number: str) -> HttpResponse:
    """The answer for the number in the path: what a card's QR code leads to."""
    return _status_lookup(request, number)


def photo_token(number: str) -> str:
    """A short-lived signed reference to a card's photo, handed out with a status answer.

    The photo URL is not the card number: it cannot be used to probe numbers or collect
    photos past the status check's rate limit, and it expires after a few minutes.
    """
    return signing.dumps(number, salt=PHOTO_SALT, compress=False)


@csrf_exempt
@require_safe
@never_cache
@rate_limited(scope=PHOTO_SCOPE)
def status_photo(request: HttpRequest, token: str) -> HttpResponse:
    """The holder's photo, decrypted from private storage, for the status page."""
    try:
        number = signing.loads(token[:200], salt=PHOTO_SALT, max_age=PHOTO_TOKEN_SECONDS)
    except signing.BadSignature:
        raise Http404 from None
    card = card_for_status(number=str(number))
    if card is None or not card.photo:
        raise Http404
    try:
        content = read_document(card.photo)
    except (FileNotFoundError, DocumentDecryptionError):
        logger.exception("Photo of card %s cannot be read", card.pk)
        raise Http404 from None
    return HttpResponse(content, content_type="image/jpeg")


# --- The JSON API ------------------------------------------------------------------------


def _json(payload: dict[str, Any], *, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _api_budget(request: HttpRequest) -> Budget | HttpResponse:
    """A valid key draws on its own budget; no key on the address's; a bad key gets 401."""
    key = api_key_from_request(request)
    if key is None:
        return anonymous_budget(request)
    client = api_client_for_key(key)
    if client is None:
        response = _json({"status": "invalid_api_key"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="hmsportal"'
        return response
    return Budget(identity=f"key:{client.pk}", per_minute=client.lookups_per_minute)


def _api_limited(request: HttpRequest, decision: Decision) -> HttpResponse:
    return _json({"status": "rate_limited", "retry_after": decision.retry_after}, status=429)


def card_status_payload(
    card: CardStatusFacts, *, today: datetime.date, zone: datetime.tzinfo
) -> dict[str, Any]:
    """The API's description of a card: what the card shows and its status on `today`.

    valid_until is the date printed on the card, also when the card is no longer valid;
    a revoked card adds when (revoked_on) and why (revocation_reason, a stable code), as the
    page says them (cards.standing.revocation_day_and_reason). Times are in `zone`.
    """
    status = card.status_on(today)
    checked_at = card.checked_at.astimezone(zone).isoformat() if card.checked_at else None
    payload: dict[str, Any] = {
        "card_number": card.number,
        "status": status,
        "reasons": card.reason_codes_on(today),
        "card_type": card.card_type_code,
        "holder_name": card.holder_name,
        "employer_name": card.employer_name,
        "employer_orgnr": card.employer_orgnr,
        "valid_until": card.valid_until.isoformat(),
        "checked_at": checked_at,
    }
    if status == "revoked":
        revoked_on, reason = revocation_day_and_reason(
            at=card.revoked_at, reason=card.revocation_reason, zone=zone
        )
        payload["revoked_on"] = revoked_on.isoformat() if revoked_on else None
        payload["revocation_reason"] = reason
    return payload


@rate_limited(scope=STATUS_SCOPE, on_limited=_api_limited, budget=_api_budget)
def _api_lookup(request: HttpRequest, number: str) -> HttpResponse:
    # The card first: a stored number is valid by construction (ours are issued with their
    # check digit, imported ones have 10 digits and none), so the check digit, 41 k
    # instructions in python-stdnum, is computed only for a number no card has. The
    # selector itself refuses anything not shaped like a card number, before the database.
    card = card_status_facts(number=number) if len(number) <= MAX_INPUT_LENGTH else None
    if card is None:
        # A mistyped number answers 400, not 404: its check digit proves no card can have
        # it, and telling a typo from an unknown card lets the client ask its user to
        # re-enter the digits.
        error = number_error(number)
        if error is not None:
            detail = MESSAGES[error]
            return _json(
                {"status": "invalid_number", "error": error, "detail": str(detail)}, status=400
            )
        return _json({"status": "not_found"}, status=404)
    # The API answers in the portal's time zone (settings.TIME_ZONE), whatever a request
    # may have activated: a cached value, where the current time zone is a context-local
    # read that misses (30 k instructions, bench/README.md).
    zone = timezone.get_default_timezone()
    payload = card_status_payload(card, today=datetime.datetime.now(zone).date(), zone=zone)
    return _json(payload, status=200)


@csrf_exempt  # a machine API authenticated by key, not by cookie; GET/HEAD only anyway
def api_card(request: HttpRequest, number: str) -> HttpResponse:
    """GET /api/v1/cards/<number>: the card's status as JSON."""
    if request.method not in ("GET", "HEAD"):
        response = _json({"status": "method_not_allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return _api_lookup(request, number)


# The API sits at the top of the project's patterns, outside the cards namespace: the
# busiest route by far (site systems' calls), resolved first and without a level of
# include (hmsportal/urls.py).
api_urlpatterns = [
    path("api/v1/cards/<str:number>", api_card, name="api_card"),
]

# The status page next (every scanned QR code): Django tries the patterns in order.
status_urlpatterns = [
    path("status/", status_page, name="status"),
    path("status/<str:number>/", status_card, name="status_card"),
    path("status/photo/<str:token>/", status_photo, name="status_photo"),
]
