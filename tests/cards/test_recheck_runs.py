"""The night's re-check fanned out in chunks: coverage, idempotent chunks, resuming a run, and
the back office's progress page (issue 12, point 2)."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cards import rechecks
from cards.models import Card, RecheckChunk, RecheckRun
from cards.tasks import recheck_all_cards, recheck_chunk, recheck_runs_resume
from hmsportal.models import OutboxMessage, User
from tests.cards.factories import CardFactory, CardTypeFactory
from tests.registry.conftest import (  # noqa: F401 (fixtures)
    ARBEIDSFORHOLD_PREFIX,
    _register_settings,
    brreg,
    fake_register,
    freg,
    skatt,
)
from tests.registry.servers import FakeRegister, Reply, enhet, freg_person, national_id, orgnr

pytestmark = pytest.mark.django_db

EMPLOYER = orgnr(41)


@pytest.fixture
def registers(settings, brreg, freg, skatt) -> dict[str, FakeRegister]:  # noqa: F811
    """The http adapters against stand-ins that know every person as employed by EMPLOYER.
    No cache, so every question reaches a stand-in and can be counted."""
    settings.REGISTRY_BACKEND = "http"
    settings.REGISTER_CACHE_SECONDS = 0
    brreg.add(f"/enheter/{EMPLOYER}", Reply(200, enhet(EMPLOYER)))
    return {"brreg": brreg, "freg": freg, "skatt": skatt}


def live_cards(registers: dict[str, FakeRegister], count: int) -> list[Card]:
    card_type = CardTypeFactory()
    cards = []
    for seed in range(count):
        number = national_id("150690", seed=seed)
        registers["freg"].add(f"/personer/{number}", Reply(200, freg_person(number)))
        registers["skatt"].add(
            f"/arbeidstilsynetHmsKort/arbeidsgiver/{EMPLOYER}/arbeidstaker/{number}",
            Reply(200, {"aktiv": "JA", "perioder": [{"startdato": "2020-01-01"}]}),
        )
        cards.append(
            CardFactory(
                card_type=card_type,
                state=Card.State.ACTIVE,
                holder_national_id=number,
                workplace_orgnr=EMPLOYER,
                employer_orgnr=EMPLOYER,
            )
        )
    return cards


def persons_asked(registers: dict[str, FakeRegister]) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in registers["freg"].requests]


def test_chunks_cover_every_live_card_exactly_once(registers) -> None:
    cards = live_cards(registers, 7)
    # Cards that are no longer checked fall between the live ones and are left out.
    CardFactory(state=Card.State.REVOKED)
    cards += live_cards(registers, 0)
    CardFactory(state=Card.State.EXPIRED)

    run = rechecks.recheck_run_start(chunk_cards=3)

    chunks = list(run.chunks.order_by("first_pk"))
    assert run.total_cards == 7 and run.chunks_total == len(chunks) == 3
    live = Card.objects.filter(state__in=Card.CHECKED_STATES).values_list("pk", flat=True)
    for pk in live:
        assert sum(c.first_pk <= pk <= c.last_pk for c in chunks) == 1
    assert all(a.last_pk < b.first_pk for a, b in itertools.pairwise(chunks))
    # The chunks go to the workers through the outbox, with the run's commit.
    assert OutboxMessage.objects.filter(
        task_name="cards.recheck_run_send", kwargs={"run_id": run.pk}
    ).exists()


def test_the_nightly_task_fans_out_and_the_last_chunk_finishes_the_run(
    registers, django_capture_on_commit_callbacks, settings
) -> None:
    settings.RECHECK_CHUNK_CARDS = 2
    cards = live_cards(registers, 5)

    with django_capture_on_commit_callbacks(execute=True):
        result = recheck_all_cards()

    run = RecheckRun.objects.get(pk=result["run"])
    assert (result["cards"], result["chunks"]) == (5, 3)
    assert run.state == RecheckRun.State.FINISHED and run.finished_at is not None
    assert (run.chunks_done, run.cards_checked, run.failed_lookups) == (3, 5, 0)
    assert set(run.chunks.values_list("state", flat=True)) == {RecheckChunk.State.DONE}
    assert sorted(persons_asked(registers)) == sorted(c.holder_national_id for c in cards)
    for card in cards:
        card.refresh_from_db()
        assert card.state == Card.State.ACTIVE and card.checked_at >= run.started_at


def test_a_chunk_delivered_twice_asks_the_registers_once(registers) -> None:
    live_cards(registers, 4)
    run = rechecks.recheck_run_start(chunk_cards=2)
    first = run.chunks.order_by("first_pk").first()

    assert recheck_chunk(chunk_id=first.pk) == {"run": run.pk, "ran": 1, "finished": 0}
    assert recheck_chunk(chunk_id=first.pk) == {"run": run.pk, "ran": 0, "finished": 0}

    assert len(registers["freg"].requests) == 2
    assert len(registers["skatt"].requests) == 2
    run.refresh_from_db()
    assert (run.chunks_done, run.cards_checked, run.state) == (1, 2, RecheckRun.State.RUNNING)


def test_a_chunk_another_worker_holds_is_skipped(registers) -> None:
    live_cards(registers, 2)
    run = rechecks.recheck_run_start(chunk_cards=2)
    chunk = run.chunks.get()
    chunk.state, chunk.claimed_at = RecheckChunk.State.RUNNING, timezone.now()
    chunk.save()

    assert recheck_chunk(chunk_id=chunk.pk)["ran"] == 0
    assert registers["freg"].requests == []


def test_a_run_killed_halfway_resumes_only_the_rest(registers) -> None:
    cards = live_cards(registers, 6)
    run = rechecks.recheck_run_start(chunk_cards=2)
    first, second, third = run.chunks.order_by("first_pk")
    RecheckChunk.objects.update(sent_at=run.started_at)
    recheck_chunk(chunk_id=first.pk)
    # The worker of the second chunk dies after checking one of its two cards.
    done_in_second = cards[2]
    assert second.first_pk == done_in_second.pk
    Card.objects.filter(pk=done_in_second.pk).update(checked_at=timezone.now())
    long_ago = timezone.now() - rechecks.CHUNK_LEASE - datetime.timedelta(minutes=1)
    RecheckChunk.objects.filter(pk=second.pk).update(
        state=RecheckChunk.State.RUNNING, claimed_at=long_ago
    )
    # The third chunk's message was lost with the broker.
    RecheckChunk.objects.filter(pk=third.pk).update(sent_at=long_ago)
    asked_before = len(registers["freg"].requests)

    assert recheck_runs_resume() == 2

    asked = persons_asked(registers)[asked_before:]
    rest = [c.holder_national_id for c in cards[3:]]
    assert sorted(asked) == sorted(rest)
    run.refresh_from_db()
    assert run.state == RecheckRun.State.FINISHED and run.chunks_done == 3
    # Nothing is left to resume: the next beat sends nothing.
    assert recheck_runs_resume(stale_seconds=0) == 0


def test_chunks_recently_sent_are_not_sent_again_by_the_beat(registers) -> None:
    live_cards(registers, 2)
    run = rechecks.recheck_run_start(chunk_cards=1)
    assert len(rechecks.recheck_chunks_to_send(run_id=run.pk)) == 2
    assert rechecks.recheck_chunks_to_send() == []
    # The operator, knowing every worker stopped, sends them all again at once.
    assert len(rechecks.recheck_chunks_to_send(stale_after=datetime.timedelta(0))) == 2


def test_a_register_down_leaves_the_chunk_done_and_its_cards_as_they_were(
    registers, settings, monkeypatch
) -> None:
    left_over: list[dict] = []
    monkeypatch.setattr(
        "cards.tasks.recheck_cards_left_over.apply_async",
        lambda **options: left_over.append(options),
    )
    cards = live_cards(registers, 2)
    registers["skatt"].routes.clear()
    registers["skatt"].add(
        f"/arbeidstilsynetHmsKort/arbeidsgiver/{EMPLOYER}/arbeidstaker/{cards[0].holder_national_id}",
        Reply(503),
    )
    settings.REGISTER_RETRIES = 0
    run = rechecks.recheck_run_start(chunk_cards=5)

    recheck_chunk(chunk_id=run.chunks.get().pk)

    run.refresh_from_db()
    assert run.state == RecheckRun.State.FINISHED and run.failed_lookups == 2
    # The cards a register did not answer for are asked again later in the night.
    assert left_over == [
        {"kwargs": {"started_at": run.started_at.isoformat()}, "countdown": 15 * 60}
    ]
    for card in cards:
        card.refresh_from_db()
        assert card.state == Card.State.ACTIVE and card.checked_at is None


def test_a_new_night_supersedes_a_run_left_open(registers) -> None:
    live_cards(registers, 1)
    old = rechecks.recheck_run_start()
    new = rechecks.recheck_run_start()
    old.refresh_from_db()
    assert old.state == RecheckRun.State.SUPERSEDED
    assert new.state == RecheckRun.State.RUNNING
    assert recheck_chunk(chunk_id=old.chunks.get().pk)["ran"] == 0


@pytest.mark.parametrize(
    ("language", "title", "parts"),
    [("en", "Nightly register re-check", "1 of 3 parts"), ("nb", "Nattlig", "1 av 3 deler")],
)
def test_the_back_office_shows_the_run_with_a_progress_bar(
    client, registers, language, title, parts
) -> None:
    live_cards(registers, 5)
    run = rechecks.recheck_run_start(chunk_cards=2)
    recheck_chunk(chunk_id=run.chunks.order_by("first_pk").first().pk)
    client.force_login(User.objects.create_user(username="card-office", is_staff=True))

    page = client.get(reverse("cards:recheck_runs"), HTTP_ACCEPT_LANGUAGE=language)

    html = page.content.decode()
    assert page.status_code == 200
    assert title in html and parts in html
    assert re.search(r'class="progress-bar progress-w-33"', html)
    assert 'aria-valuenow="1"' in html and "batch-progress.js" in html
    assert " style=" not in html
    progress = client.get(reverse("cards:recheck_progress")).json()
    assert progress == {"state": "running", "done": 1, "total": 3, "cards_checked": 2}


def test_the_back_office_page_without_any_run(client) -> None:
    client.force_login(User.objects.create_user(username="card-office", is_staff=True))
    page = client.get(reverse("cards:recheck_runs"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "No re-check has run yet." in page.content.decode()
    assert client.get(reverse("cards:recheck_progress")).json()["state"] == "none"


def test_a_night_without_live_cards_is_a_finished_run(registers) -> None:
    run = rechecks.recheck_run_start()
    assert (run.state, run.total_cards, run.chunks_total) == (RecheckRun.State.FINISHED, 0, 0)
    assert not OutboxMessage.objects.filter(task_name="cards.recheck_run_send").exists()


def test_the_same_message_delivered_again_takes_over_from_its_dead_worker(registers) -> None:
    live_cards(registers, 2)
    run = rechecks.recheck_run_start(chunk_cards=2)
    chunk = run.chunks.get()
    # A worker took the chunk under this delivery and was killed; the broker hands the same
    # message (acks late) to another worker at once, well inside the lease.
    chunk.state, chunk.claimed_at, chunk.claimed_by = (
        RecheckChunk.State.RUNNING,
        timezone.now(),
        "celery-task-1",
    )
    chunk.save()

    assert rechecks.recheck_chunk_run(chunk_id=chunk.pk, delivery="celery-task-2").ran is False
    assert registers["freg"].requests == []
    assert rechecks.recheck_chunk_run(chunk_id=chunk.pk, delivery="celery-task-1").run_finished
    assert len(registers["freg"].requests) == 2


def test_a_left_over_retry_is_acknowledged_before_the_broker_hands_it_out_again(settings) -> None:
    # A retry is unacknowledged from the moment a worker takes it, through its countdown, until
    # its run ends (acks late): if that outlasts the visibility timeout the broker hands it out
    # again, and it runs twice.
    from cards.tasks import left_over_retry_delay, recheck_cards_left_over

    longest_run = recheck_cards_left_over.time_limit
    retries = range(recheck_cards_left_over.max_retries)

    def delays() -> list[int]:
        return [left_over_retry_delay(n) for n in retries]

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert all(delay + longest_run < visibility for delay in delays())
    # The portal's settings (5 h, runs up to 4 h 10 min): 30 minutes, then every 40.
    assert delays() == [30 * 60] + [40 * 60] * 7
    # A longer timeout lets the delays keep doubling further, still within it.
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 10 * 3600}
    assert delays()[:5] == [30 * 60, 3600, 2 * 3600, 4 * 3600, 10 * 3600 - longest_run - 600]
    assert all(delay + longest_run < 10 * 3600 for delay in delays())
