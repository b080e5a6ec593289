"""Scheduled register work: the daily open data files and the hourly change feed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.utils.module_loading import import_string

from registry.clients.http import setting
from registry.facts import RegisterUnavailable
from registry.feed import FEEDS, change_feed_read
from registry.open_data import (
    OPEN_DATA_REGISTERS,
    OpenDataUnavailable,
    open_data_load,
    open_data_url,
)

logger = logging.getLogger(__name__)


@shared_task(name="registry.load_open_data")
def load_open_data() -> None:
    """Daily: load every configured register file, each in a task of its own."""
    for register in OPEN_DATA_REGISTERS:
        if not open_data_url(register):
            logger.info("%s: no download address configured, skipped", register)
            continue
        load_open_data_file.delay(register=register)


@shared_task(
    name="registry.load_open_data_file",
    autoretry_for=(OpenDataUnavailable,),
    retry_backoff=300,
    max_retries=3,
)
def load_open_data_file(*, register: str) -> int:
    """Load one register file; a failed download is tried again, a refused file is not."""
    return open_data_load(register=register).entries


def _changed_organisations_handler() -> Callable[[list[str]], object] | None:
    path = setting("REGISTRY_CHANGED_ORGANISATIONS_HANDLER", None)
    return import_string(path) if path else None


@shared_task(
    name="registry.read_change_feed",
    autoretry_for=(RegisterUnavailable,),
    retry_backoff=120,
    max_retries=2,
)
def read_change_feed() -> list[str]:
    """Hourly: read Enhetsregisteret's change feeds and hand the changed units on."""
    if settings.REGISTRY_BACKEND != "http":
        # The embedded registry does not follow Enhetsregisteret; there is nothing to read.
        return []
    handler = _changed_organisations_handler()
    changed: list[str] = []
    for feed in FEEDS:
        orgnrs = change_feed_read(feed=feed)
        # Handed on per feed: once a feed's cursor has moved, its changes must not be lost
        # to a failure in the next feed.
        if orgnrs and handler is not None:
            handler(orgnrs)
        changed.extend(orgnrs)
    return sorted(set(changed))
