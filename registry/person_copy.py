"""Folkeregisteret's event feed and what the register last said about each person asked about.

Every answer Folkeregisteret gives about a person is kept in PersonCopy. The hourly read of
the event feed (`hendelser/feed?seq=N`, REGISTERS.md) marks the persons whose identity
number (D-number status), name or residence changed; registry/clients/freg_copy.py then
answers from PersonCopy for everyone else, so the nightly re-check asks Folkeregisteret only
about marked persons, persons it has not been asked about yet, and the persons whose night of
the sweep it is: each person is asked again once every FOLKEREGISTERET_SWEEP_NIGHTS nights,
on a night spread by their identity number (the sweep bounds the harm of an event the feed's
unconfirmed shape made us miss, and costs a night about 1/nights of a request per card).

A stored answer is used only while the feed is being followed: it was read within
FOLKEREGISTERET_FEED_MAX_AGE_HOURS and the answer was given after the feed's first read. The
feed's first read starts at FOLKEREGISTERET_FEED_START_SEQ (how to find today's sequence
number is not in REGISTERS.md); without it the feed is not read and every person is asked,
as before.
"""

from __future__ import annotations

import datetime
import logging
import zlib
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.clients.freg import (
    EVENT_FEED_PATH,
    PARTS,
    REGISTER,
    events_client,
    person_events_from_freg,
)
from registry.clients.http import cache_forget, setting
from registry.facts import PersonFacts
from registry.models import ChangeFeedCursor, PersonCopy

logger = logging.getLogger(__name__)

FEED = "folkeregisteret"


def person_events_read() -> list[str]:
    """Read Folkeregisteret's event feed from the cursor on; mark the persons it concerns.

    Returns the identity numbers marked (only persons hmsportal has asked about are). The
    ETag kept is always that of the page after the last event seen, so an unchanged feed
    answers 304 without a body.
    """
    if settings.REGISTRY_BACKEND != "http":
        return []
    cursor = ChangeFeedCursor.objects.filter(feed=FEED).first()
    if cursor is None:
        start = setting("FOLKEREGISTERET_FEED_START_SEQ", None)
        if start is None:
            logger.info("folkeregisteret: FOLKEREGISTERET_FEED_START_SEQ not set, feed not read")
            return []
        last_seen, etag, started_from = int(start) - 1, "", timezone.now()
    else:
        last_seen, etag, started_from = cursor.last_update_id or 0, cursor.etag, cursor.started_from

    client = events_client()
    concerned: set[str] = set()
    for _ in range(int(setting("FOLKEREGISTERET_FEED_MAX_PAGES", 50))):
        answer = client.get_json(
            EVENT_FEED_PATH,
            params={"seq": last_seen + 1},
            answers=(200, 304),
            cache=False,
            headers={"If-None-Match": etag} if etag else None,
        )
        if answer.status == 304:
            break
        events = person_events_from_freg(answer.body)
        if not events:
            etag = str(answer.headers.get("ETag") or "")
            break
        concerned.update(e.national_id for e in events if e.concerns_checks and e.national_id)
        highest = max(event.sequence for event in events)
        if highest <= last_seen:
            break  # the feed went backwards; stop rather than loop
        last_seen, etag = highest, ""
    else:
        logger.warning("folkeregisteret feed: stopped after the page limit, continuing next run")
    marked = _store(last_seen=last_seen, etag=etag, started_from=started_from, concerned=concerned)
    # A cached answer about a marked person is stale too.
    for national_id in marked:
        cache_forget(REGISTER, f"/personer/{national_id}", {"part": PARTS})
    return marked


@transaction.atomic
def _store(
    *, last_seen: int, etag: str, started_from: datetime.datetime, concerned: set[str]
) -> list[str]:
    """Mark the persons and move the cursor together: a crash between them loses nothing."""
    marked = sorted(
        PersonCopy.objects.filter(
            national_id__in=concerned, changed_since__isnull=True
        ).values_list("national_id", flat=True)
    )
    PersonCopy.objects.filter(national_id__in=marked).update(changed_since=timezone.now())
    cursor, _ = ChangeFeedCursor.objects.select_for_update().get_or_create(
        feed=FEED, defaults={"started_from": started_from, "last_update_id": last_seen}
    )
    cursor.last_update_id = last_seen
    cursor.etag = etag[:200]
    cursor.full_clean()
    cursor.save(update_fields=["last_update_id", "etag", "read_at"])
    return marked


