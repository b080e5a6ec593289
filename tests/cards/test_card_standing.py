"""The status never contradicts itself (issue 11, point 7): a revoked card says when and why,
an expired one its last valid day, an invalid one what failed and what fixes it; the
valid-until date is "valid until" only while the card is valid, and otherwise the date
printed on the card. The status page, the API, the holder's and the employer's pages, in
bokmål and in English."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cards.models import Card, CardTransition
from cards.services import RevocationReason
from cards.standing import card_standing
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db

MONTHS_NB = "januar februar mars april mai juni juli august september oktober november desember"


def long_date(day: datetime.date, language: str) -> str:
    if language == "en":
        return f"{day.day} {day:%B} {day.year}"
    return f"{day.day}. {MONTHS_NB.split()[day.month - 1]} {day.year}"


# What each state says, per language: (the headline with {date}, the valid-until label).
EXPECTED = {
    "valid": {
        "en": ("The card is valid today.", "Valid until"),
        "nb": ("Kortet er gyldig i dag.", "Gyldig til"),
    },
    "revoked": {
        "en": ("Revoked on {date}: reported stolen.", "End date printed on the card"),
        "nb": ("Tilbakekalt {date}: meldt stjålet.", "Sluttdato trykt på kortet"),
    },
    "expired": {
        "en": ("Expired: the card&#x27;s last valid day was {date}.", "End date printed on the card"),
        "nb": ("Utløpt: kortets siste gyldige dag var {date}.", "Sluttdato trykt på kortet"),
    },
    "invalid": {
        "en": ("Not valid: the register requirements are not met.", "End date printed on the card"),
        "nb": ("Ikke gyldig: registerkravene er ikke oppfylt.", "Sluttdato trykt på kortet"),
    },
}  # fmt: skip


@pytest.fixture
def cards():
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    from cards.models import CardType

    today = timezone.localdate()
    common = {
        "holder_national_id": WORKER,
        "holder_first_name": "Ola",
        "holder_last_name": "Snekker",
        "employer_orgnr": EMPLOYER,
        "workplace_orgnr": SUB_UNIT,
        "employer_name": "Fjordbygg AS",
    }
    construction = CardType.objects.get(code="construction")
    cleaning = CardType.objects.get(code="cleaning")
    valid = CardFactory(card_type=construction, state=Card.State.ACTIVE, **common)
    revoked = CardFactory(card_type=construction, state=Card.State.REVOKED, **common)
    step = CardTransition.objects.create(
        card=revoked, from_state="active", to_state="revoked", reason=RevocationReason.STOLEN
    )
    # Revoked three days ago, while the printed end date lies two years ahead.
    CardTransition.objects.filter(pk=step.pk).update(at=timezone.now() - datetime.timedelta(days=3))
    expired = CardFactory(
        card_type=construction,
        state=Card.State.ACTIVE,
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=70),
        holder_national_id="01017512419",
        employer_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
    )
    invalid = CardFactory(
        card_type=cleaning,
        state=Card.State.INVALID,
        reason_codes=["employer_bankrupt", "person_id_inactive"],
        **common,
    )
    return {"valid": valid, "revoked": revoked, "expired": expired, "invalid": invalid}


def headline(state: str, language: str, card: Card) -> str:
    text, _ = EXPECTED[state][language]
    today = timezone.localdate()
    day = {
        "revoked": today - datetime.timedelta(days=3),
        "expired": card.valid_until,
    }.get(state)
    return text.format(date=long_date(day, language)) if day else text


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("state", list(EXPECTED))
def test_the_status_page_says_why_and_labels_the_printed_date(client, cards, state, language):
    card = cards[state]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/status/{card.number}/").content.decode()
    assert f'data-status="{state}"' in html
    assert headline(state, language, card) in html
    valid_label, printed_label = EXPECTED["valid"][language][1], EXPECTED[state][language][1]
    assert f"<dt>{printed_label}</dt>" in html
    if state != "valid":
        assert f"<dt>{valid_label}</dt>" not in html


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("state", list(EXPECTED))
def test_the_employer_page_says_the_same(client, cards, state, language):
    card = cards[state]
    client.force_login(UserFactory(language=language))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/orders/{EMPLOYER}/cards/{card.number}/").content.decode()
    assert headline(state, language, card) in html
    assert f"<dt>{EXPECTED[state][language][1]}</dt>" in html


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_employer_page_adds_the_production_step_only_to_a_valid_card(client, cards, language):
    """A valid card's step (approved, in production, shipped) under the sentence, not
    "The card is valid today. (active)"; an expired card still marked active says nothing
    that contradicts its sentence."""
    client.force_login(UserFactory(language=language))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    valid = client.get(f"/orders/{EMPLOYER}/cards/{cards['valid'].number}/").content.decode()
    active = {"nb": "Aktiv", "en": "Active"}[language]
    assert f'<span class="small text-body-secondary" data-card-state>{active}</span>' in valid
    assert f"({active.lower()})" not in valid
    expired = client.get(f"/orders/{EMPLOYER}/cards/{cards['expired'].number}/").content.decode()
    assert "data-card-state" not in expired
    assert f"({active.lower()})" not in expired


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("state", ["valid", "revoked", "invalid"])
def test_the_holder_page_says_the_same_and_names_their_own_reasons(client, cards, state, language):
    card = cards[state]
    client.force_login(UserFactory(username="ola", national_id=WORKER, full_name="Ola Snekker"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/my-cards/{card.number}/").content.decode()
    assert headline(state, language, card) in html
    assert f"<dt>{EXPECTED[state][language][1]}</dt>" in html
    if state == "invalid":
        # The holder reads which requirement about them failed; the public does not.
        assert {"en": "The D-number is no longer active.", "nb": "D-nummeret er ikke lenger i bruk."}[language] in html  # fmt: skip


def test_the_public_reads_employer_reasons_and_fixes_but_not_the_holders(cards):
    standing = card_standing(cards["invalid"], today=timezone.localdate(), public=True)
    texts = [reason for reason, _ in standing.reasons]
    assert "Virksomheten er konkurs." in texts
    assert "D-nummeret er ikke lenger i bruk." not in texts
    assert all(fix for _, fix in standing.reasons)


def test_the_api_says_when_and_why_a_card_was_revoked(client, cards):
    answer = client.get(f"/api/v1/cards/{cards['revoked'].number}").json()
    assert answer["status"] == "revoked"
    assert answer["revoked_on"] == (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    assert answer["revocation_reason"] == "stolen"
    valid = client.get(f"/api/v1/cards/{cards['valid'].number}").json()
    assert "revoked_on" not in valid
    expired = client.get(f"/api/v1/cards/{cards['expired'].number}").json()
    assert (expired["status"], expired["valid_until"]) == (
        "expired",
        cards["expired"].valid_until.isoformat(),
    )


def test_a_revoked_card_costs_the_status_check_one_query(client, cards, django_assert_num_queries):
    """The revocation comes with the card in the status lookup's one statement (issue 12:
    at most one round trip to PostgreSQL per lookup, whatever the card's state)."""
    card = cards["revoked"]
    # The fixture's revocation, moved to yesterday and given another reason.
    yesterday = timezone.now() - datetime.timedelta(days=1)
    card.transitions.filter(to_state="revoked").update(at=yesterday, reason=RevocationReason.LOST)
    with django_assert_num_queries(1):
        answer = client.get(f"/api/v1/cards/{card.number}").json()
    assert (answer["revoked_on"], answer["revocation_reason"]) == (
        timezone.localdate(yesterday).isoformat(),
        "lost",
    )
    with django_assert_num_queries(1):
        html = client.get(f"/status/{card.number}/").content.decode()
    assert f"Tilbakekalt {long_date(timezone.localdate(yesterday), 'nb')}: meldt tapt." in html


def test_a_card_is_revoked_once(cards):
    """Revoked is final (cards.services.ALLOWED_TRANSITIONS), and the database holds to it:
    the status check reads the one revocation with a plain join."""
    card = cards["revoked"]
    with pytest.raises(IntegrityError), transaction.atomic():
        CardTransition.objects.create(
            card=card, from_state="revoked", to_state="revoked", reason=RevocationReason.LOST
        )
    # Other transitions of the card are not limited.
    CardTransition.objects.create(card=card, from_state="active", to_state="invalid")
    CardTransition.objects.create(card=card, from_state="invalid", to_state="active")


def test_a_revoked_card_without_a_recorded_revocation_says_only_that(client, cards):
    card = cards["revoked"]
    card.transitions.all().delete()
    answer = client.get(f"/api/v1/cards/{card.number}").json()
    assert (answer["status"], answer["revoked_on"], answer["revocation_reason"]) == (
        "revoked",
        None,
        "",
    )
    html = client.get(f"/status/{card.number}/").content.decode()
    assert "Kortet er tilbakekalt." in html
