"""The order page's live progress: each line's state in plain words, polled with htmx until
every line is final, and a message after submitting that says what actually happened."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cards.models import Card, CardType
from orders.models import OrderLine
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import (
    EMPLOYER,
    SUB_UNIT,
    WORKER,
    ensure_card_catalogue,
    jpeg,
    small_dataset,
)
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def owner_client(client):
    registry_dataset_load(dataset=small_dataset())
    client.force_login(UserFactory())
    return client


def _order_url(line: OrderLine) -> str:
    return f"/orders/{EMPLOYER}/orders/{line.order_id}/"


def _lines_url(line: OrderLine) -> str:
    return f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/"


def _trigger(html: str) -> str | None:
    found = re.search(r'<div id="order-lines"[^>]*hx-trigger="([^"]+)"', html)
    return found.group(1) if found else None


def _with_card(line: OrderLine, state: str) -> OrderLine:
    card = CardFactory(state=state)
    OrderLine.objects.filter(pk=line.pk).update(state=OrderLine.State.APPROVED, card=card)
    line.refresh_from_db()
    return line


def test_the_partial_is_the_lines_fragment_and_polls_fast_while_the_registers_are_checked(
    owner_client,
) -> None:
    line = OrderLineFactory()

    response = owner_client.get(_lines_url(line), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="order-lines"')
    assert "<html" not in html and "<header" not in html
    assert "Kontrollerer registrene" in html
    assert _trigger(html) == "every 3s"
    assert f'hx-get="{_lines_url(line)}?v=' in html
    assert 'hx-swap="outerHTML"' in html
    # The news for screen readers comes out of band.
    assert 'id="order-lines-news" hx-swap-oob="innerHTML"' in html
    assert "Ola Snekker: Kontrollerer registrene." in html


def test_an_unchanged_order_answers_204_and_a_changed_one_the_new_fragment(owner_client):
    line = OrderLineFactory()
    html = owner_client.get(_lines_url(line), **HTMX).content.decode()
    polled = re.search(r'hx-get="([^"]+)"', html)
    assert polled is not None
    next_poll = polled.group(1)

    assert owner_client.get(next_poll, **HTMX).status_code == 204

    OrderLine.objects.filter(pk=line.pk).update(
        state=OrderLine.State.AWAITING_REGISTRATION, reason_codes=["employment_not_found"]
    )
    response = owner_client.get(next_poll, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Venter på Aa-registeret" in html
    assert "Aa-registeret viser ikke arbeidsforholdet ennå" in html
    # Aa-registeret takes days: the page asks less often.
    assert _trigger(html) == "every 30s"


@pytest.mark.parametrize(
    ("card_state", "label", "polls"),
    [
        (Card.State.APPROVED, "Godkjent, venter på produksjon", True),
        (Card.State.IN_PRODUCTION, "I produksjon", True),
        (Card.State.SHIPPED, "Sendt", False),
        (Card.State.ACTIVE, "Levert", False),
        (Card.State.REVOKED, "Kortet er tilbakekalt", False),
        (Card.State.EXPIRED, "Kortet er utløpt", False),
    ],
)
def test_the_card_says_how_far_an_approved_line_has_come_and_polling_stops_when_final(
    owner_client, card_state, label, polls
) -> None:
    line = _with_card(OrderLineFactory(), card_state)
    html = owner_client.get(_lines_url(line), **HTMX).content.decode()
    assert f"<strong>{label}</strong>" in html
    assert (_trigger(html) is not None) is polls
    assert ('data-final="true"' in html) is not polls


def test_a_rejected_line_shows_its_reasons_with_what_fixes_them_and_is_final(owner_client):
    line = OrderLineFactory(state=OrderLine.State.REJECTED, reason_codes=["employment_not_found"])
    html = owner_client.get(_order_url(line)).content.decode()
    assert "<strong>Avvist</strong>" in html
    assert "Aa-registeret viser ikke noe arbeidsforhold" in html
    assert "hx-trigger" not in html
    assert "htmx.min.js" not in html  # nothing to poll: no script at all


def test_polling_continues_while_one_line_of_several_is_not_final(owner_client) -> None:
    order = OrderFactory()
    _with_card(OrderLineFactory(order=order), Card.State.SHIPPED)
    waiting = OrderLineFactory(order=order, state=OrderLine.State.AWAITING_REGISTRATION)
    html = owner_client.get(_lines_url(waiting), **HTMX).content.decode()
    assert _trigger(html) == "every 30s"


def test_an_unknown_line_state_is_shown_by_its_value_without_breaking_the_page(owner_client):
    line = OrderLineFactory()
    OrderLine.objects.filter(pk=line.pk).update(state="awaiting_employee_files")
    response = owner_client.get(_order_url(line))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>awaiting_employee_files</strong>" in html
    assert _trigger(html) == "every 30s"


def test_the_full_page_works_without_htmx(owner_client) -> None:
    line = OrderLineFactory()
    html = owner_client.get(_order_url(line)).content.decode()
    assert "<html" in html
    assert "Kontrollerer registrene" in html
    # While the registers are checked, a browser without JavaScript reloads by itself.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert "vendor/htmx-2.0.11/htmx.min.js" in html
    assert "allowEval" in html
    # No inline scripts or styles (a strict CSP comes).
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "style=" not in html and "<style" not in html

    # The partial's address without htmx (a bookmark) leads to the whole page.
    response = owner_client.get(_lines_url(line))
    assert response.status_code == 302
    assert response["Location"] == _order_url(line)


def test_another_employers_order_and_its_lines_answer_404(owner_client) -> None:
    other = OrderLineFactory(order=OrderFactory(employer_orgnr="974760673"))
    assert owner_client.get(f"/orders/{EMPLOYER}/orders/{other.order_id}/").status_code == 404
    assert (
        owner_client.get(f"/orders/{EMPLOYER}/orders/{other.order_id}/lines/", **HTMX).status_code
        == 404
    )


def test_the_partial_needs_login_and_an_ended_session_reloads_the_page(client) -> None:
    line = OrderLineFactory()
    response = client.get(_lines_url(line))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    # From htmx: reload the whole page (which asks for login), never swap the login page in.
    response = client.get(_lines_url(line), **HTMX)
    assert response["HX-Refresh"] == "true"
    assert b"<form" not in response.content


def test_polling_does_not_keep_an_idle_session_alive(owner_client) -> None:
    from django.contrib.sessions.models import Session

    line = OrderLineFactory()
    owner_client.get(_order_url(line))  # a page view is activity: the expiry moves
    key = owner_client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(minutes=5)
    )

    assert owner_client.get(_lines_url(line), **HTMX).status_code == 200
    assert owner_client.get(_lines_url(line), **HTMX).status_code in (200, 204)

    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry < timezone.now() + timedelta(minutes=6)
    owner_client.get(_order_url(line))
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(minutes=25)


def _form() -> dict:
    return {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": SimpleUploadedFile("ola.jpg", jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile("id.pdf", b"%PDF-1.4\n", content_type="application/pdf"),
        "identity_checked": "on",
    }


# Real commits, so that the register check runs (eagerly, in the web process: the embedded
# default) when the order is committed, before the view chooses its message.
# serialized_rollback keeps the seed migration's rows for the tests that run after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_message_after_submit_says_the_card_is_approved_when_it_is(owner_client) -> None:
    ensure_card_catalogue()
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form(), follow=True)
    html = response.content.decode()
    assert OrderLine.objects.get().state == OrderLine.State.APPROVED
    assert "Bestillingen er sendt, og kortet er godkjent." in html
    assert "Vi kontrollerer registrene nå" not in html


def test_the_message_after_submit_says_the_check_runs_while_it_does(owner_client) -> None:
    # Callbacks not run: the check is still queued, as with a busy worker.
    response = owner_client.post(f"/orders/{EMPLOYER}/new/", _form(), follow=True)
    html = response.content.decode()
    assert OrderLine.objects.get().state == OrderLine.State.SUBMITTED
    assert "Bestillingen er sendt. Vi kontrollerer registrene nå" in html
    assert "kortet er godkjent" not in html
