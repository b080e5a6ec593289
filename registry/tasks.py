"""Scheduled register work: the daily open data files, Enhetsregisteret's nightly bulk files
and its hourly change feed."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from registry.facts import RegisterUnavailable
from registry.feed import change_feeds_read
from registry.open_data import (
    OPEN_DATA_REGISTERS,
    OpenDataUnavailable,
    open_data_load,
    open_data_url,
)
from registry.person_copy import person_copy_purge, person_events_read
from registry.unit_copy import UNIT_COPY_KINDS, unit_copy_load

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


@shared_task(
    name="registry.read_change_feed",
    autoretry_for=(RegisterUnavailable,),
    retry_backoff=120,
    max_retries=2,
)
def read_change_feed() -> list[str]:
    """Hourly: read Enhetsregisteret's change feeds and hand the changed units on."""
    return change_feeds_read()


@shared_task(name="registry.load_enhetsregisteret")
def load_enhetsregisteret() -> None:
    """Nightly: load Enhetsregisteret's bulk files into the local copy (the http setup only)."""
    if settings.REGISTRY_BACKEND != "http":
        logger.info("enhetsregisteret: the embedded registry has no copy to load, skipped")
        return
    # Each file in a task of its own: a failed download is retried without the other.
    for kind in UNIT_COPY_KINDS:
        load_enhetsregisteret_file.delay(kind=kind)


@shared_task(
    name="registry.load_enhetsregisteret_file",
    autoretry_for=(OpenDataUnavailable,),
    retry_backoff=600,
    max_retries=3,
)
def load_enhetsregisteret_file(*, kind: str) -> int:
    """Load one bulk file; a failed download is tried again, a refused file is not."""
    return unit_copy_load(kind=kind).entries


@shared_task(
    name="registry.read_person_events",
    autoretry_for=(RegisterUnavailable,),
    retry_backoff=120,
    max_retries=2,
)
def read_person_events() -> int:
    """Hourly: read Folkeregisteret's event feed and mark the persons it concerns."""
    person_copy_purge(now=timezone.now())
    return len(person_events_read())
