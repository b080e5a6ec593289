"""HTTP 429 and the bound on requests in flight (issue 12, point 2): a worker waits as long
as Retry-After says (capped), a few times, and keeps at most REGISTER_MAX_CONCURRENT_REQUESTS
requests open at once."""

from __future__ import annotations

import datetime
import email.utils
import threading
import time

import pytest

from registry.clients.brreg import BrregBusinessRegister
from registry.clients.freg import FolkeregisteretPopulationRegister
from registry.clients.http import RegisterThrottled
from registry.clients.waiting import person_waiting
from tests.registry.servers import Reply, enhet, freg_person, national_id, orgnr

UNIT = orgnr(7)
TOO_MANY = {"kode": "FREG-429", "melding": "For mange kall"}


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits the client asks for, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("registry.clients.http.time.sleep", waited.append)
    return waited


def test_retry_after_in_seconds_is_honoured_then_the_answer_is_used(brreg, sleeps) -> None:
    brreg.add(f"/enheter/{UNIT}", Reply(429, headers={"Retry-After": "7"}), Reply(200, enhet(UNIT)))

    assert UNIT in BrregBusinessRegister().organisations([UNIT])

    assert sleeps == [7.0]
    assert len(brreg.hits(f"/enheter/{UNIT}")) == 2


def test_retry_after_as_an_http_date(brreg, sleeps) -> None:
    when = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=20)
    brreg.add(
        f"/enheter/{UNIT}",
        Reply(429, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)}),
        Reply(200, enhet(UNIT)),
    )

    assert UNIT in BrregBusinessRegister().organisations([UNIT])

    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_folkeregisteret_says_milliseconds(freg, sleeps) -> None:
    person = national_id("150690")
    freg.add(
        f"/personer/{person}",
        Reply(429, TOO_MANY, headers={"Retry-After": "1500"}),
        Reply(200, freg_person(person)),
    )

    assert person in FolkeregisteretPopulationRegister().persons([person])
    assert sleeps == [1.5]


def test_a_long_retry_after_is_capped(brreg, sleeps, settings) -> None:
    settings.REGISTER_RETRY_AFTER_MAX_SECONDS = 30
    brreg.add(
        f"/enheter/{UNIT}", Reply(429, headers={"Retry-After": "3600"}), Reply(200, enhet(UNIT))
    )

    BrregBusinessRegister().organisations([UNIT])
    assert sleeps == [30]


def test_a_register_that_keeps_saying_429_is_unavailable_after_the_retries(
    brreg, sleeps, settings
) -> None:
    settings.REGISTER_THROTTLE_RETRIES = 3
    brreg.add(f"/enheter/{UNIT}", Reply(429, headers={"Retry-After": "2"}))

    with pytest.raises(RegisterThrottled) as raised:
        BrregBusinessRegister().organisations([UNIT])

    assert raised.value.retry_after_seconds == 2
    assert sleeps == [2, 2, 2]
    assert len(brreg.hits(f"/enheter/{UNIT}")) == 4


def test_a_person_waiting_is_not_held_by_a_429(brreg, sleeps) -> None:
    brreg.add(f"/enheter/{UNIT}", Reply(429, headers={"Retry-After": "5"}), Reply(200, enhet(UNIT)))

    with person_waiting(), pytest.raises(RegisterThrottled):
        BrregBusinessRegister().organisations([UNIT])
    assert sleeps == []


@pytest.mark.parametrize("bound", [1, 4])
def test_requests_in_flight_stay_within_the_bound(freg, settings, bound) -> None:
    settings.REGISTER_MAX_CONCURRENT_REQUESTS = bound
    settings.REGISTER_CACHE_SECONDS = 0
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def slow(number: str):
        def answer(request):
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            time.sleep(0.03)
            with lock:
                in_flight -= 1
            return Reply(200, freg_person(number))

        return answer

    people = [national_id("150690", seed=seed) for seed in range(12)]
    for person in people:
        freg.add(f"/personer/{person}", responder=slow(person))

    found = FolkeregisteretPopulationRegister().persons(people)

    assert set(found) == set(people)
    # Exactly the bound: never more in flight, and with a bound of 4 the requests overlapped
    # (which is what makes the night faster; no wall-clock assertion needed to show it).
    assert most == bound
