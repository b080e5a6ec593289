"""Enhetsregisteret's change feed, paged by oppdateringsid against a fake register."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from registry.clients.brreg import BrregBusinessRegister
from registry.facts import RegisterUnavailable
from registry.feed import change_feed_read
from registry.models import ChangeFeedCursor
from registry.tasks import read_change_feed
from tests.registry.servers import (
    ACCEPT_ENHET,
    Reply,
    Request,
    change_feed_page,
    enhet,
    orgnr,
)

pytestmark = pytest.mark.django_db

# Sparse ids, as the register hands them out.
UPDATES = [
    (25000100, orgnr(10), "Ny"),
    (25000105, orgnr(11), "Endring"),
    (25000230, orgnr(12), "Sletting"),
    (25000231, orgnr(10), "Endring"),
    (25000400, orgnr(13), "Fjernet"),
]
SUB_UNIT_UPDATES = [(31000007, orgnr(20), "Endring")]


def feed_responder(updates, list_key="oppdaterteEnheter"):
    def respond(request: Request) -> Reply:
        size = int(request.param("size") or 20)
        start = request.param("oppdateringsid")
        if start is None:
            assert request.param("dato") is not None
            matching = updates
        else:
            matching = [u for u in updates if u[0] >= int(start)]
        return Reply(200, change_feed_page(matching, list_key=list_key, size=size))

    return respond


def test_feed_is_paged_by_the_last_oppdateringsid(brreg, settings):
    settings.CHANGE_FEED_PAGE_SIZE = 2
    brreg.add("/oppdateringer/enheter", responder=feed_responder(UPDATES))

    changed = change_feed_read(feed="enheter")

    assert changed == sorted({orgnr(10), orgnr(11), orgnr(12), orgnr(13)})
    requests = brreg.hits("/oppdateringer/enheter")
    assert [r.param("oppdateringsid") for r in requests] == [None, "25000106", "25000232"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", requests[0].param("dato") or "")
    assert ChangeFeedCursor.objects.get(feed="enheter").last_update_id == 25000400


def test_first_read_starts_one_hour_back(brreg):
    brreg.add("/oppdateringer/enheter", responder=feed_responder([]))

    change_feed_read(feed="enheter")

    dato = brreg.hits("/oppdateringer/enheter")[0].param("dato") or ""
    started = datetime.datetime.fromisoformat(dato.replace("Z", "+00:00"))
    assert datetime.timedelta(minutes=59) < timezone.now() - started < datetime.timedelta(hours=2)


def test_nothing_new_keeps_the_cursor(brreg):
    brreg.add("/oppdateringer/enheter", responder=feed_responder(UPDATES))
    change_feed_read(feed="enheter")

    assert change_feed_read(feed="enheter") == []

    last = brreg.hits("/oppdateringer/enheter")[-1]
    assert last.param("oppdateringsid") == "25000401"
    assert ChangeFeedCursor.objects.get(feed="enheter").last_update_id == 25000400


def test_empty_first_read_keeps_its_starting_point(brreg):
    brreg.add("/oppdateringer/enheter", responder=feed_responder([]))

    change_feed_read(feed="enheter")
    change_feed_read(feed="enheter")

    first, second = brreg.hits("/oppdateringer/enheter")
    assert first.param("dato") == second.param("dato")
    assert ChangeFeedCursor.objects.get(feed="enheter").last_update_id is None


def test_sub_unit_feed_has_its_own_cursor(brreg):
    brreg.add(
        "/oppdateringer/underenheter",
        responder=feed_responder(SUB_UNIT_UPDATES, "oppdaterteUnderenheter"),
    )

    assert change_feed_read(feed="underenheter") == [orgnr(20)]
    assert ChangeFeedCursor.objects.get(feed="underenheter").last_update_id == 31000007
    assert not ChangeFeedCursor.objects.filter(feed="enheter").exists()


def test_unavailable_feed_does_not_move_the_cursor(brreg):
    brreg.add("/oppdateringer/enheter", responder=feed_responder(UPDATES))
    change_feed_read(feed="enheter")
    brreg.add("/oppdateringer/enheter", Reply(200, "<html>oops</html>", content_type="text/html"))

    with pytest.raises(RegisterUnavailable):
        change_feed_read(feed="enheter")

    assert ChangeFeedCursor.objects.get(feed="enheter").last_update_id == 25000400


def test_changed_units_are_looked_up_afresh(brreg):
    changed = orgnr(13)
    brreg.add(f"/enheter/{changed}", Reply(200, enhet(changed)), accept=ACCEPT_ENHET)
    BrregBusinessRegister().organisations([changed])
    brreg.add("/oppdateringer/enheter", responder=feed_responder(UPDATES))

    change_feed_read(feed="enheter")
    BrregBusinessRegister().organisations([changed])

    assert len(brreg.hits(f"/enheter/{changed}")) == 2


# --- The hourly task and its hook ----------------------------------------------------------

HANDED_ON: list[list[str]] = []


def record_changed(orgnrs: list[str]) -> None:
    """Stands in for orders.handlers.organisations_changed."""
    HANDED_ON.append(list(orgnrs))


@pytest.fixture
def handler(settings):
    HANDED_ON.clear()
    settings.REGISTRY_CHANGED_ORGANISATIONS_HANDLER = "tests.registry.test_feed.record_changed"
    yield HANDED_ON
    HANDED_ON.clear()


def test_hourly_task_hands_changed_units_to_the_hook(brreg, settings, handler):
    settings.REGISTRY_BACKEND = "http"
    brreg.add("/oppdateringer/enheter", responder=feed_responder(UPDATES))
    brreg.add(
        "/oppdateringer/underenheter",
        responder=feed_responder(SUB_UNIT_UPDATES, "oppdaterteUnderenheter"),
    )

    result = read_change_feed.delay().get()

    assert handler == [sorted({orgnr(10), orgnr(11), orgnr(12), orgnr(13)}), [orgnr(20)]]
    assert result == sorted({orgnr(10), orgnr(11), orgnr(12), orgnr(13), orgnr(20)})


def test_hourly_task_without_changes_does_not_call_the_hook(brreg, settings, handler):
    settings.REGISTRY_BACKEND = "http"
    brreg.add("/oppdateringer/enheter", responder=feed_responder([]))
    brreg.add("/oppdateringer/underenheter", responder=feed_responder([]))

    read_change_feed.delay()

    assert handler == []
    assert len(brreg.requests) == 2


def test_hourly_task_does_nothing_for_the_embedded_registry(brreg, settings, handler):
    settings.REGISTRY_BACKEND = "embedded"

    read_change_feed.delay()

    assert brreg.requests == []
    assert handler == []
