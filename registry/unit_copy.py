"""hmsportal's local copy of Enhetsregisteret: the nightly bulk files, loaded into UnitCopy.

Each file (main units, sub-units) is downloaded to a temporary file first (size limit, sha256;
a download cut short fails there), then parsed as a stream with ijson, unit by unit, and
upserted in batches, all in one transaction: a file that turns out truncated or unreadable
halfway rolls back, and yesterday's rows stay (DOMAIN.md rule 2 depends on them). Rows the new
file no longer lists are removed in the same transaction.

The hourly change feed (registry/feed.py) marks changed units stale; registry/clients/
brreg_copy.py asks the API about stale and missing units and writes the answers back here.
"""

from __future__ import annotations

import datetime
import gzip
import io
import logging
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

import ijson
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from registry.clients.brreg import BULK_FILES, unit_facts
from registry.clients.http import setting
from registry.facts import OrganisationFacts, RegisterUnavailable
from registry.identifiers import is_valid_orgnr
from registry.models import ChangeFeedCursor, RegisterFileLoad, UnitCopy
from registry.open_data import (
    OpenDataError,
    OpenDataRejected,
    OpenDataUnavailable,
    file_download,
    file_load_plausible_check,
    unreadable_check,
)

logger = logging.getLogger(__name__)

# The bulk files by kind; the kinds are the change feeds' names too (registry/feed.py).
UNIT_COPY_KINDS = tuple(BULK_FILES)
# RegisterFileLoad.register of each file (unit_copy_current builds the same in SQL).
FILE_REGISTERS = {kind: f"enhetsregisteret_{kind}" for kind in UNIT_COPY_KINDS}

# The bulk files are produced once a night, so a file can be up to a day old when it is
# loaded: the change feed must reach back at least that far for the copy to be complete.
BULK_FILE_MAX_AGE = datetime.timedelta(hours=24)
_GZIP_MAGIC = b"\x1f\x8b"
_READ_BYTES = 64 * 1024
# What a bulk file's row (re)writes: every field but the key and the change feed's mark (a
# unit the feed marked stays marked until the API is asked about it).
_UPDATED_FIELDS = [
    field.name
    for field in UnitCopy._meta.concrete_fields
    if not field.primary_key and field.name != "stale_since"
]


def bulk_file_url(kind: str) -> str:
    base = str(setting("ENHETSREGISTERET_URL", "https://data.brreg.no/enhetsregisteret/api"))
    return base.rstrip("/") + BULK_FILES[kind][0]


def units_read(
    stream: IO[bytes] | io.IOBase, *, sub_unit: bool
) -> Iterator[OrganisationFacts | None]:
    """The units of a bulk file's JSON array, one at a time (None for an unreadable item).

    ijson reads the stream in small pieces as the items are taken: the file is never held
    whole in memory.
    """
    for item in ijson.items(stream, "item", buf_size=_READ_BYTES):
        try:
            unit = unit_facts(item, sub_unit=sub_unit)
        except RegisterUnavailable:
            yield None
            continue
        yield unit if is_valid_orgnr(unit.orgnr) and len(unit.orgnr) == 9 else None


def _open(path: Path) -> io.BufferedIOBase:
    with path.open("rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else path.open("rb")


def _row(unit: OrganisationFacts, *, sub_unit: bool, at: datetime.datetime) -> UnitCopy:
    return UnitCopy(
        orgnr=unit.orgnr,
        sub_unit=sub_unit,
        parent_orgnr=unit.parent_orgnr or "",
        name=unit.name[:300],
        form=unit.form[:10],
        registered_on=unit.registered_on,
        deleted_on=unit.deleted_on,
        bankrupt=unit.bankrupt,
        under_liquidation=unit.under_liquidation,
        under_forced_dissolution=unit.under_forced_dissolution,
        vat_registered=unit.vat_registered,
        industry_code=unit.industry_code[:10],
        street=unit.street[:300],
        postcode=unit.postcode[:10],
        city=unit.city[:100],
        written_at=at,
    )


def _upsert(rows: list[UnitCopy]) -> None:
    UnitCopy.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["orgnr"], update_fields=_UPDATED_FIELDS
    )


