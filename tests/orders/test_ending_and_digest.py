"""Ending a card when its holder leaves (by the employer, or by the nightly re-check when
Aa-registeret shows the end), and the administrators' daily digest (issue 10, points 4–5)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from cards.models import Card, CardTransition
from cards.numbers import display
from cards.services import RevocationReason, cards_recheck, cards_recheck_all
from hmsportal.models import AuditEntry, OutboxMessage
from orders.digests import administrator_digests_send
from orders.models import Delegation, DigestItemSent, OrderLine
from orders.services import delegation_revoke
from orders.tasks import send_administrator_digests
from registry.datasets import registry_dataset_load
from registry.models import Employment, Organisation
from tests.cards.factories import CardFactory, CardTypeFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db
DELEGATE = "01017512419"
OTHER_EMPLOYER = "923609016"


@pytest.fixture(autouse=True)
def _registry() -> None:
    registry_dataset_load(dataset=small_dataset())


@pytest.fixture
def owner(client):
    user = UserFactory()
    client.force_login(user)
    return user


def _worker_card(**fields) -> Card:
    return CardFactory(
        **{
            "state": Card.State.ACTIVE,
            "card_type": CardTypeFactory(),
            "holder_national_id": WORKER,
            "holder_first_name": "Ola",
            "holder_last_name": "Snekker",
            "workplace_orgnr": SUB_UNIT,
            "employer_orgnr": EMPLOYER,
            "employer_name": "Fjordbygg AS",
            **fields,
        }
    )


# --- Ending a card ------------------------------------------------------------------------


def test_the_administrator_ends_a_card_as_employment_ended(client, owner) -> None:
    card = _worker_card()
    page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert "Avslutt kortet: arbeidsforholdet er slutt" in page
    assert f"/orders/{EMPLOYER}/cards/{card.number}/end/" in page

    confirm_page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/end/")
    assert confirm_page.status_code == 200
    assert "Har Ola Snekker sluttet hos dere?" in confirm_page.content.decode()

    # Without the confirmation nothing happens, and the error summary says what is missing.
    refused = client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Bekreft at arbeidsforholdet er slutt." in body
    assert 'href="#id_confirm"' in body
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE

    response = client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"})
    assert response.status_code == 302
    ended = client.get(response["Location"]).content.decode()
    assert f"Kort {display(card.number)} er avsluttet" in ended
    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    step = card.transitions.get(to_state=Card.State.REVOKED)
    assert (step.reason, step.actor) == (RevocationReason.EMPLOYMENT_ENDED, owner)

    page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert "Avsluttet av arbeidsgiveren: arbeidsforholdet er slutt" in page
    listing = client.get(f"/orders/{EMPLOYER}/cards/").content.decode()
    assert 'data-revocation="employment_ended"' in listing
    assert "Avsluttet av arbeidsgiveren: arbeidsforholdet er slutt" in listing

    client.cookies["django_language"] = "en"
    page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert "Ended by the employer: the employment has ended" in page

    # Ending it again changes nothing and says so.
    again = client.post(
        f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"}, follow=True
    )
    assert "This card has already ended or expired." in again.content.decode()
    assert card.transitions.filter(to_state=Card.State.REVOKED).count() == 1


def test_another_employers_card_cannot_be_ended(client, owner) -> None:
    card = _worker_card(employer_orgnr=OTHER_EMPLOYER)
    response = client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"})
    assert response.status_code == 404
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE


def test_the_recheck_ends_a_card_whose_employment_ended_yesterday(client, owner) -> None:
    card = _worker_card()
    Employment.objects.filter(person_id=WORKER).update(
        end=timezone.localdate() - datetime.timedelta(days=1)
    )

    summary = cards_recheck_all()

    card.refresh_from_db()
    assert card.state == Card.State.REVOKED
    assert (summary.ended, summary.became_invalid) == (1, 0)
    step = card.transitions.get(to_state=Card.State.REVOKED)
    assert step.actor is None
    assert step.reason == RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER
    assert step.reason != RevocationReason.EMPLOYMENT_ENDED
    page = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert "Avsluttet automatisk: Aa-registeret viser at arbeidsforholdet er slutt" in page
    listing = client.get(f"/orders/{EMPLOYER}/cards/").content.decode()
    assert 'data-revocation="employment_ended_aa_registeret"' in listing
    # A revoked card is not checked again: the next night leaves it alone.
    assert cards_recheck_all().checked == 0


def test_an_employment_ending_today_keeps_the_card_and_another_problem_only_invalidates(
    owner,
) -> None:
    card = _worker_card()
    Employment.objects.filter(person_id=WORKER).update(end=timezone.localdate())
    cards_recheck_all()
    card.refresh_from_db()
    assert card.state == Card.State.ACTIVE  # the last day of the employment still counts

    Employment.objects.filter(person_id=WORKER).update(end=None)
    Organisation.objects.filter(orgnr=EMPLOYER).update(bankrupt=True)
    cards_recheck_all()
    card.refresh_from_db()
    # A problem the registers can put right makes the card invalid, not ended.
    assert card.state == Card.State.INVALID


# --- The administrators' digest ----------------------------------------------------------


def _invalid_card() -> Card:
    card = _worker_card(
        state=Card.State.INVALID,
        reason_codes=["employer_bankrupt"],
        holder_first_name="Per",
        holder_last_name="Murer",
        holder_national_id="01017512419",
    )
    CardTransition.objects.create(
        card=card, from_state="active", to_state="invalid", reason="register check failed"
    )
    return card


def _everything_to_tell() -> tuple[Card, Card, OrderLine]:
    today = timezone.localdate()
    expiring = _worker_card(
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=20),
    )
    invalid = _invalid_card()
    line = OrderLineFactory(
        state=OrderLine.State.AWAITING_REGISTRATION,
        awaiting_since=today,
        national_id="15108695088",
        first_name="Lise",
        last_name="Lærling",
    )
    return expiring, invalid, line


def test_the_digest_tells_the_administrator_everything_once_in_her_language() -> None:
    owner = UserFactory(language="nb")
    expiring, invalid, line = _everything_to_tell()
    # Far from expiry, or another employer's: not in this digest.
    _worker_card(card_type=CardTypeFactory(cleaning=True))

    assert send_administrator_digests.delay().get() == 1

    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == "HMS-kort hos Fjordbygg AS: dette trenger du å se på"
    body = message.body
    assert f"Ola Snekker, HMS-kort bygg og anlegg, {display(expiring.number)}" in body
    assert f"gyldig til {expiring.valid_until:%d.%m.%Y}" in body
    assert "Per Murer" in body
    assert "Virksomheten er konkurs." in body  # why
    assert "Kortet kan ikke være gyldig mens virksomheten er konkurs." in body  # what fixes it
    assert "Lise Lærling" in body and "venter på at Aa-registeret" in body
    assert f"{settings.PORTAL_BASE_URL}/orders/{EMPLOYER}/cards/\n" in body  # the register
    assert f"/orders/{EMPLOYER}/orders/{line.order_id}/" in body
    assert f"/orders/{EMPLOYER}/cards/{invalid.number}/" in body
    for national_id in (WORKER, "01017512419", "15108695088"):
        assert national_id not in body
    assert DigestItemSent.objects.filter(recipient=owner).count() == 3

    # The second run has nothing new to say.
    assert administrator_digests_send() == 0
    assert len(mail.outbox) == 1

    # Something new is told, and only that.
    invalid.state = Card.State.ACTIVE
    invalid.save(update_fields=["state"])
    CardTransition.objects.create(card=invalid, from_state="invalid", to_state="active")
    invalid.state = Card.State.INVALID
    invalid.save(update_fields=["state"])
    CardTransition.objects.create(card=invalid, from_state="active", to_state="invalid")
    assert administrator_digests_send() == 1
    second = mail.outbox[1].body
    assert "Per Murer" in second
    assert "Ola Snekker" not in second and "Lise Lærling" not in second


def test_the_digest_is_in_english_for_an_english_administrator() -> None:
    UserFactory(language="en")
    _invalid_card()
    administrator_digests_send()
    [message] = mail.outbox
    assert message.subject == "HMS cards at Fjordbygg AS: what needs your attention"
    assert "The employer is bankrupt." in message.body
    assert "The card cannot be valid while the employer is bankrupt." in message.body


def test_an_organisation_with_nothing_to_tell_gets_no_mail() -> None:
    UserFactory()
    _worker_card()  # valid for two years, nothing waits
    OrderLineFactory(state=OrderLine.State.REJECTED)
    assert administrator_digests_send() == 0
    assert mail.outbox == []


def test_a_person_without_a_confirmed_address_gets_nothing() -> None:
    UserFactory(unconfirmed=True)
    _everything_to_tell()
    assert administrator_digests_send() == 0
    assert mail.outbox == []
    assert not DigestItemSent.objects.exists()


def _delegation(granted_by, **fields) -> Delegation:
    return Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="Hanne Hansen",
        granted_by=granted_by,
        valid_from=timezone.localdate() - datetime.timedelta(days=1),
        **fields,
    )


def test_a_delegate_gets_the_digest_too_and_a_revoked_one_does_not() -> None:
    owner = UserFactory()
    delegate = UserFactory(
        username="hanne", national_id=DELEGATE, full_name="Hanne Hansen", language="en"
    )
    delegation = _delegation(owner)
    _invalid_card()

    assert administrator_digests_send() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, delegate.email])
    to_delegate = next(m for m in mail.outbox if m.to == [delegate.email])
    assert to_delegate.subject == "HMS cards at Fjordbygg AS: what needs your attention"

    delegation_revoke(actor=owner, delegation=delegation)
    mail.outbox.clear()
    OrderLineFactory(state=OrderLine.State.AWAITING_FILES, photo="", id_document="")
    assert administrator_digests_send() == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "bilde" in mail.outbox[0].body.lower()


def test_an_expired_delegation_or_another_organisations_delegate_gets_nothing() -> None:
    owner = UserFactory()
    UserFactory(username="hanne", national_id=DELEGATE, full_name="Hanne Hansen")
    today = timezone.localdate()
    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        granted_by=owner,
        valid_from=today - datetime.timedelta(days=10),
        valid_until=today - datetime.timedelta(days=1),
    )
    Delegation.objects.create(
        employer_orgnr=OTHER_EMPLOYER,
        grantee_national_id=DELEGATE,
        granted_by=owner,
        valid_from=today,
    )
    _invalid_card()
    administrator_digests_send()
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_the_digest_asks_a_fixed_number_of_queries_however_many_cards(
    django_assert_max_num_queries,
) -> None:
    UserFactory()
    order = OrderFactory()
    today = timezone.localdate()
    for index in range(3):
        CardFactory(
            state=Card.State.ACTIVE,
            employer_orgnr=EMPLOYER,
            valid_until=today + datetime.timedelta(days=10 + index),
        )
    with django_assert_max_num_queries(40) as few:
        administrator_digests_send()
    DigestItemSent.objects.all().delete()
    mail.outbox.clear()
    for index in range(30):
        CardFactory(
            state=Card.State.ACTIVE,
            employer_orgnr=EMPLOYER,
            valid_until=today + datetime.timedelta(days=10 + index),
        )
    with django_assert_max_num_queries(40) as many:
        administrator_digests_send()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert order.pk  # the order has no waiting lines: only cards are told
    assert mail.outbox[0].body.count("/cards/") >= 33


def test_the_digest_says_when_an_employees_id_waits_for_the_check_and_skips_renewed_cards() -> None:
    UserFactory(language="nb")
    today = timezone.localdate()
    expiring = _worker_card(
        issued_on=today - datetime.timedelta(days=700),
        valid_until=today + datetime.timedelta(days=20),
    )
    # Renewed already: the new card is on its way, so the old one is not "expiring" news.
    CardFactory(
        holder_national_id=WORKER,
        employer_orgnr=EMPLOYER,
        workplace_orgnr=expiring.workplace_orgnr,
        card_type=expiring.card_type,
        renews=expiring,
    )
    OrderLineFactory(
        state=OrderLine.State.AWAITING_ID_CHECK,
        national_id="15108695088",
        first_name="Lise",
        last_name="Lærling",
    )
    assert administrator_digests_send() == 1
    [message] = mail.outbox
    assert "Lise Lærling" in message.body
    assert "kontroller legitimasjonen på bestillingssiden" in message.body
    assert "Aa-registeret" not in message.body.split("Lise Lærling")[1].split("\n")[0]
    assert display(expiring.number) not in message.body


def test_ending_a_card_ends_its_renewal_on_the_way_and_rejects_an_open_one(client, owner) -> None:
    card = _worker_card()
    renewal = _worker_card(state=Card.State.APPROVED, card_type=card.card_type, renews=card)
    open_line = OrderLineFactory(
        state=OrderLine.State.SUBMITTED, renews=card, card_type=card.card_type
    )
    client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"})
    card.refresh_from_db()
    renewal.refresh_from_db()
    open_line.refresh_from_db()
    assert card.state == Card.State.REVOKED
    assert renewal.state == Card.State.REVOKED  # not printed, sent and billed for a leaver
    assert open_line.state == OrderLine.State.REJECTED
    assert open_line.reason_codes == ["employment_ended"]


def test_ending_a_card_records_who_rejected_its_open_renewal_and_why(client, owner) -> None:
    card = _worker_card()
    open_line = OrderLineFactory(
        state=OrderLine.State.SUBMITTED,
        renews=card,
        card_type=card.card_type,
        order=OrderFactory(ordered_by=UserFactory(username="per", national_id=DELEGATE)),
    )
    client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"})

    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.LINE_REJECTED,
        subject_type="orders.orderline",
        subject_id=str(open_line.pk),
    )
    assert entry.actor == owner
    assert entry.organisation_orgnr == EMPLOYER
    assert entry.before == {"state": "submitted", "reason_codes": []}
    assert entry.after == {"state": "rejected", "reason_codes": ["employment_ended"]}
    # Someone other than the orderer ended it: the orderer hears why their order stopped.
    assert OutboxMessage.objects.filter(
        task_name="orders.tell_employer_rejected", kwargs={"line_id": open_line.pk}
    ).exists()


def test_the_orderer_who_ends_the_card_is_not_mailed_about_their_own_rejection(
    client, owner
) -> None:
    card = _worker_card()
    open_line = OrderLineFactory(
        state=OrderLine.State.SUBMITTED,
        renews=card,
        card_type=card.card_type,
        order=OrderFactory(ordered_by=owner),
    )
    client.post(f"/orders/{EMPLOYER}/cards/{card.number}/end/", {"confirm": "on"})
    open_line.refresh_from_db()
    assert open_line.state == OrderLine.State.REJECTED
    assert not OutboxMessage.objects.filter(task_name="orders.tell_employer_rejected").exists()


def test_the_recheck_that_ends_a_card_ends_its_renewals_too(owner) -> None:
    card = _worker_card()
    renewal = _worker_card(state=Card.State.APPROVED, card_type=card.card_type, renews=card)
    # Waiting for the employee's photo, this line is never register-checked on its own.
    waiting_line = OrderLineFactory(
        state=OrderLine.State.AWAITING_FILES,
        renews=card,
        card_type=card.card_type,
        photo="",
        id_document="",
    )
    Employment.objects.filter(person_id=WORKER).update(
        end=timezone.localdate() - datetime.timedelta(days=1)
    )

    # Only the old card in this batch: the renewal is ended because the old one is.
    summary = cards_recheck(cards=[Card.objects.select_related("card_type").get(pk=card.pk)])

    assert summary.ended == 1
    renewal.refresh_from_db()
    waiting_line.refresh_from_db()
    assert renewal.state == Card.State.REVOKED
    step = renewal.transitions.get(to_state=Card.State.REVOKED)
    assert (step.actor, step.reason) == (None, RevocationReason.EMPLOYMENT_ENDED_IN_REGISTER)
    assert waiting_line.state == OrderLine.State.REJECTED
    assert waiting_line.reason_codes == ["employment_ended"]
    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.LINE_REJECTED, subject_id=str(waiting_line.pk)
    )
    assert entry.actor is None
    assert entry.after["reason_codes"] == ["employment_ended"]
    assert OutboxMessage.objects.filter(
        task_name="orders.tell_employer_rejected", kwargs={"line_id": waiting_line.pk}
    ).exists()
