"""One page of every kind carries the security headers (issue 11): a Content-Security-Policy
without 'unsafe-inline', frame-ancestors 'none', X-Frame-Options, Referrer-Policy and
Cross-Origin-Opener-Policy; and no HTML page holds what that policy would block: an inline
script without the response's nonce, a <style> element, a style attribute or an on…= handler.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cards import status_views
from cards.batches import print_batch_create, print_batch_render
from cards.models import Card, PrintBatch
from hmsportal.models import User
from hmsportal.services import user_for_person
from orders.billing import invoice_create
from orders.models import BulkUpload, OrderLine
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, ProducerFactory
from tests.datasets import EMPLOYER, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db

# Script types a browser does not run: data blocks (json_script) need no nonce.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def policy_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks, given the response's nonce."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.blocked: list[str] = []
        self.nonces_used: set[str] = set()
        self._script_open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)}>"
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"handler attribute {name}= in {where}")
            if name == "style":
                self.blocked.append(f"style attribute in {where}")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.blocked.append(f"javascript: URL in {where}")
        if "nonce" in attributes:
            self.nonces_used.add(attributes["nonce"] or "")
        if tag == "style" and not self._nonced(attributes):
            self.blocked.append(f"<style> element without the nonce: {where}")
        if tag == "script":
            self._script_open = attributes

    def handle_data(self, data: str) -> None:
        script = self._script_open
        if script is None or not data.strip():
            return
        if "src" in script or (script.get("type") or "").lower() in DATA_SCRIPT_TYPES:
            return
        if not self._nonced(script):
            self.blocked.append(f"inline script without the nonce: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_open = None

    def _nonced(self, attributes: dict[str, str | None]) -> bool:
        return self.nonce is not None and attributes.get("nonce") == self.nonce


def problems_with(response) -> list[str]:
    """What is wrong with a response's headers and, for HTML, its markup."""
    problems = []
    policy = response.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy header"]
    directives = policy_directives(policy)
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append(f"unsafe source in the policy: {policy}")
    expected = {
        "default-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
    }
    for name, values in expected.items():
        if directives.get(name) != values:
            problems.append(f"{name} is {directives.get(name)}, not {values}")
    script_sources = directives.get("script-src", [])
    nonces = [s[len("'nonce-") : -1] for s in script_sources if s.startswith("'nonce-")]
    if [s for s in script_sources if not s.startswith("'nonce-")] != ["'self'"]:
        problems.append(f"script-src is {script_sources}")
    for header, value in {
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }.items():
        if response.get(header) != value:
            problems.append(f"{header} is {response.get(header)!r}, not {value!r}")
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        markup = InlineCode(nonces[0] if nonces else None)
        markup.feed(response.content.decode())
        problems.extend(markup.blocked)
        if markup.nonces_used - set(nonces):
            problems.append(f"nonces {markup.nonces_used} in the page, {nonces} in the header")
    return problems


def check_pages(client: Client, pages: list[tuple[str, int]], *, headers=None) -> None:
    failures = []
    for url, status in pages:
        response = client.get(url, headers=headers or {})
        if response.status_code != status:
            failures.append(f"{url}: status {response.status_code}, expected {status}")
            continue
        failures.extend(f"{url}: {problem}" for problem in problems_with(response))
    assert not failures, "\n".join(failures)


@pytest.fixture
def dataset() -> None:
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())


def holder_card(**fields) -> Card:
    card = CardFactory(
        holder_national_id=WORKER,
        holder_first_name="Ola",
        holder_last_name="Snekker",
        employer_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
        with_photo=True,
        **fields,
    )
    OrderLineFactory(card=card, state=OrderLine.State.APPROVED, national_id=WORKER)
    return card


def test_public_pages_and_error_pages(client, dataset, settings) -> None:
    settings.DEV_LOGIN_ENABLED = True
    card = holder_card()
    number = card.number
    check_pages(
        client,
        [
            ("/", 200),
            (reverse("login"), 200),
            (reverse("dev_login"), 200),
            (reverse("logged_out"), 200),
            ("/status/", 200),
            ("/status/?card=12", 400),  # the error summary and its focusing script
            (f"/status/{number}/", 200),
            (f"/status/photo/{status_views.photo_token(number)}/", 200),
            (f"/api/v1/cards/{number}", 200),
            ("/api/v1/cards/not-a-number", 400),
            ("/no-such-page/", 404),
            ("/logout/", 405),  # a button's address opened as a page
            (reverse("admin:login"), 200),
            ("/healthz/", 200),
        ],
    )
    # A form posted without its CSRF token: Django's 403, in the portal's own page.
    refused = Client(enforce_csrf_checks=True).post(reverse("dev_login"), {"national_id": WORKER})
    assert refused.status_code == 403
    assert problems_with(refused) == []