def person_copy_facts(
    *, national_ids: Iterable[str], now: datetime.datetime | None = None
) -> dict[str, PersonFacts]:
    """The persons whose last answer still holds (none while the feed is not followed)."""
    now = now or timezone.now()
    cursor = ChangeFeedCursor.objects.filter(feed=FEED).first()
    feed_max_age = datetime.timedelta(hours=float(setting("FOLKEREGISTERET_FEED_MAX_AGE_HOURS", 3)))
    if cursor is None or cursor.read_at < now - feed_max_age:
        return {}
    nights = max(1, int(setting("FOLKEREGISTERET_SWEEP_NIGHTS", 7)))
    today = timezone.localdate(now)
    rows = PersonCopy.objects.filter(
        national_id__in=set(national_ids),
        changed_since__isnull=True,
        # Asked before the feed was followed: a change in between would be unknown.
        asked_at__gte=max(cursor.started_from, now - datetime.timedelta(days=nights)),
    )
    return {
        row.national_id: _facts(row)
        for row in rows
        if row.asked_at >= sweep_night_start(row.national_id, today=today, nights=nights)
    }


def sweep_night_start(national_id: str, *, today: datetime.date, nights: int) -> datetime.datetime:
    """The start (Europe/Oslo) of the latest night on which this person is asked again anyway.

    Every person has one night in each FOLKEREGISTERET_SWEEP_NIGHTS, chosen by their identity
    number, so a night asks about 1/nights of the persons: without it everyone the first
    night asked would fall due on the same night again, a night of two requests per card.
    An answer given on or after this start holds, so no answer is older than `nights` days.
    """
    slot = zlib.crc32(national_id.encode()) % nights
    day = today - datetime.timedelta(days=(today.toordinal() - slot) % nights)
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def _facts(row: PersonCopy) -> PersonFacts:
    return PersonFacts(
        national_id=row.national_id,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        is_d_number=row.is_d_number,
        id_in_use=row.id_in_use,
        id_inactive_since=row.id_inactive_since,
        eea_citizen=row.eea_citizen,
        permit_until=row.permit_until,
    )


@transaction.atomic
def person_copy_write(
    *, persons: Mapping[str, PersonFacts | None], asked_at: datetime.datetime
) -> None:
    """Keep what Folkeregisteret answered at asked_at (None: it does not know the person)."""
    PersonCopy.objects.filter(
        national_id__in=[nid for nid, person in persons.items() if person is None]
    ).delete()
    rows = [
        PersonCopy(
            national_id=person.national_id,
            first_name=person.first_name[:200],
            last_name=person.last_name[:200],
            birth_date=person.birth_date,
            is_d_number=person.is_d_number,
            id_in_use=person.id_in_use,
            id_inactive_since=person.id_inactive_since,
            eea_citizen=person.eea_citizen,
            permit_until=person.permit_until,
            asked_at=asked_at,
        )
        for person in persons.values()
        if person is not None
    ]
    fields = [f.name for f in PersonCopy._meta.concrete_fields if not f.primary_key]
    PersonCopy.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["national_id"],
        update_fields=[name for name in fields if name != "changed_since"],
    )
    # An event the feed marked before the question was asked is answered by it; one marked
    # later may be newer than the answer and keeps the person marked.
    PersonCopy.objects.filter(
        national_id__in=[row.national_id for row in rows], changed_since__lt=asked_at
    ).update(changed_since=None)


# A person not asked about for this long no longer has a card or order line being checked
# (the nightly re-check asks everyone within FOLKEREGISTERET_SWEEP_NIGHTS): what
# Folkeregisteret said about them is not kept (data minimisation).
PERSON_COPY_KEPT = datetime.timedelta(days=30)


def person_copy_purge(*, now: datetime.datetime) -> int:
    """Forget the answers about persons not asked about for PERSON_COPY_KEPT."""
    deleted, _ = PersonCopy.objects.filter(asked_at__lt=now - PERSON_COPY_KEPT).delete()
    return deleted


__all__ = [
    "FEED",
    "person_copy_facts",
    "person_copy_purge",
    "person_copy_write",
    "person_events_read",
]