def unit_copy_load(*, kind: str) -> RegisterFileLoad:
    """Download one bulk file and load it into the copy; the old rows stay on any failure."""
    if kind not in BULK_FILES:
        raise ValueError(f"Unknown bulk file {kind!r}")
    register = FILE_REGISTERS[kind]
    url = bulk_file_url(kind)
    max_bytes = int(setting("ENHETSREGISTERET_BULK_MAX_BYTES", 2 * 1024 * 1024 * 1024))
    try:
        with tempfile.TemporaryDirectory(prefix="hmsportal-enhetsregisteret-") as folder:
            path = Path(folder) / "bulk-file"
            sha256 = file_download(
                register, url, path, max_bytes=max_bytes, headers={"Accept": BULK_FILES[kind][1]}
            )
            load = _file_load(kind=kind, path=path, url=url, sha256=sha256)
    except OpenDataError as error:
        logger.error("%s not loaded, keeping the previous copy: %s", register, error.reason)
        raise
    logger.info("%s loaded: %d units from %s", register, load.entries, url)
    return load


@transaction.atomic
def _file_load(*, kind: str, path: Path, url: str, sha256: str) -> RegisterFileLoad:
    register = FILE_REGISTERS[kind]
    sub_unit = kind == "underenheter"
    batch_size = int(setting("ENHETSREGISTERET_COPY_BATCH_SIZE", 2000))
    started = timezone.now()
    seen = unreadable = loaded = 0
    batch: dict[str, UnitCopy] = {}
    try:
        with _open(path) as stream:
            for unit in units_read(stream, sub_unit=sub_unit):
                seen += 1
                if unit is None:
                    unreadable += 1
                    continue
                batch[unit.orgnr] = _row(unit, sub_unit=sub_unit, at=started)
                if len(batch) >= batch_size:
                    _upsert(list(batch.values()))
                    loaded += len(batch)
                    batch = {}
    except (ijson.JSONError, EOFError, OSError, zlib.error, UnicodeDecodeError) as error:
        # A gzip stream or JSON array that ends early: a truncated file. The transaction rolls
        # back what was upserted so far.
        raise OpenDataRejected(
            register, f"unreadable after {seen} units ({type(error).__name__}): {error}"
        ) from error
    if batch:
        _upsert(list(batch.values()))
        loaded += len(batch)
    unreadable_check(register, seen, unreadable, [])
    file_load_plausible_check(register, loaded)
    # What the new file no longer lists has left the register (rows the API wrote during the
    # load are newer than `started` and stay).
    UnitCopy.objects.filter(sub_unit=sub_unit, written_at__lt=started).delete()
    load = RegisterFileLoad(register=register, source_url=url[:500], entries=loaded, sha256=sha256)
    load.full_clean()
    load.save()
    return load


def unit_copy_load_all() -> list[RegisterFileLoad]:
    """Load both bulk files (main units first: sub-units name them)."""
    return [unit_copy_load(kind=kind) for kind in UNIT_COPY_KINDS]


