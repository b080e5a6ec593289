"""Renholdsregisteret and Bemanningsforetaksregisteret files, downloaded from a local server."""

from __future__ import annotations

import hashlib
import json

import pytest

from registry.models import CleaningApproval, RegisterFileLoad, StaffingApproval
from registry.open_data import OpenDataRejected, OpenDataUnavailable, open_data_load
from registry.tasks import load_open_data
from tests.registry.servers import Reply, orgnr

pytestmark = pytest.mark.django_db

STATUSES = [
    "Godkjent med ansatte",
    "GODKJENT UTEN ANSATTE",
    "Søknad under behandling",
    "HMS-kortbestilling under behandling",
    "Ikke godkjent",
]


def renhold_xml(entries: list[tuple[str, str]], *, sub_unit_of_first: str | None = None) -> bytes:
    items = []
    for index, (number, status) in enumerate(entries):
        sub_units = ""
        if index == 0 and sub_unit_of_first:
            sub_units = (
                "<Underavdelinger><Avdeling>"
                f"<Organisasjonsnummer>{sub_unit_of_first}</Organisasjonsnummer>"
                "</Avdeling></Underavdelinger>"
            )
        items.append(
            "<Renholdsvirksomhet>"
            f"<Organisasjonsnummer>{number}</Organisasjonsnummer>"
            f"<Navn>RENHOLD {index} AS</Navn>"
            f"<Status>{status}</Status>"
            f"{sub_units}"
            "</Renholdsvirksomhet>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ArrayOfRenholdsvirksomhet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + "".join(items)
        + "</ArrayOfRenholdsvirksomhet>"
    ).encode()


def cleaning_firms(count: int, offset: int = 0) -> list[tuple[str, str]]:
    return [(orgnr(100 + offset + i), STATUSES[i % len(STATUSES)]) for i in range(count)]


@pytest.fixture
def renhold_url(files, settings):
    settings.RENHOLDSREGISTERET_URL = files.url + "/renhold.xml"
    return settings.RENHOLDSREGISTERET_URL


@pytest.fixture
def bemanning_url(files, settings):
    settings.BEMANNINGSFORETAKSREGISTERET_URL = files.url + "/bemanning.json"
    return settings.BEMANNINGSFORETAKSREGISTERET_URL


def serve(files, name: str, *replies: Reply) -> None:
    files.add(f"/{name}", *replies)


def test_cleaning_register_is_loaded(files, renhold_url):
    firms = cleaning_firms(10)
    sub_unit = orgnr(999)
    document = renhold_xml(firms, sub_unit_of_first=sub_unit)
    serve(files, "renhold.xml", Reply(200, document, content_type="application/xml"))

    load = open_data_load(register="renholdsregisteret")

    assert load.entries == 10
    assert load.sha256 == hashlib.sha256(document).hexdigest()
    assert load.source_url == renhold_url
    statuses = dict(CleaningApproval.objects.values_list("orgnr", "status"))
    assert statuses[firms[0][0]] == "approved_with_employees"
    assert statuses[firms[1][0]] == "approved_without_employees"
    assert statuses[firms[2][0]] == "application_pending"
    assert statuses[firms[3][0]] == "card_order_pending"
    assert statuses[firms[4][0]] == "not_approved"
    # Sub-units follow their main unit; they are not entries of their own.
    assert sub_unit not in statuses
    assert CleaningApproval.objects.get(orgnr=firms[0][0]).name == "RENHOLD 0 AS"


def test_reload_replaces_the_previous_rows(files, renhold_url):
    serve(
        files,
        "renhold.xml",
        Reply(200, renhold_xml(cleaning_firms(10))),
        Reply(200, renhold_xml(cleaning_firms(8, offset=5))),
    )
    open_data_load(register="renholdsregisteret")

    open_data_load(register="renholdsregisteret")

    assert set(CleaningApproval.objects.values_list("orgnr", flat=True)) == {
        number for number, _ in cleaning_firms(8, offset=5)
    }
    assert list(RegisterFileLoad.objects.order_by("pk").values_list("register", "entries")) == [
        ("renholdsregisteret", 10),
        ("renholdsregisteret", 8),
    ]


@pytest.fixture
def loaded_cleaning_register(files, renhold_url) -> set[str]:
    firms = cleaning_firms(10)
    files.add("/renhold.xml", Reply(200, renhold_xml(firms)))
    open_data_load(register="renholdsregisteret")
    return {number for number, _ in firms}


def _unchanged(before: set[str]) -> None:
    assert set(CleaningApproval.objects.values_list("orgnr", flat=True)) == before
    assert RegisterFileLoad.objects.count() == 1


