"""The status API reads a card's facts without building a Card (cards.selectors.status): what
they say must be what the Card says, the same status on every day, the same reasons, the
same revocation, and nothing the status check may not show."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.db import connection
from django.utils import timezone

from cards.models import Card, CardTransition
from cards.selectors.status import (
    CardStatusFacts,
    _facts_statement,
    card_for_status,
    card_status_facts,
)
from cards.services import RevocationReason, card_revoke
from cards.standing import KNOWN_REVOCATION, revocation_facts
from tests.cards.factories import CardFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def shapes() -> list[Card]:
    """A card of every shape the status rules tell apart."""
    revoked = card_revoke(
        card=CardFactory(state=Card.State.ACTIVE), reason=RevocationReason.STOLEN, actor=None
    )
    return [
        CardFactory(state=Card.State.ACTIVE),
        CardFactory(
            state=Card.State.INVALID,
            reason_codes=["employer_bankrupt", "employment_ended"],
            checked_at=timezone.now() - DAY,
        ),
        CardFactory(state=Card.State.ACTIVE, valid_from=TODAY + 10 * DAY),
        CardFactory(state=Card.State.ACTIVE, issued_on=TODAY - 700 * DAY, valid_until=TODAY - DAY),
        CardFactory(state=Card.State.EXPIRED),
        CardFactory(state=Card.State.SHIPPED, holder_first_name="Åse", holder_last_name="Øy"),
        revoked,
        # Revoked without a recorded revocation (imported from the previous producer).
        CardFactory(state=Card.State.REVOKED),
    ]


def test_the_facts_say_what_the_card_says_on_every_day():
    days = [TODAY - 400 * DAY, TODAY, TODAY + 9 * DAY, TODAY + 10 * DAY, TODAY + 800 * DAY]
    for card in shapes():
        facts = card_status_facts(number=card.number)
        whole = card_for_status(number=card.number)
        assert facts is not None and whole is not None
        for day in days:
            assert facts.status_on(day) == whole.status_on(day), (card.state, day)
            assert facts.reason_codes_on(day) == whole.reason_codes_on(day), (card.state, day)
        assert facts.holder_name == whole.holder_name
        assert facts.card_type_code == whole.card_type.code
        assert (facts.valid_until, facts.valid_from) == (whole.valid_until, whole.valid_from)
        assert facts.checked_at == whole.checked_at
        revoked_on, reason = revocation_facts(whole)
        facts_revoked_on = timezone.localdate(facts.revoked_at) if facts.revoked_at else None
        assert (facts_revoked_on, facts.revocation_reason or "") == (revoked_on, reason)


def test_the_facts_of_a_revoked_card_carry_its_revocation():
    card = card_revoke(
        card=CardFactory(state=Card.State.ACTIVE), reason=RevocationReason.LOST, actor=None
    )
    facts = card_status_facts(number=card.number)
    assert facts is not None
    assert facts.revocation_reason == RevocationReason.LOST
    assert facts.revoked_at is not None and timezone.is_aware(facts.revoked_at)
    # Any other card: no revocation, even one with other transitions.
    other = card_status_facts(number=CardFactory(state=Card.State.ACTIVE).number)
    assert other is not None and (other.revoked_at, other.revocation_reason) == (None, None)


@pytest.mark.parametrize("session_zone", [None, "UTC", "Pacific/Chatham", "America/St_Johns"])
def test_times_are_the_instants_the_orm_reads_whatever_the_session_time_zone(session_zone, request):
    # On PostgreSQL the statement reads times as UTC wall-clock time (psycopg's C loader) and
    # makes them aware again: the same instants as the ORM's, to the microsecond, in any
    # session time zone. On SQLite (None only) the ORM's own converters parse them.
    checked_at = datetime.datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=datetime.UTC)
    card = card_revoke(
        card=CardFactory(state=Card.State.ACTIVE, checked_at=checked_at),
        reason=RevocationReason.STOLEN,
        actor=None,
    )
    revoked_at = CardTransition.objects.get(card=card, to_state=Card.State.REVOKED).at
    if session_zone is not None:
        request.getfixturevalue("postgres_required")
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [session_zone])
            # The setting lasts to the end of the test's transaction: make sure it took.
            cursor.execute("SHOW TimeZone")
            assert cursor.fetchone()[0] == session_zone
    facts = card_status_facts(number=card.number)
    whole = card_for_status(number=card.number)
    assert facts is not None and whole is not None
    page_revocation = getattr(whole, KNOWN_REVOCATION)
    for read in (facts.checked_at, whole.checked_at):
        assert read == checked_at and read.utcoffset() == datetime.timedelta(0)
    for read in (facts.revoked_at, page_revocation.at):
        assert read == revoked_at and read.utcoffset() == datetime.timedelta(0)


def test_numbers_that_cannot_be_a_card_never_reach_the_database(django_assert_num_queries):
    card = CardFactory()
    with django_assert_num_queries(0):
        for number in ("", "12345", "1234\x005678901", "１２３４５６７８９０１２", "x" * 12):
            assert card_status_facts(number=number) is None
    with django_assert_num_queries(1):
        assert card_status_facts(number=card.number[:4] + " " + card.number[4:]) is not None


def test_the_facts_hold_nothing_the_status_check_may_not_show():
    assert not {"holder_national_id", "holder_birth_date", "photo"} & {
        field.name for field in dataclasses.fields(CardStatusFacts)
    }
    sql = _facts_statement().sql
    for column in ("holder_national_id", "holder_birth_date"):
        assert column not in sql
