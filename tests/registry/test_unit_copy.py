"""Enhetsregisteret's bulk files, streamed into the local copy from a local server."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from registry.models import RegisterFileLoad, UnitCopy
from registry.open_data import OpenDataRejected, OpenDataUnavailable
from registry.tasks import load_enhetsregisteret
from registry.unit_copy import (
    unit_copy_load,
    unit_copy_load_all,
    units_read,
)
from tests.registry.conftest import ACCEPT_ENHET_GZIP, BULK_MAIN_UNITS
from tests.registry.servers import Reply, bulk_file, enhet, gzip_reply, orgnr

pytestmark = pytest.mark.django_db


def test_both_files_load_into_the_copy(bulk_files):
    loads = unit_copy_load_all()

    assert [(load.register, load.entries) for load in loads] == [
        ("enhetsregisteret_enheter", 10),
        ("enhetsregisteret_underenheter", 4),
    ]
    assert UnitCopy.objects.filter(sub_unit=False).count() == 10
    branch = UnitCopy.objects.get(orgnr=orgnr(100))
    # The API adapter's mapping: the sub-unit's address and its main unit.
    assert (branch.sub_unit, branch.parent_orgnr, branch.street, branch.city) == (
        True,
        orgnr(0),
        "Bryggen 3",
        "BERGEN",
    )
    main = UnitCopy.objects.get(orgnr=orgnr(3))
    assert (main.name, main.form, main.street, main.vat_registered) == (
        "FIRMA 3 AS",
        "AS",
        "Storgata 1, 2. etasje",
        True,
    )


def test_a_new_file_updates_changed_units_and_drops_the_ones_it_no_longer_lists(bulk_files):
    unit_copy_load(kind="enheter")
    changed = [enhet(orgnr(i), f"FIRMA {i} AS", konkurs=(i == 2)) for i in range(1, 10)]
    bulk_files.add("/enheter/lastned", gzip_reply(changed), accept=ACCEPT_ENHET_GZIP)

    unit_copy_load(kind="enheter")

    assert not UnitCopy.objects.filter(orgnr=orgnr(0)).exists()
    assert UnitCopy.objects.get(orgnr=orgnr(2)).bankrupt is True
    assert UnitCopy.objects.count() == 9


def test_a_body_sent_decompressed_loads_too(bulk_files):
    bulk_files.add(
        "/enheter/lastned",
        Reply(200, json.dumps(BULK_MAIN_UNITS).encode()),
        accept=ACCEPT_ENHET_GZIP,
    )

    assert unit_copy_load(kind="enheter").entries == 10


def _unchanged(names: dict[str, str]) -> None:
    assert dict(UnitCopy.objects.values_list("orgnr", "name")) == names
    assert RegisterFileLoad.objects.count() == 1


@pytest.fixture
def loaded(bulk_files) -> dict[str, str]:
    unit_copy_load(kind="enheter")
    return dict(UnitCopy.objects.values_list("orgnr", "name"))


def renamed(count: int) -> list[dict[str, Any]]:
    return [enhet(orgnr(i), f"NYTT NAVN {i} AS") for i in range(count)]


def test_a_download_cut_short_keeps_the_previous_rows(bulk_files, loaded):
    document = bulk_file(renamed(12))
    bulk_files.add(
        "/enheter/lastned",
        Reply(200, document, truncate_to=len(document) // 2),
        accept=ACCEPT_ENHET_GZIP,
    )

    with pytest.raises(OpenDataUnavailable, match="download failed"):
        unit_copy_load(kind="enheter")

    _unchanged(loaded)


def test_a_file_truncated_at_the_source_keeps_the_previous_rows(bulk_files, loaded):
    # Complete as HTTP goes (its Content-Length matches), but the gzip stream ends early:
    # several batches were upserted before the parser found out, and they are rolled back.
    document = bulk_file(renamed(12))
    bulk_files.add(
        "/enheter/lastned",
        Reply(200, document[:-30], content_type="application/octet-stream"),
        accept=ACCEPT_ENHET_GZIP,
    )

    with pytest.raises(OpenDataRejected, match="unreadable after"):
        unit_copy_load(kind="enheter")

    _unchanged(loaded)


def test_far_fewer_units_than_last_time_keeps_the_previous_rows(bulk_files, loaded):
    bulk_files.add("/enheter/lastned", gzip_reply(renamed(3)), accept=ACCEPT_ENHET_GZIP)

    with pytest.raises(OpenDataRejected, match="3 entries against 10"):
        unit_copy_load(kind="enheter")

    _unchanged(loaded)


def test_a_file_of_items_that_are_not_units_is_refused(bulk_files, loaded):
    bulk_files.add("/enheter/lastned", gzip_reply([{"navn": "X"}] * 20), accept=ACCEPT_ENHET_GZIP)

    with pytest.raises(OpenDataRejected, match="20 of 20 entries could not be read"):
        unit_copy_load(kind="enheter")

    _unchanged(loaded)


class CountingReader(io.RawIOBase):
    """A binary stream that records how much was asked of it, and in what pieces."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self.stream = stream
        self.consumed = 0
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        piece = self.stream.read(size)
        self.consumed += len(piece)
        self.largest_read = max(self.largest_read, len(piece))
        return piece

    def readinto(self, buffer: Any) -> int:
        piece = self.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)


def test_the_parser_is_fed_a_large_file_piece_by_piece():
    units = [enhet(orgnr(i), f"FIRMA {i} AS") for i in range(20_000)]
    document = json.dumps(units).encode()
    reader = CountingReader(gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(document))))

    parsed = units_read(reader, sub_unit=False)
    first = next(parsed)

    assert first is not None and first.orgnr == orgnr(0)
    # The first unit came out after reading a few pieces of the file, not all of it.
    assert reader.consumed < len(document) / 20
    rest = sum(1 for _ in parsed)
    assert rest == 19_999
    assert reader.consumed == len(document)
    assert reader.largest_read <= 64 * 1024


def test_the_management_command_and_the_task_load_both_files(bulk_files):
    call_command("load_enhetsregisteret", stdout=io.StringIO())
    load_enhetsregisteret()

    assert list(RegisterFileLoad.objects.order_by("pk").values_list("register", flat=True)) == [
        "enhetsregisteret_enheter",
        "enhetsregisteret_underenheter",
        "enhetsregisteret_enheter",
        "enhetsregisteret_underenheter",
    ]


def test_the_task_loads_nothing_in_the_embedded_setup(bulk_files, settings):
    settings.REGISTRY_BACKEND = "embedded"

    load_enhetsregisteret()

    assert not bulk_files.hits("/enheter/lastned")