def test_truncated_download_keeps_the_previous_rows(files, loaded_cleaning_register):
    document = renhold_xml(cleaning_firms(12))
    files.add("/renhold.xml", Reply(200, document, truncate_to=len(document) // 2))

    with pytest.raises(OpenDataUnavailable, match="download failed"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_malformed_xml_keeps_the_previous_rows(files, loaded_cleaning_register):
    document = renhold_xml(cleaning_firms(12))
    files.add("/renhold.xml", Reply(200, document[: len(document) - 40]))

    with pytest.raises(OpenDataRejected, match="not well-formed"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_far_fewer_entries_than_last_time_keeps_the_previous_rows(files, loaded_cleaning_register):
    files.add("/renhold.xml", Reply(200, renhold_xml(cleaning_firms(4))))

    with pytest.raises(OpenDataRejected, match="4 entries against 10"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_empty_register_file_is_refused(files, loaded_cleaning_register):
    files.add("/renhold.xml", Reply(200, renhold_xml([])))

    with pytest.raises(OpenDataRejected, match="no entries"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_changed_status_strings_are_refused(files, loaded_cleaning_register):
    firms = [(number, "Approved") for number, _ in cleaning_firms(10)]
    files.add("/renhold.xml", Reply(200, renhold_xml(firms)))

    with pytest.raises(OpenDataRejected, match="could not be read"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_server_error_keeps_the_previous_rows(files, loaded_cleaning_register):
    files.add("/renhold.xml", Reply(503, "busy", content_type="text/plain"))

    with pytest.raises(OpenDataUnavailable, match="HTTP 503"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_file_over_the_size_limit_is_refused(files, settings, loaded_cleaning_register):
    settings.OPEN_DATA_MAX_BYTES = 100
    files.add("/renhold.xml", Reply(200, renhold_xml(cleaning_firms(12))))

    with pytest.raises(OpenDataRejected, match="limit"):
        open_data_load(register="renholdsregisteret")

    _unchanged(loaded_cleaning_register)


def test_unconfigured_register_is_not_loaded(settings):
    settings.BEMANNINGSFORETAKSREGISTERET_URL = ""

    with pytest.raises(OpenDataUnavailable, match="BEMANNINGSFORETAKSREGISTERET_URL"):
        open_data_load(register="bemanningsforetaksregisteret")


def bemanning_json(main_units: list[tuple[str, int, list[tuple[str, int]]]]) -> bytes:
    text = {1: "Godkjent", 2: "Ikke godkjent"}
    return json.dumps(
        {
            "metadata": {"versjon": "2.2", "datoTidGenerert": "2026-01-05T04:00:00.0000000Z"},
            "data": [
                {
                    "organisasjonsnummer": number,
                    "navn": f"BEMANNING {number} AS",
                    "registerstatus": status,
                    "registerstatusTekst": text[status],
                    "godkjenningsstatus": text[status].title(),
                    "underenheter": [
                        {
                            "organisasjonsnummer": sub,
                            "overordnetEnhet": number,
                            "registerstatus": sub_status,
                            "godkjenningsstatus": text[sub_status].title(),
                        }
                        for sub, sub_status in subs
                    ],
                }
                for number, status, subs in main_units
            ],
        }
    ).encode()


def test_staffing_register_is_loaded_with_its_sub_units(files, bemanning_url):
    approved, refused, sub_ok, sub_refused = orgnr(200), orgnr(201), orgnr(202), orgnr(203)
    files.add(
        "/bemanning.json",
        Reply(
            200,
            bemanning_json([(approved, 1, [(sub_ok, 1), (sub_refused, 2)]), (refused, 2, [])]),
        ),
    )

    load = open_data_load(register="bemanningsforetaksregisteret")

    assert load.entries == 4
    rows = {row.orgnr: (row.approved, row.status_text) for row in StaffingApproval.objects.all()}
    assert rows == {
        approved: (True, "Godkjent"),
        refused: (False, "Ikke godkjent"),
        sub_ok: (True, "Godkjent"),
        sub_refused: (False, "Ikke Godkjent"),
    }


def test_staffing_file_without_data_is_refused(files, bemanning_url):
    files.add("/bemanning.json", Reply(200, {"metadata": {"versjon": "2.2"}}))

    with pytest.raises(OpenDataRejected, match='"data"'):
        open_data_load(register="bemanningsforetaksregisteret")

    assert not RegisterFileLoad.objects.exists()


def test_daily_task_loads_every_configured_register(files, renhold_url, bemanning_url):
    files.add("/renhold.xml", Reply(200, renhold_xml(cleaning_firms(6))))
    files.add("/bemanning.json", Reply(200, bemanning_json([(orgnr(300), 1, [])])))

    load_open_data.delay()

    assert CleaningApproval.objects.count() == 6
    assert StaffingApproval.objects.filter(approved=True).count() == 1
    assert set(RegisterFileLoad.objects.values_list("register", flat=True)) == {
        "renholdsregisteret",
        "bemanningsforetaksregisteret",
    }
