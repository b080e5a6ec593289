"""The cardholder's own page ("Mine HMS-kort"): their cards, what the portal holds about
them, and reporting a card lost or stolen."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cards.imports import IMPORT_REASON
from cards.models import Card, CardCheck, CardTransition
from cards.numbers import card_number_new, display
from cards.services import card_replace
from hmsportal.models import User
from hmsportal.services import user_for_person
from orders.forms import employee_reference_for
from orders.models import Delegation, OrderLine
from orders.selectors import personal_data_for
from registry.datasets import registry_dataset_load
from registry.models import RegisterLookup
from tests.cards.factories import CardFactory, valid_orgnr
from tests.datasets import EMPLOYER, WORKER, small_dataset
from tests.orders.factories import OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db
OTHER_EMPLOYER = "923609016"


@pytest.fixture
def holder(client) -> User:
    user = user_for_person(national_id=WORKER, full_name="Ola Snekker")
    client.force_login(user)
    return user


def ordered_card(**card_fields) -> Card:
    """A card for the holder, ordered by Kari Nordmann at Fjordbygg AS."""
    fields = {
        "holder_national_id": WORKER,
        "holder_first_name": "Ola",
        "holder_last_name": "Snekker",
        "employer_orgnr": EMPLOYER,
        "employer_name": "Fjordbygg AS",
        "state": Card.State.ACTIVE,
        **card_fields,
    }
    card = CardFactory(**fields)
    OrderLineFactory(card=card, state=OrderLine.State.APPROVED, national_id=WORKER)
    return card


def test_the_holder_sees_their_cards_from_two_employers_and_nobody_elses(client, holder):
    first = ordered_card()
    second = CardFactory(
        holder_national_id=WORKER,
        employer_orgnr=OTHER_EMPLOYER,
        employer_name="Vask og Vedlikehold AS",
        state=Card.State.INVALID,
        reason_codes=["employment_ended"],
    )
    someone_else = CardFactory(employer_name="Annen Arbeidsgiver AS", state=Card.State.ACTIVE)

    response = client.get("/my-cards/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Fjordbygg AS" in html and "Vask og Vedlikehold AS" in html
    assert display(first.number) in html and display(second.number) in html
    assert display(someone_else.number) not in html and "Annen Arbeidsgiver AS" not in html
    # Status and why, in plain words; who ordered by name only.
    assert "Kortet er gyldig i dag." in html
    assert (
        "Arbeidsforholdet er avsluttet. <strong>Dette retter det:</strong> Kortet følger arbeidsforholdet."
        in html
    )
    assert "av Kari Nordmann (Fjordbygg AS)" in html
    assert "Godkjent, kortet er utstedt" in html
    assert OrderLine.objects.get(card=first).order.ordered_by.username not in html
    assert first.valid_until.strftime("%Y") in html
    # The header links to the page for people with an identity number.
    assert 'href="/my-cards/"' in html


def test_the_card_page_shows_the_order_history_and_register_checks(client, holder):
    card = ordered_card()
    CardTransition.objects.create(
        card=card, from_state="", to_state=Card.State.APPROVED, reason="register check passed"
    )
    CardTransition.objects.create(
        card=card,
        from_state=Card.State.APPROVED,
        to_state=Card.State.INVALID,
        reason="register check failed: person_id_inactive",
    )
    ordered_at = timezone.now() - datetime.timedelta(days=3)
    CardCheck.objects.create(
        card=card, at=ordered_at, kind="order", outcome="in_order", registers=["folkeregisteret"]
    )
    CardCheck.objects.create(
        card=card,
        at=ordered_at + datetime.timedelta(days=1),
        kind="nightly",
        outcome="not_in_order",
        reason_codes=["person_id_inactive"],
        registers=["folkeregisteret"],
    )
    # About the same person, but not a check of this card: not shown.
    RegisterLookup.objects.create(
        register=RegisterLookup.Register.FOLKEREGISTERET,
        key=WORKER,
        outcome=RegisterLookup.Outcome.FOUND,
    )

    html = client.get(f"/my-cards/{card.number}/").content.decode()

    assert "Registrene ble sjekket og kortet ble godkjent." in html
    assert "Kortet sluttet å være gyldig. D-nummeret er ikke lenger i bruk." in html
    assert "Registerkontroll ved bestilling: alt i orden" in html
    assert (
        "Nattlig kontroll: ikke i orden – D-nummeret er ikke lenger i bruk. "
        "D-nummeret må aktiveres igjen hos Skatteetaten."
    ) in html
    assert "om deg: funnet" not in html
    assert "Kari Nordmann" in html and "Godkjent, kortet er utstedt" in html


def test_guessing_someone_elses_card_number_answers_404(client, holder):
    someone_else = CardFactory(state=Card.State.ACTIVE)

    assert client.get(f"/my-cards/{someone_else.number}/").status_code == 404
    assert client.get(f"/my-cards/{someone_else.number}/report/").status_code == 404
    response = client.post(f"/my-cards/{someone_else.number}/report/", {"reason": "lost"})
    assert response.status_code == 404
    someone_else.refresh_from_db()
    assert someone_else.state == Card.State.ACTIVE
    # The same answer as a number nobody has, or one that is no card number at all.
    assert client.get(f"/my-cards/{card_number_new()}/").status_code == 404
    assert client.get("/my-cards/not-a-number/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    card = CardFactory(state=Card.State.ACTIVE)
    for url in ("/my-cards/", f"/my-cards/{card.number}/", f"/my-cards/{card.number}/report/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    response = client.post(f"/my-cards/{card.number}/report/", {"reason": "lost"})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE


def test_a_user_without_identity_number_sees_the_empty_state(client):
    card = CardFactory(state=Card.State.ACTIVE, holder_national_id="")
    staff = User.objects.create(username="backoffice", is_staff=True, full_name="Bo Kontor")
    client.force_login(staff)

    html = client.get("/my-cards/").content.decode()

    assert "Du har ingen HMS-kort ennå" in html
    assert "bestilles av arbeidsgiveren din" in html
    assert 'href="/my-cards/"' not in html  # no header link without an identity number
    assert client.get(f"/my-cards/{card.number}/").status_code == 404


def test_the_personal_data_section_lists_what_is_held(client, holder):
    ordered_card(with_photo=True)
    RegisterLookup.objects.create(
        register=RegisterLookup.Register.EMPLOYMENT,
        key=WORKER,
        outcome=RegisterLookup.Outcome.FOUND,
    )

    codes = [category.code for category in personal_data_for(user=holder)]

    assert codes == [
        "identity_number",
        "name_and_birth_date",
        "photo",
        "id_document",
        "cards",
        "order_lines",
        "register_checks",
        "account",
    ]
    held = {category.code: category.held for category in personal_data_for(user=holder)}
    assert held["photo"] == "2 lagrede kopier"  # the card's and the order line's
    assert held["identity_number"] == f"{WORKER[:6]} *****"
    html = client.get("/my-cards/").content.decode()
    assert "Informasjonen vi har om deg" in html
    assert "Kopi av legitimasjonen din" in html
    assert WORKER not in html  # never the whole identity number

    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=WORKER,
        granted_by=UserFactory(),
        valid_from=holder.date_joined.date(),
    )
    assert "delegations" in [c.code for c in personal_data_for(user=holder)]


def test_the_account_lists_every_contact_detail_held(holder):
    holder.mobile = "+4791234567"
    holder.pending_email = "ny@example.no"
    holder.save()
    (account,) = [c for c in personal_data_for(user=holder) if c.code == "account"]
    assert "+4791234567" in account.held
    assert "ny@example.no (ikke bekreftet ennå)" in account.held


def test_a_person_without_cards_sees_only_identity_and_account(client, holder):
    codes = [category.code for category in personal_data_for(user=holder)]
    assert codes == ["identity_number", "account"]
    html = client.get("/my-cards/").content.decode()
    assert "Du har ingen HMS-kort ennå" in html


def test_reporting_a_card_lost_revokes_it_and_tells_the_orderer(
    client, holder, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://hms.example.no"
    card = ordered_card()

    page = client.get(f"/my-cards/{card.number}/report/")
    assert page.status_code == 200
    assert "Hva har skjedd med kortet?" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/my-cards/{card.number}/report/", {"reason": "lost"})

    assert response.status_code == 302
    assert response["Location"] == "/my-cards/"
    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    step = card.transitions.get(to_state=Card.State.REVOKED)
    assert (step.actor, step.reason) == (holder, "lost")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kari@fjordbygg.example"]
    assert message.subject == f"HMS-kort {display(card.number)} er meldt tapt"
    assert "Ola Snekker har meldt HMS-kortet sitt som tapt" in message.body
    assert f"https://hms.example.no/orders/{EMPLOYER}/cards/{card.number}/" in message.body

    html = client.get("/my-cards/").content.decode()
    # The number grouped as printed on the card, as on the rest of the page.
    assert f"Kort {display(card.number)} er sperret" in html
    today = timezone.localdate()
    months = "januar februar mars april mai juni juli august september oktober november desember"
    revoked_on = f"{today.day}. {months.split()[today.month - 1]} {today.year}"
    assert f"Tilbakekalt {revoked_on}: meldt tapt." in html
    detail = client.get(f"/my-cards/{card.number}/").content.decode()
    assert "Du meldte kortet tapt. Det ble sperret med en gang." in detail

    # The link in the e-mail leads the orderer to a new order for the same person.
    registry_dataset_load(dataset=small_dataset())
    client.force_login(OrderLine.objects.get(card=card).order.ordered_by)
    employer_page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert "Bestill nytt kort" in employer_page
    reference = employee_reference_for(national_id=WORKER, workplace_orgnr=card.workplace_orgnr)
    assert f"/orders/{EMPLOYER}/new/?employee={reference}" in employer_page
    assert WORKER not in employer_page  # never the identity number in a link
    client.force_login(holder)

    # A second report changes nothing and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/my-cards/{card.number}/report/", {"reason": "stolen"}, follow=True)
    assert f"Kort {display(card.number)} kan ikke meldes" in again.content.decode()
    assert card.transitions.filter(to_state=Card.State.REVOKED).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("data", [{}, {"reason": "returned"}, {"reason": "withdrawn"}])
def test_a_report_without_a_valid_choice_shows_the_error_summary(
    client, holder, data, django_capture_on_commit_callbacks
):
    card = ordered_card()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/my-cards/{card.number}/report/", data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert "Velg om kortet er tapt eller stjålet." in html
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE
    assert not mail.outbox


def test_an_imported_card_is_revoked_without_an_email(
    client, holder, django_capture_on_commit_callbacks
):
    card = CardFactory(holder_national_id=WORKER, state=Card.State.ACTIVE, imported=True)
    CardTransition.objects.create(
        card=card, from_state="", to_state=Card.State.ACTIVE, reason=IMPORT_REASON
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/my-cards/{card.number}/report/", {"reason": "stolen"})

    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    assert not mail.outbox
    detail = client.get(f"/my-cards/{card.number}/").content.decode()
    assert "tatt over fra den forrige kortprodusenten" in detail


def test_a_replacement_card_tells_whoever_ordered_the_original(
    client, holder, django_capture_on_commit_callbacks
):
    original = ordered_card()
    replacement = card_replace(card=original, actor=None)

    html = client.get(f"/my-cards/{replacement.number}/").content.decode()
    assert "Bestilt for kort" in html and "Kari Nordmann" in html
    listing = client.get("/my-cards/").content.decode()
    assert f'Erstattet av</dt><dd class="text-nowrap">{display(replacement.number)}' in listing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/my-cards/{replacement.number}/report/", {"reason": "stolen"})

    assert [m.to for m in mail.outbox] == [["kari@fjordbygg.example"]]
    assert "meldt stjålet" in mail.outbox[0].subject


def test_an_expired_card_cannot_be_reported(client, holder):
    card = ordered_card(state=Card.State.EXPIRED)

    response = client.get(f"/my-cards/{card.number}/report/", follow=True)

    assert "kan ikke meldes" in response.content.decode()
    response = client.post(f"/my-cards/{card.number}/report/", {"reason": "lost"})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.state == Card.State.EXPIRED


def test_the_page_speaks_english_on_request(client, holder):
    ordered_card()
    client.cookies["django_language"] = "en"

    html = client.get("/my-cards/").content.decode()

    assert "<h1" in html and "My HMS cards" in html
    assert "The information we hold about you" in html
    assert "The card is valid today." in html
    assert "Mine HMS-kort" not in html


def test_the_list_makes_no_query_per_card(client, holder):
    ordered_card()

    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/my-cards/").status_code == 200
        return len(queries)

    one_card = queries_for_the_list()
    # One live card per employer and type: the other cards are from other employers.
    for _number in range(3):
        ordered_card(employer_orgnr=valid_orgnr())
    assert queries_for_the_list() == one_card
