"""Organisation lookups in the http setup: the local copy while it is current, the API otherwise."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from registry.clients import business_register
from registry.clients.brreg import BrregBusinessRegister
from registry.clients.brreg_copy import CopiedBusinessRegister
from registry.feed import change_feed_read
from registry.models import ChangeFeedCursor, RegisterFileLoad, UnitCopy
from registry.unit_copy import (
    unit_copy_current,
    unit_copy_facts,
    unit_copy_load_all,
    unit_copy_mark_stale,
    unit_copy_write,
)
from tests.registry.servers import ACCEPT_ENHET, Reply, enhet, orgnr
from tests.registry.test_feed import feed_responder

pytestmark = pytest.mark.django_db


def _feeds_read(*, started_from: datetime.datetime) -> None:
    for feed in ("enheter", "underenheter"):
        ChangeFeedCursor.objects.create(feed=feed, started_from=started_from)


@pytest.fixture
def current_copy(bulk_files):
    unit_copy_load_all()
    _feeds_read(started_from=timezone.now() - datetime.timedelta(days=3))
    return bulk_files


def test_a_current_copy_answers_organisation_lookups_without_asking_the_api(current_copy):
    register = business_register()

    found = register.organisations([orgnr(1), orgnr(101)])

    assert isinstance(register, CopiedBusinessRegister)
    assert found[orgnr(1)].name == "FIRMA 1 AS"
    assert found[orgnr(101)].main_orgnr == orgnr(1)
    assert not current_copy.hits(f"/enheter/{orgnr(1)}")
    assert not current_copy.hits(f"/underenheter/{orgnr(101)}")


def test_a_unit_the_copy_lacks_is_asked_of_the_api_and_written_back(current_copy, settings):
    settings.REGISTER_CACHE_SECONDS = 0
    number = orgnr(50)
    current_copy.add(f"/enheter/{number}", Reply(200, enhet(number, "NY AS")), accept=ACCEPT_ENHET)

    assert business_register().organisations([number])[number].name == "NY AS"
    assert business_register().organisations([number])[number].name == "NY AS"

    assert len(current_copy.hits(f"/enheter/{number}")) == 1
    assert UnitCopy.objects.get(orgnr=number).name == "NY AS"


def test_a_unit_in_the_change_feed_is_asked_again_and_its_row_refreshed(current_copy, settings):
    settings.REGISTER_CACHE_SECONDS = 0
    number = orgnr(2)
    current_copy.add(
        "/oppdateringer/enheter", responder=feed_responder([(25000001, number, "Endring")])
    )
    current_copy.add(
        f"/enheter/{number}",
        Reply(200, enhet(number, "FIRMA 2 AS", konkurs=True)),
        accept=ACCEPT_ENHET,
    )

    change_feed_read(feed="enheter")
    assert UnitCopy.objects.get(orgnr=number).stale_since is not None

    assert business_register().organisations([number])[number].bankrupt is True
    business_register().organisations([number])

    assert len(current_copy.hits(f"/enheter/{number}")) == 1
    row = UnitCopy.objects.get(orgnr=number)
    assert (row.bankrupt, row.stale_since) == (True, None)


def test_a_unit_the_register_no_longer_knows_leaves_the_copy(current_copy):
    number = orgnr(3)
    UnitCopy.objects.filter(orgnr=number).update(stale_since=timezone.now())
    current_copy.add(f"/enheter/{number}", Reply(404, {"error": "Not Found"}))
    current_copy.add(f"/underenheter/{number}", Reply(404, {"error": "Not Found"}))

    assert business_register().organisations([number]) == {}
    assert not UnitCopy.objects.filter(orgnr=number).exists()


def test_an_old_load_puts_lookups_back_on_the_api(current_copy):
    RegisterFileLoad.objects.filter(register="enhetsregisteret_enheter").update(
        loaded_at=timezone.now() - datetime.timedelta(hours=40)
    )

    assert not unit_copy_current()
    assert isinstance(business_register(), BrregBusinessRegister)


def test_a_stalled_change_feed_puts_lookups_back_on_the_api(current_copy):
    ChangeFeedCursor.objects.filter(feed="underenheter").update(
        read_at=timezone.now() - datetime.timedelta(hours=4)
    )

    assert not unit_copy_current()


def test_a_change_feed_younger_than_the_file_leaves_the_copy_unused(bulk_files):
    # Changes between the file's making and the feed's first read would be missing.
    unit_copy_load_all()
    _feeds_read(started_from=timezone.now() - datetime.timedelta(hours=1))

    assert not unit_copy_current()


def test_the_copy_can_be_turned_off(current_copy, settings):
    settings.ENHETSREGISTERET_COPY_MAX_AGE_HOURS = 0

    assert not unit_copy_current()


def test_a_missing_bulk_file_load_leaves_the_copy_unused(current_copy):
    RegisterFileLoad.objects.filter(register="enhetsregisteret_underenheter").delete()

    assert not unit_copy_current()


def test_whether_the_copy_is_current_is_one_query(current_copy, django_assert_num_queries):
    # business_register() asks it on every call.
    with django_assert_num_queries(1):
        assert unit_copy_current()


def test_a_change_marked_while_the_api_was_asked_keeps_the_row_marked(current_copy):
    number = orgnr(2)
    answer = unit_copy_facts(orgnrs=[number])[number]
    asked_at = timezone.now()
    # The change feed's read lands between the question and the write of its answer: the
    # answer may predate the change.
    unit_copy_mark_stale(orgnrs=[number])

    unit_copy_write(units={number: answer}, asked_at=asked_at)
    assert UnitCopy.objects.get(orgnr=number).stale_since is not None

    # Asked again after the mark: the answer holds the change.
    unit_copy_write(units={number: answer}, asked_at=timezone.now())
    assert UnitCopy.objects.get(orgnr=number).stale_since is None