def unit_copy_current(*, now: datetime.datetime | None = None) -> bool:
    """Whether the copy may answer organisation lookups instead of the API.

    It may when every bulk file was loaded within ENHETSREGISTERET_COPY_MAX_AGE_HOURS (0 turns
    the copy off) and every change feed was read within ENHETSREGISTERET_FEED_MAX_AGE_HOURS,
    starting from before the file was produced: the feed is what marks the units that changed
    since the file, so without it the copy could be a day behind.
    """
    max_age_hours = float(setting("ENHETSREGISTERET_COPY_MAX_AGE_HOURS", 36))
    feed_max_age = datetime.timedelta(
        hours=float(setting("ENHETSREGISTERET_FEED_MAX_AGE_HOURS", 3))
    )
    if max_age_hours <= 0:
        return False
    now = now or timezone.now()
    # One query (business_register() asks this on every call): each feed's cursor with its
    # bulk file's latest load.
    latest_load = RegisterFileLoad.objects.filter(
        register=Concat(Value("enhetsregisteret_"), OuterRef("feed"), output_field=CharField())
    ).order_by("-loaded_at", "-pk")
    rows = {
        row["feed"]: row
        for row in ChangeFeedCursor.objects.filter(feed__in=UNIT_COPY_KINDS)
        .annotate(loaded_at=Subquery(latest_load.values("loaded_at")[:1]))
        .values("feed", "read_at", "started_from", "loaded_at")
    }
    for kind in UNIT_COPY_KINDS:
        row = rows.get(kind)
        if row is None or row["read_at"] < now - feed_max_age:
            return False
        loaded_at = row["loaded_at"]
        if loaded_at is None or loaded_at < now - datetime.timedelta(hours=max_age_hours):
            return False
        if row["started_from"] > loaded_at - BULK_FILE_MAX_AGE:
            return False
    return True


def unit_copy_facts(*, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
    """The units the copy knows and the change feed has not marked as changed since."""
    rows = UnitCopy.objects.filter(orgnr__in=set(orgnrs), stale_since__isnull=True)
    return {row.orgnr: _facts(row) for row in rows}


def _facts(row: UnitCopy) -> OrganisationFacts:
    return OrganisationFacts(
        orgnr=row.orgnr,
        name=row.name,
        form=row.form,
        parent_orgnr=row.parent_orgnr or None,
        registered_on=row.registered_on,
        deleted_on=row.deleted_on,
        bankrupt=row.bankrupt,
        under_liquidation=row.under_liquidation,
        under_forced_dissolution=row.under_forced_dissolution,
        vat_registered=row.vat_registered,
        industry_code=row.industry_code,
        street=row.street,
        postcode=row.postcode,
        city=row.city,
    )


def unit_copy_mark_stale(*, orgnrs: Iterable[str]) -> int:
    """The change feed says these units changed: the copy's rows must not answer until the API
    has been asked again. Returns how many rows were marked.

    Marking rather than fetching every changed unit: the feed carries thousands of changes a
    day, almost all about units hmsportal never asks about, and the organisations-changed
    handler re-checks the ones that have cards at once, which refreshes their rows.
    """
    wanted = set(orgnrs)
    if not wanted:
        return 0
    return UnitCopy.objects.filter(orgnr__in=wanted, stale_since__isnull=True).update(
        stale_since=timezone.now()
    )


@transaction.atomic
def unit_copy_write(
    *, units: Mapping[str, OrganisationFacts | None], asked_at: datetime.datetime
) -> None:
    """Write what the API answered at asked_at into the copy (None: the register does not
    know the unit)."""
    now = timezone.now()
    gone = [orgnr for orgnr, unit in units.items() if unit is None]
    if gone:
        UnitCopy.objects.filter(orgnr__in=gone).delete()
    rows = [
        _row(unit, sub_unit=unit.parent_orgnr is not None, at=now)
        for unit in units.values()
        if unit is not None
    ]
    if rows:
        _upsert(rows)
        # A change the feed marked before the question was asked is in the answer; one marked
        # later may be newer than the answer and keeps the row marked (as person_copy_write).
        UnitCopy.objects.filter(
            orgnr__in=[row.orgnr for row in rows], stale_since__lt=asked_at
        ).update(stale_since=None)


__all__ = [
    "FILE_REGISTERS",
    "UNIT_COPY_KINDS",
    "OpenDataRejected",
    "OpenDataUnavailable",
    "unit_copy_current",
    "unit_copy_facts",
    "unit_copy_load",
    "unit_copy_load_all",
    "unit_copy_mark_stale",
    "unit_copy_write",
    "units_read",
]