def test_an_employers_pages(client, dataset) -> None:
    owner = UserFactory()
    client.force_login(owner)
    line = OrderLineFactory(order__ordered_by=owner)
    order = line.order
    invoice_create(order=order)
    card = holder_card()
    checking = BulkUpload.objects.create(
        owner=owner,
        employer_orgnr=EMPLOYER,
        state=BulkUpload.State.VALIDATING,
        progress_done=1,
        progress_total=3,
    )
    employer = f"/orders/{EMPLOYER}"
    check_pages(
        client,
        [
            ("/orders/", 200),
            (f"{employer}/", 200),
            (f"{employer}/new/", 200),
            (f"{employer}/orders/{order.pk}/", 200),
            (f"{employer}/orders/{order.pk}/invoice.pdf", 200),
            (f"{employer}/cards/", 200),
            (f"{employer}/cards/{card.number}/", 200),
            (f"{employer}/cards/{card.number}/end/", 200),
            (f"{employer}/access/", 200),
            (f"{employer}/audit/", 200),
            (f"{employer}/bulk/", 200),
            (f"{employer}/bulk/{checking.pk}/", 200),
            (reverse("contact_details"), 200),
            # Not the card office's: the portal's 403 page.
            (reverse("cards:print_queue"), 403),
        ],
    )
    # The partials htmx swaps in: a style attribute there would be blocked just the same.
    check_pages(
        client,
        [
            (f"{employer}/orders/{order.pk}/lines/", 200),
            (f"{employer}/bulk/{checking.pk}/report/", 200),
        ],
        headers={"HX-Request": "true"},
    )


def test_a_cardholders_pages(client, dataset) -> None:
    client.force_login(user_for_person(national_id=WORKER, full_name="Ola Snekker"))
    card = holder_card()
    check_pages(
        client,
        [
            ("/my-cards/", 200),
            (f"/my-cards/{card.number}/", 200),
            (f"/my-cards/{card.number}/report/", 200),
        ],
    )
    # A form sent with errors: the error summary and its focusing script.
    refused = client.post(f"/my-cards/{card.number}/report/", {})
    assert "error-summary" in refused.content.decode()
    assert problems_with(refused) == []


def test_the_card_offices_pages_and_the_admin(client, dataset) -> None:
    staff = User.objects.create_superuser(username="card-office", password="x-long-password-1")
    client.force_login(staff)
    ProducerFactory(effective_from=timezone.now() - timezone.timedelta(days=1))
    rendering = print_batch_create(cards=[CardFactory(), CardFactory()], actor=staff)
    PrintBatch.objects.filter(pk=rendering.pk).update(progress_done=1)
    ready = print_batch_render(
        batch_id=print_batch_create(cards=[CardFactory(state=Card.State.APPROVED)], actor=staff).pk
    )
    card = CardFactory()
    check_pages(
        client,
        [
            (reverse("cards:print_queue"), 200),
            (reverse("cards:batch_detail", args=[rendering.pk]), 200),
            (reverse("cards:batch_progress", args=[rendering.pk]), 200),
            (reverse("cards:batch_detail", args=[ready.pk]), 200),
            (reverse("cards:batch_pdf", args=[ready.pk]), 200),
            (reverse("registry:register_status"), 200),
            (reverse("backoffice_audit"), 200),
            ("/admin/", 200),
            ("/admin/cards/card/", 200),
            (f"/admin/cards/card/{card.pk}/change/", 200),
            ("/admin/hmsportal/auditentry/", 200),
            ("/admin/hmsportal/user/", 200),
        ],
    )


def test_hsts_in_production(client, settings) -> None:
    """HSTS on every HTTPS response once SECURE_HSTS_SECONDS is set, as production sets it
    (test_settings.py checks the production values)."""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/status/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert problems_with(response) == []


def test_the_checker_finds_what_the_policy_would_block() -> None:
    page = (
        '<p style="color:red" onclick="x()">a</p><a href="javascript:go()">b</a>'
        "<style>p{}</style><script>run()</script><script nonce=abc>ok()</script>"
        '<script type="application/json">{"data": 1}</script><script src="/s.js"></script>'
    )
    markup = InlineCode("abc")
    markup.feed(page)
    assert [re.sub(r"[: ].*", "", problem) for problem in markup.blocked] == [
        "style",
        "handler",
        "javascript",
        "<style>",
        "inline",
    ]


def test_no_admin_change_list_gets_djangos_inline_style() -> None:
    """Django 5.2's admin inlines one <style>, on a change list without either action bar;
    the policy would block it (a cosmetic column width), so no ModelAdmin turns both off."""
    from django.contrib import admin

    bare = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not model_admin.actions_on_top and not model_admin.actions_on_bottom
    ]
    assert bare == []


def test_pages_declare_their_icon_so_browsers_do_not_ask_for_favicon_ico(client) -> None:
    """Without it every first page view cost a 404 for /favicon.ico (a console error in the
    browser); the icon is a static file on the site, which img-src 'self' allows."""
    from django.contrib.staticfiles import finders

    response = client.get("/status/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in (
        response.content.decode()
    )
    assert finders.find("favicon.svg")
    assert "'self'" in policy_directives(response["Content-Security-Policy"])["img-src"]
