"""Enhetsregisteret's change feeds: which units changed since the last read.

REGISTERS.md: `GET /oppdateringer/enheter?oppdateringsid=N&size=…` returns the changes with
oppdateringsid ≥ N; ids are sparse, so the feed is paged by the last id seen (not by page
links), and `_embedded` is absent when there is nothing new.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from registry.clients.brreg import REGISTER, organisation_cache_forget
from registry.clients.http import RegisterClient, setting
from registry.facts import RegisterUnavailable
from registry.models import ChangeFeedCursor
from registry.unit_copy import unit_copy_mark_stale

logger = logging.getLogger(__name__)

# The first read of a feed starts one hour back rather than at the feed's beginning (years
# of changes): every card was checked against the register when it was ordered and the
# nightly recheck covers the rest, so the feed only has to catch what changes between runs,
# and the task runs hourly.
FIRST_READ_LOOKBACK = datetime.timedelta(hours=1)

# --- Unconfirmed (REGISTERS.md): the sub-unit feed's list key. ----------------------------
FEEDS: dict[str, tuple[str, str]] = {
    "enheter": ("/oppdateringer/enheter", "oppdaterteEnheter"),
    "underenheter": ("/oppdateringer/underenheter", "oppdaterteUnderenheter"),
}
# ------------------------------------------------------------------------------------------


def _dato(moment: datetime.datetime) -> str:
    """The feed's date format: UTC with milliseconds, 2026-01-01T00:00:00.000Z."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _updates(body: Any, list_key: str) -> list[tuple[int, str]]:
    if not isinstance(body, dict):
        raise RegisterUnavailable(REGISTER, "the change feed did not answer with an object")
    embedded = body.get("_embedded")
    if embedded is None:
        return []  # nothing new
    items = embedded.get(list_key) if isinstance(embedded, dict) else None
    if not isinstance(items, list):
        raise RegisterUnavailable(REGISTER, f"the change feed has no {list_key} list")
    updates = []
    for item in items:
        update_id = item.get("oppdateringsid") if isinstance(item, dict) else None
        orgnr = item.get("organisasjonsnummer") if isinstance(item, dict) else None
        if not isinstance(update_id, int) or not isinstance(orgnr, str):
            raise RegisterUnavailable(REGISTER, "a change without oppdateringsid or orgnr")
        updates.append((update_id, orgnr))
    return updates


def change_feed_read(*, feed: str = "enheter") -> list[str]:
    """Read the feed from the stored cursor on; return the changed organisation numbers.

    Every endringstype counts (Ny, Endring, Sletting, Fjernet, Ukjent): the cards of a unit
    that changed in any way are checked again. The cursor is stored only after the pages were
    read, so a failed read is read again next time.
    """
    path, list_key = FEEDS[feed]
    page_size = int(setting("CHANGE_FEED_PAGE_SIZE", 1000))
    max_pages = int(setting("CHANGE_FEED_MAX_PAGES", 50))
    cursor = ChangeFeedCursor.objects.filter(feed=feed).first()
    started_from = cursor.started_from if cursor else timezone.now() - FIRST_READ_LOOKBACK
    last_id = cursor.last_update_id if cursor else None

    client = RegisterClient(
        register=REGISTER,
        base_url=str(setting("ENHETSREGISTERET_URL", "https://data.brreg.no/enhetsregisteret/api")),
    )
    changed: set[str] = set()
    for _ in range(max_pages):
        params: dict[str, str | int] = {"size": page_size}
        if last_id is None:
            params["dato"] = _dato(started_from)
        else:
            params["oppdateringsid"] = last_id + 1
        answer = client.get_json(path, params=params, cache=False)
        updates = _updates(answer.body, list_key)
        if not updates:
            break
        highest = max(update_id for update_id, _ in updates)
        changed.update(orgnr for _, orgnr in updates)
        if last_id is not None and highest <= last_id:
            break  # the feed went backwards; stop rather than loop
        last_id = highest
        if len(updates) < page_size:
            break
    else:
        logger.warning("%s feed: stopped after %d pages, continuing next run", feed, max_pages)

    change_feed_cursor_store(feed=feed, last_update_id=last_id, started_from=started_from)
    # Cached answers and the local copy's rows about changed units are stale now; the
    # re-check must ask again.
    organisation_cache_forget(changed)
    unit_copy_mark_stale(orgnrs=changed)
    return sorted(changed)


@transaction.atomic
def change_feed_cursor_store(
    *, feed: str, last_update_id: int | None, started_from: datetime.datetime
) -> ChangeFeedCursor:
    """Remember how far the feed has been read."""
    cursor, _ = ChangeFeedCursor.objects.select_for_update().get_or_create(
        feed=feed, defaults={"started_from": started_from, "last_update_id": last_update_id}
    )
    cursor.last_update_id = last_update_id
    cursor.full_clean()
    cursor.save(update_fields=["last_update_id", "read_at"])
    return cursor


def change_feeds_read() -> list[str]:
    """Read every change feed and hand the changed units to the configured handler.

    The handler (REGISTRY_CHANGED_ORGANISATIONS_HANDLER, a dotted path) is how the cards get
    re-checked without the registry knowing about cards.
    """
    if settings.REGISTRY_BACKEND != "http":
        # The embedded registry does not follow Enhetsregisteret; there is nothing to read.
        return []
    path = setting("REGISTRY_CHANGED_ORGANISATIONS_HANDLER", None)
    handler: Callable[[list[str]], object] | None = import_string(path) if path else None
    changed: list[str] = []
    for feed in FEEDS:
        orgnrs = change_feed_read(feed=feed)
        # Handed on per feed: once a feed's cursor has moved, its changes must not be lost
        # to a failure in the next feed.
        if orgnrs and handler is not None:
            handler(orgnrs)
        changed.extend(orgnrs)
    return sorted(set(changed))
