"""Arbeidstilsynet's open data files: Renholdsregisteret (XML) and Bemanningsforetaksregisteret
(JSON), downloaded daily into CleaningApproval and StaffingApproval.

A file is downloaded to a temporary file (with a size limit), parsed and checked in full
before the table is touched: a failed, truncated or implausibly short download keeps
yesterday's rows, because the cards of every cleaning and staffing business depend on them
(DOMAIN.md rules 5 and 6). The table is then replaced in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from django.db import models, transaction

from registry.clients.http import setting
from registry.identifiers import is_valid_orgnr
from registry.models import CleaningApproval, RegisterFileLoad, StaffingApproval

logger = logging.getLogger(__name__)

RENHOLDSREGISTERET = "renholdsregisteret"
BEMANNINGSFORETAKSREGISTERET = "bemanningsforetaksregisteret"
OPEN_DATA_REGISTERS = (RENHOLDSREGISTERET, BEMANNINGSFORETAKSREGISTERET)

# A new file with fewer entries than this share of the previous load is taken to be a broken
# export or download: the registers do not lose half their firms overnight.
MIN_SHARE_OF_PREVIOUS = 0.5
# Entries that cannot be read (bad organisation number, unknown status) are skipped; more than
# this share of them means the format has changed and the file is refused as a whole.
MAX_SHARE_UNREADABLE = 0.05
_CHUNK_BYTES = 64 * 1024


class OpenDataError(Exception):
    """A register file could not be loaded; the previous rows are kept."""

    def __init__(self, register: str, reason: str) -> None:
        super().__init__(f"{register}: {reason}")
        self.register = register
        self.reason = reason


class OpenDataUnavailable(OpenDataError):
    """The download failed (worth trying again later)."""


class OpenDataRejected(OpenDataError):
    """The file was downloaded but is not a plausible copy of the register."""


# --- Unconfirmed (REGISTERS.md): Renholdsregisteret's XML and status strings. --------------
# Element names as public client code reads the file (ArrayOfRenholdsvirksomhet /
# Renholdsvirksomhet / Organisasjonsnummer, Navn, Status), matched case-insensitively and
# without namespace. Statuses are matched case-insensitively with hyphens read as spaces.
CLEANING_ENTRY_ELEMENT = "renholdsvirksomhet"
CLEANING_ORGNR_ELEMENT = "organisasjonsnummer"
CLEANING_NAME_ELEMENT = "navn"
CLEANING_STATUS_ELEMENT = "status"
CLEANING_STATUSES = {
    "godkjent med ansatte": CleaningApproval.Status.APPROVED_WITH_EMPLOYEES,
    "godkjent uten ansatte": CleaningApproval.Status.APPROVED_WITHOUT_EMPLOYEES,
    "søknad under behandling": CleaningApproval.Status.APPLICATION_PENDING,
    "hms kortbestilling under behandling": CleaningApproval.Status.CARD_ORDER_PENDING,
    "hms kort bestilling under behandling": CleaningApproval.Status.CARD_ORDER_PENDING,
    "ikke godkjent": CleaningApproval.Status.NOT_APPROVED,
}


def cleaning_status(text: str) -> CleaningApproval.Status | None:
    return CLEANING_STATUSES.get(" ".join(text.replace("-", " ").casefold().split()))


# --- Unconfirmed (REGISTERS.md): Bemanningsforetaksregisteret's status values. -------------
# Seen: registerstatus 1 "Godkjent", 2 "Ikke godkjent"; others are read as not approved.
def staffing_approved(entry: dict[str, Any]) -> bool:
    status = entry.get("registerstatus")
    if status is not None:
        return status == 1
    return str(entry.get("godkjenningsstatus") or "").strip().casefold() == "godkjent"


# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    url_setting: str
    default_url: str
    model: type[models.Model]
    parse: Callable[[Path], list[Any]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].casefold()


def _parse_cleaning(path: Path) -> list[CleaningApproval]:
    # The standard library parser is safe enough for this file: expat 2.4.1 and later (Python
    # 3.11 ships 2.5) caps entity expansion, and ElementTree never fetches external entities.
    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except ET.ParseError as error:
        raise OpenDataRejected(RENHOLDSREGISTERET, f"not well-formed XML: {error}") from error
    entries: dict[str, CleaningApproval] = {}
    seen = unreadable = 0
    unknown_statuses: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str) or _local(element.tag) != CLEANING_ENTRY_ELEMENT:
            continue
        seen += 1
        # Direct children only: sub-units (Underavdelinger) carry organisation numbers too.
        fields = {_local(child.tag): (child.text or "").strip() for child in element}
        orgnr = fields.get(CLEANING_ORGNR_ELEMENT, "")
        status = cleaning_status(fields.get(CLEANING_STATUS_ELEMENT, ""))
        if status is None:
            unknown_statuses.add(fields.get(CLEANING_STATUS_ELEMENT, ""))
        if not is_valid_orgnr(orgnr) or len(orgnr) != 9 or status is None:
            unreadable += 1
            continue
        name = fields.get(CLEANING_NAME_ELEMENT, "")[:300]
        entries[orgnr] = CleaningApproval(orgnr=orgnr, name=name, status=status)
    unreadable_check(RENHOLDSREGISTERET, seen, unreadable, sorted(unknown_statuses)[:5])
    return list(entries.values())


def _parse_staffing(path: Path) -> list[StaffingApproval]:
    try:
        with path.open(encoding="utf-8-sig") as file:
            document = json.load(file)
    except (ValueError, UnicodeDecodeError) as error:
        raise OpenDataRejected(BEMANNINGSFORETAKSREGISTERET, f"not JSON: {error}") from error
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise OpenDataRejected(BEMANNINGSFORETAKSREGISTERET, 'no "data" list in the file')
    entries: dict[str, StaffingApproval] = {}
    seen = unreadable = 0
    # Sub-units are rows of their own: an employer may be named by a sub-unit's number.
    rows: list[Any] = []
    for entry in data:
        rows.append(entry)
        if isinstance(entry, dict) and isinstance(entry.get("underenheter"), list):
            rows.extend(entry["underenheter"])
    for row in rows:
        seen += 1
        orgnr = str(row.get("organisasjonsnummer") or "") if isinstance(row, dict) else ""
        if not isinstance(row, dict) or not is_valid_orgnr(orgnr) or len(orgnr) != 9:
            unreadable += 1
            continue
        entries.setdefault(
            orgnr,
            StaffingApproval(
                orgnr=orgnr,
                name=str(row.get("navn") or "")[:300],
                approved=staffing_approved(row),
                status_text=str(
                    row.get("registerstatusTekst") or row.get("godkjenningsstatus") or ""
                )[:100],
            ),
        )
    unreadable_check(BEMANNINGSFORETAKSREGISTERET, seen, unreadable, [])
    return list(entries.values())


def unreadable_check(register: str, seen: int, unreadable: int, examples: list[str]) -> None:
    if seen == 0:
        raise OpenDataRejected(register, "the file has no entries")
    if unreadable > seen * MAX_SHARE_UNREADABLE:
        raise OpenDataRejected(
            register,
            f"{unreadable} of {seen} entries could not be read"
            + (f" (statuses such as {examples!r})" if examples else ""),
        )
    if unreadable:
        logger.warning("%s: skipped %d of %d unreadable entries", register, unreadable, seen)


SOURCES: dict[str, _Source] = {
    RENHOLDSREGISTERET: _Source(
        url_setting="RENHOLDSREGISTERET_URL",
        default_url="https://www.arbeidstilsynet.no/opendata/renhold.xml",
        model=CleaningApproval,
        parse=_parse_cleaning,
    ),
    BEMANNINGSFORETAKSREGISTERET: _Source(
        url_setting="BEMANNINGSFORETAKSREGISTERET_URL",
        default_url="",
        model=StaffingApproval,
        parse=_parse_staffing,
    ),
}


def open_data_url(register: str) -> str:
    """The configured download address; "" when the register is not configured."""
    source = SOURCES[register]
    return str(setting(source.url_setting, source.default_url))


def file_download(
    register: str,
    url: str,
    target: Path,
    *,
    max_bytes: int | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """Stream the file to target within the size limit; return its sha256."""
    if max_bytes is None:
        max_bytes = int(setting("OPEN_DATA_MAX_BYTES", 200 * 1024 * 1024))
    timeout = float(setting("OPEN_DATA_TIMEOUT_SECONDS", 60.0))
    digest = hashlib.sha256()
    size = 0
    try:
        with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
            if response.status_code != 200:
                raise OpenDataUnavailable(register, f"HTTP {response.status_code} from {url}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise OpenDataRejected(register, f"{declared} bytes is over the limit")
            with target.open("wb") as file:
                for chunk in response.iter_content(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise OpenDataRejected(register, f"over the limit of {max_bytes} bytes")
                    digest.update(chunk)
                    file.write(chunk)
    except requests.RequestException as error:
        # Includes a body cut short of its Content-Length (a truncated download).
        raise OpenDataUnavailable(
            register, f"download failed ({type(error).__name__}): {error}"
        ) from error
    return digest.hexdigest()


def open_data_load(*, register: str) -> RegisterFileLoad:
    """Download, check and load one register's open data file; the old rows stay on failure."""
    if register not in SOURCES:
        raise ValueError(f"Unknown open data register {register!r}")
    source = SOURCES[register]
    url = open_data_url(register)
    try:
        if not url:
            raise OpenDataUnavailable(register, f"{source.url_setting} is not configured")
        with tempfile.TemporaryDirectory(prefix="hmsportal-open-data-") as folder:
            path = Path(folder) / "register-file"
            sha256 = file_download(register, url, path)
            rows = source.parse(path)
        file_load_plausible_check(register, len(rows))
        load = _table_replace(register=register, url=url, rows=rows, sha256=sha256)
    except OpenDataError as error:
        logger.error("%s not loaded, keeping the previous copy: %s", register, error.reason)
        raise
    logger.info("%s loaded: %d entries from %s", register, load.entries, url)
    return load


def file_load_plausible_check(register: str, entries: int) -> None:
    """Refuse a file with far fewer entries than the previous load (a broken export)."""
    previous = (
        RegisterFileLoad.objects.filter(register=register).order_by("-loaded_at", "-pk").first()
    )
    if previous is not None and entries < previous.entries * MIN_SHARE_OF_PREVIOUS:
        raise OpenDataRejected(
            register,
            f"{entries} entries against {previous.entries} in the previous load "
            "(truncated export?)",
        )


@transaction.atomic
def _table_replace(*, register: str, url: str, rows: list[Any], sha256: str) -> RegisterFileLoad:
    model = SOURCES[register].model
    model._default_manager.all().delete()
    model._default_manager.bulk_create(rows, batch_size=2000)
    load = RegisterFileLoad(
        register=register, source_url=url[:500], entries=len(rows), sha256=sha256
    )
    load.full_clean()
    load.save()
    return load


__all__ = [
    "OPEN_DATA_REGISTERS",
    "OpenDataError",
    "OpenDataRejected",
    "OpenDataUnavailable",
    "cleaning_status",
    "file_download",
    "file_load_plausible_check",
    "open_data_load",
    "open_data_url",
    "staffing_approved",
    "unreadable_check",
]
