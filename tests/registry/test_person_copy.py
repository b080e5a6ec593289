"""Folkeregisteret's event feed: only persons it marks are asked again."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from registry.clients import population_register
from registry.clients.freg import person_events_from_freg
from registry.facts import RegisterUnavailable, Requirements
from registry.models import ChangeFeedCursor, PersonCopy
from registry.person_copy import person_events_read
from registry.services import CheckSubject, register_facts_gather
from registry.tasks import read_person_events
from tests.registry.servers import (
    Reply,
    Request,
    freg_person,
    national_id,
    person_event_feed_reply,
)

pytestmark = pytest.mark.django_db

FNR = national_id("150690", seed=1)
DNR = national_id("010285", d_number=True, seed=2)
OTHER = national_id("030377", seed=3)


def event(sequence: int, person: str, kind: str) -> dict[str, Any]:
    return {
        "sekvensnummer": sequence,
        "hendelse": {"hendelsetype": kind, "folkeregisteridentifikator": person},
    }


def feed_responder(events: list[dict[str, Any]], page_size: int = 2):
    """The feed from seq on, a few a page, with an ETag per page; 304 when it matches."""

    def respond(request: Request) -> Reply:
        return person_event_feed_reply(
            events,
            seq=int(request.param("seq") or 1),
            page_size=page_size,
            if_none_match=request.headers.get("if-none-match"),
        )

    return respond


@pytest.fixture
def followed(http_backend, freg, settings):
    """The feed is followed from sequence number 100 on."""
    settings.FOLKEREGISTERET_FEED_START_SEQ = 100
    settings.REGISTER_CACHE_SECONDS = 0
    for person in (FNR, DNR, OTHER):
        freg.add(f"/personer/{person}", Reply(200, freg_person(person)))
    return freg


def _asked(freg, person: str) -> int:
    return len(freg.hits(f"/personer/{person}"))


def test_the_feed_is_read_from_the_start_and_marks_known_persons_whose_checks_may_change(
    followed,
):
    events = [
        event(100, FNR, "EndringIIdentifikasjonsnummer"),
        event(101, DNR, "Doedsfall"),  # not a fact the checks read
        event(105, OTHER, "Navneendring"),  # never asked about: nothing to mark
        event(107, DNR, "EndringIOpphold"),
    ]
    followed.add("/hendelser/feed", responder=feed_responder(events))
    population_register().persons([FNR, DNR])

    marked = person_events_read()

    assert marked == sorted([FNR, DNR])
    assert [r.param("seq") for r in followed.hits("/hendelser/feed")] == ["100", "102", "108"]
    cursor = ChangeFeedCursor.objects.get(feed="folkeregisteret")
    assert (cursor.last_update_id, cursor.etag) == (107, '"108-0"')
    assert not PersonCopy.objects.filter(national_id=OTHER).exists()


def test_an_unchanged_feed_answers_304_to_the_etag(followed):
    followed.add("/hendelser/feed", responder=feed_responder([event(100, FNR, "Navneendring")]))
    person_events_read()

    assert read_person_events() == 0

    last = followed.hits("/hendelser/feed")[-1]
    assert (last.param("seq"), last.headers.get("if-none-match")) == ("101", '"101-0"')
    assert ChangeFeedCursor.objects.get(feed="folkeregisteret").last_update_id == 100


def test_without_a_start_the_feed_is_not_read_and_everyone_is_asked(followed, settings):
    settings.FOLKEREGISTERET_FEED_START_SEQ = None
    followed.add("/hendelser/feed", responder=feed_responder([]))

    assert person_events_read() == []
    population_register().persons([FNR])
    population_register().persons([FNR])

    assert not followed.hits("/hendelser/feed")
    assert _asked(followed, FNR) == 2


def test_a_followed_feed_spares_unchanged_persons_the_question(followed):
    followed.add("/hendelser/feed", responder=feed_responder([]))
    person_events_read()  # following from now on
    population_register().persons([FNR, DNR])

    found = population_register().persons([FNR, DNR])

    assert found[FNR].last_name == "Nordmann"
    assert (_asked(followed, FNR), _asked(followed, DNR)) == (1, 1)


def test_a_marked_person_is_asked_again_and_then_answered_locally(followed):
    events: list[dict[str, Any]] = []
    followed.add("/hendelser/feed", responder=feed_responder(events))
    person_events_read()
    population_register().persons([FNR, DNR])
    events.append(event(100, DNR, "DNummerOpphoert"))
    followed.add(f"/personer/{DNR}", Reply(200, freg_person(DNR, d_number=True, status="opphoert")))

    person_events_read()
    first = population_register().persons([FNR, DNR])
    population_register().persons([FNR, DNR])

    assert first[DNR].id_in_use is False
    assert (_asked(followed, FNR), _asked(followed, DNR)) == (1, 2)
    assert PersonCopy.objects.get(national_id=DNR).changed_since is None


def test_answers_before_the_feed_was_followed_are_not_trusted(followed):
    population_register().persons([FNR])
    followed.add("/hendelser/feed", responder=feed_responder([]))
    person_events_read()

    population_register().persons([FNR])

    assert _asked(followed, FNR) == 2


def test_old_answers_and_a_stalled_feed_send_the_question_to_the_register(followed):
    followed.add("/hendelser/feed", responder=feed_responder([]))
    person_events_read()
    population_register().persons([FNR, DNR])
    PersonCopy.objects.filter(national_id=FNR).update(
        asked_at=timezone.now() - datetime.timedelta(days=8)
    )
    ChangeFeedCursor.objects.filter(feed="folkeregisteret").update(
        started_from=timezone.now() - datetime.timedelta(days=30)
    )

    population_register().persons([FNR, DNR])
    assert (_asked(followed, FNR), _asked(followed, DNR)) == (2, 1)

    ChangeFeedCursor.objects.filter(feed="folkeregisteret").update(
        read_at=timezone.now() - datetime.timedelta(hours=4)
    )
    population_register().persons([DNR])
    assert _asked(followed, DNR) == 2


def test_the_nightly_gathering_asks_folkeregisteret_only_about_marked_persons(followed, brreg):
    followed.add("/hendelser/feed", responder=feed_responder([event(100, FNR, "Navneendring")]))
    subjects = [
        CheckSubject(national_id=person, orgnr="999999999", requirements=Requirements())
        for person in (FNR, DNR)
    ]
    ChangeFeedCursor.objects.create(
        feed="folkeregisteret", last_update_id=99, started_from=timezone.now()
    )
    register_facts_gather(subjects=subjects)

    person_events_read()
    register_facts_gather(subjects=subjects)

    assert (_asked(followed, FNR), _asked(followed, DNR)) == (2, 1)


def test_a_page_in_the_other_possible_shape_is_read_too():
    page = {
        "hendelser": [
            {"sekvensnummer": 7, "hendelsetype": "Navneendring", "folkeregisteridentifikator": FNR},
            {"sekvensnummer": 8, "folkeregisteridentifikator": DNR},
        ]
    }

    events = person_events_from_freg(page)

    assert [(e.sequence, e.national_id, e.concerns_checks) for e in events] == [
        (7, FNR, True),
        (8, DNR, True),
    ]


def test_a_page_that_is_not_a_list_of_events_is_an_outage(followed):
    followed.add("/hendelser/feed", Reply(200, {"noe": "annet"}))

    with pytest.raises(RegisterUnavailable):
        person_events_read()

    assert not ChangeFeedCursor.objects.filter(feed="folkeregisteret").exists()


def test_answers_about_persons_not_asked_about_for_a_month_are_forgotten(followed):
    followed.add("/hendelser/feed", responder=feed_responder([]))
    population_register().persons([FNR, DNR])
    PersonCopy.objects.filter(national_id=FNR).update(
        asked_at=timezone.now() - datetime.timedelta(days=31)
    )

    read_person_events()

    assert list(PersonCopy.objects.values_list("national_id", flat=True)) == [DNR]


def test_the_sweep_asks_each_person_again_once_a_week_a_share_of_them_each_night(followed) -> None:
    """Asked all on one night, the persons fall due again spread over the next seven nights,
    each exactly once: no night asks them all again."""
    from registry.person_copy import person_copy_facts, sweep_night_start

    persons = [
        national_id(f"{day:02d}0690", seed=seed) for day in range(1, 29) for seed in range(5)
    ]
    first_night = timezone.localdate() - datetime.timedelta(days=30)
    asked = datetime.datetime.combine(
        first_night, datetime.time(2, 30), tzinfo=timezone.get_default_timezone()
    )
    PersonCopy.objects.bulk_create(
        PersonCopy(national_id=person, asked_at=asked, first_name="Ola") for person in persons
    )
    ChangeFeedCursor.objects.create(
        feed="folkeregisteret", started_from=asked - datetime.timedelta(days=1), last_update_id=1
    )

    due_on: dict[str, datetime.date] = {}
    for ahead in range(1, 8):
        night = first_night + datetime.timedelta(days=ahead)
        now = datetime.datetime.combine(
            night, datetime.time(2, 15), tzinfo=timezone.get_default_timezone()
        )
        ChangeFeedCursor.objects.filter(feed="folkeregisteret").update(read_at=now)
        held = person_copy_facts(national_ids=persons, now=now)
        for person in persons:
            if person not in held:
                due_on.setdefault(person, night)

    # Every person is due within the week, and each on the night the rule gives them.
    assert set(due_on) == set(persons)
    for person, night in due_on.items():
        assert sweep_night_start(person, today=night, nights=7).date() == night
    per_night = [list(due_on.values()).count(night) for night in set(due_on.values())]
    assert len(per_night) == 7
    assert max(per_night) < len(persons) / 3
