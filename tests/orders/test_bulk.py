"""Bulk ordering (issue 10, point 1): a ZIP of orders.csv, photos and ID copies, checked row
by row, then the good rows ordered in one order with one invoice."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from cards.models import CardType
from orders.models import BulkUpload, BulkUploadRow, Invoice, Order, OrderLine
from registry.datasets import registry_dataset_load
from registry.identifiers import national_id_with_check_digits
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db

OTHER_EMPLOYER = "923609016"


def _id(prefix: str) -> str:
    for serial in range(100, 999):
        number = national_id_with_check_digits(f"{prefix}{serial}")
        if number:
            return number
    raise AssertionError(prefix)


SECOND = _id("020280")  # employed on the main unit
THIRD = _id("030385")  # employed on the sub-unit
OUTSIDER = _id("040490")  # in Folkeregisteret, employed nowhere here
NOBODY = _id("050595")  # a valid number nobody has
LIVE = _id("060666")  # employed, already holds a live construction card
OPEN = _id("070777")  # employed, already has an open order
SMALL = _id("080888")  # employed: the photo is too small
TEXT = _id("090999")  # employed: the "photo" is text
MISSING = _id("101070")  # employed: no photo in the ZIP
ÆØÅ = _id("111171")  # employed: a name with æøå
LATER = _id("131273")  # the employment here starts in two months


def _dataset() -> dict:
    dataset = small_dataset()
    names = {
        SECOND: ("Per", "Murer"),
        THIRD: ("Siri", "Maler"),
        OUTSIDER: ("Ute", "Annensted"),
        LIVE: ("Liv", "Kort"),
        OPEN: ("Åpen", "Bestilling"),
        SMALL: ("Lita", "Bilde"),
        TEXT: ("Tekst", "Fil"),
        MISSING: ("Mangler", "Bilde"),
        ÆØÅ: ("Ærlig", "Østgård-Ålvik"),
    }
    start = dataset["employments"][0]["start"]
    dataset["persons"].append(
        {
            "id": LATER,
            "first_name": "Snart",
            "last_name": "Ny",
            "birth_date": None,
            "d_number_active": True,
            "permit_until": None,
        }
    )
    dataset["employments"].append(
        {
            "orgnr": SUB_UNIT,
            "person": LATER,
            "start": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
            "end": None,
            "hired_out": False,
        }
    )
    for number, (first, last) in names.items():
        dataset["persons"].append(
            {
                "id": number,
                "first_name": first,
                "last_name": last,
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        )
        if number != OUTSIDER:
            dataset["employments"].append(
                {
                    "orgnr": EMPLOYER if number == SECOND else SUB_UNIT,
                    "person": number,
                    "start": start,
                    "end": None,
                    "hired_out": False,
                }
            )
    return dataset


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def _zip(csv_text: str | bytes, files: dict[str, bytes], *, encoding: str = "utf-8") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        raw = csv_text if isinstance(csv_text, bytes) else csv_text.encode(encoding)
        archive.writestr("orders.csv", raw)
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _files(*numbers: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for number in numbers:
        files[f"{number}.jpg"] = jpeg()
        files[f"{number}-id.pdf"] = b"%PDF-1.4\n%scan\n"
    return files


def _upload(client, content: bytes, name: str = "orders.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/orders/{EMPLOYER}/bulk/",
        {"archive": SimpleUploadedFile(name, content, content_type="application/zip")},
    )


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_good_zip_is_checked_then_ordered_in_one_order_with_one_invoice(
    client, owner, settings, django_capture_on_commit_callbacks
) -> None:
    csv_text = (
        "national_id,card_type\n"
        f"{WORKER},construction\n{SECOND},construction\n{THIRD},construction\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, _zip(csv_text, _files(WORKER, SECOND, THIRD)))
    assert response.status_code == 302
    upload = BulkUpload.objects.get()
    assert upload.state == BulkUpload.State.READY
    assert (upload.progress_done, upload.progress_total) == (3, 3)
    assert not upload.archive  # the ZIP itself is gone once checked
    rows = list(upload.rows.all())
    assert [row.outcome for row in rows] == ["ok"] * 3, [row.problem_messages for row in rows]
    for path in _media_files(settings):
        assert path.read_bytes().startswith(b"gAAAA")  # encrypted, never the file itself

    page = client.get(response["Location"])
    body = page.content.decode()
    assert "Ola Snekker" in body
    assert WORKER not in body  # masked
    assert f"{WORKER[:6]}*****" in body
    # The card type by its name in the page's language, not the CSV's code.
    assert '<td data-label="Korttype">HMS-kort bygg og anlegg</td>' in body
    assert ">construction<" not in body

    with django_capture_on_commit_callbacks(execute=True):
        ordered = client.post(f"/orders/{EMPLOYER}/bulk/{upload.pk}/order/")
    order = Order.objects.get()
    assert ordered["Location"] == f"/orders/{EMPLOYER}/orders/{order.pk}/"
    assert order.lines.count() == 3
    assert Invoice.objects.count() == 1
    assert order.invoice.lines.count() == 3
    assert {line.workplace_orgnr for line in order.lines.all()} == {EMPLOYER, SUB_UNIT}
    assert set(order.lines.values_list("state", flat=True)) == {OrderLine.State.APPROVED}
    upload.refresh_from_db()
    assert upload.state == BulkUpload.State.ORDERED
    assert not upload.rows.exclude(photo="").exists()  # the kept files went with the order
    # A second click lands on the same order, and places nothing new.
    again = client.post(f"/orders/{EMPLOYER}/bulk/{upload.pk}/order/")
    assert again.status_code == 302
    assert Order.objects.count() == 1


def test_every_kind_of_bad_row_and_file_is_reported_and_only_good_rows_are_ordered(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    CardFactory(
        holder_national_id=LIVE,
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        card_type=CardType.objects.get(code="construction"),
    )
    OrderLineFactory(national_id=OPEN, first_name="Åpen", last_name="Bestilling")
    small = io.BytesIO()
    Image.new("RGB", (200, 260), (120, 100, 90)).save(small, format="JPEG")
    rows = [
        f"{WORKER},construction",  # 2 ok
        f"{NOBODY},construction",  # 3 unknown person
        f"{OUTSIDER},construction",  # 4 not employed here
        f"{LIVE},construction",  # 5 live card
        f"{OPEN},construction",  # 6 open order
        f"{SMALL},construction",  # 7 photo too small
        f"{TEXT},construction",  # 8 not a photo
        f"{MISSING},construction",  # 9 no photo
        f"{SECOND},gold",  # 10 bad card type
        f"{THIRD},cleaning",  # 11 no cleaning approval
        "12345678901,construction",  # 12 bad identity number
        f"{WORKER},construction",  # 13 duplicate of row 2
        f"{SECOND},construction,,,,,per@example.no",  # 14 ok, employee's link
    ]
    csv_text = "national_id,card_type,delivery_name,delivery_street,delivery_postcode,delivery_city,link_email\n"
    csv_text += "\n".join(rows) + "\n"
    files = _files(WORKER, NOBODY, OUTSIDER, LIVE, OPEN, THIRD, SECOND)
    files |= {f"{SMALL}.jpg": small.getvalue(), f"{SMALL}-id.pdf": b"%PDF-1.4"}
    files |= {f"{TEXT}.jpg": b"not a photo at all", f"{TEXT}-id.pdf": b"%PDF-1.4"}
    files |= {f"{MISSING}-id.pdf": b"%PDF-1.4"}
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, files))
    upload = BulkUpload.objects.get()
    report = {row.row_number: row for row in upload.rows.all()}
    assert len(report) == 13

    def said(number: int, text: str) -> None:
        row = report[number]
        assert row.outcome == BulkUploadRow.Outcome.ERROR, number
        assert any(text in message for message in row.problem_messages), (
            number,
            row.problem_messages,
        )

    assert report[2].outcome == "ok"
    said(3, "Folkeregisteret")
    said(4, "Aa-registeret")
    said(5, "allerede et gyldig kort")
    said(6, "allerede en åpen bestilling")
    said(7, "200 × 260")
    said(8, "JPEG- eller PNG")
    said(9, f"{MISSING}.jpg")
    said(10, "gold")
    said(11, "Renholdsregisteret")
    said(12, "fødselsnummer eller D-nummer")
    said(13, "rad 2")
    # Stored as codes with their numbers, never as words in the uploader's language.
    assert report[7].problems == [
        {
            "code": "photo_too_small",
            "params": {"width": 200, "height": 260, "min_width": 413, "min_height": 531},
        }
    ]
    assert report[3].problems == [{"code": "person_not_found", "params": {}}]
    assert report[10].problems[0]["params"]["code"] == "gold"
    assert report[14].outcome == "ok", report[14].problem_messages
    assert report[14].employee_uploads and report[14].employee_email == "per@example.no"

    page = client.get(f"/orders/{EMPLOYER}/bulk/{upload.pk}/").content.decode()
    assert 'data-outcome="error"' in page and OUTSIDER not in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/{EMPLOYER}/bulk/{upload.pk}/order/")
    order = Order.objects.exclude(pk=OrderLine.objects.get(national_id=OPEN).order_id).get()
    assert sorted(order.lines.values_list("national_id", flat=True)) == sorted([WORKER, SECOND])
    assert order.lines.get(national_id=SECOND).state == OrderLine.State.AWAITING_FILES
    assert order.invoice.lines.count() == 2


def _bad_zips() -> list[tuple[str, bytes, str]]:
    traversal = io.BytesIO()
    with zipfile.ZipFile(traversal, "w") as archive:
        archive.writestr("orders.csv", f"national_id,card_type\n{WORKER},construction\n")
        archive.writestr("../../etc/evil.jpg", jpeg())
    absolute = io.BytesIO()
    with zipfile.ZipFile(absolute, "w") as archive:
        archive.writestr("orders.csv", f"national_id,card_type\n{WORKER},construction\n")
        archive.writestr("C:/Windows/evil.jpg", jpeg())
    symlink = io.BytesIO()
    with zipfile.ZipFile(symlink, "w") as archive:
        archive.writestr("orders.csv", f"national_id,card_type\n{WORKER},construction\n")
        info = zipfile.ZipInfo(f"{WORKER}.jpg")
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/passwd")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("orders.csv", f"national_id,card_type\n{WORKER},construction\n")
        archive.writestr(f"{WORKER}.jpg", b"\0" * (50 * 1024 * 1024))
    return [
        ("not-a-zip", b"%PDF-1.4 this is no zip", "ikke en ZIP-fil"),
        ("traversal", traversal.getvalue(), "utenfor ZIP-filen"),
        ("drive-letter", absolute.getvalue(), "utenfor ZIP-filen"),
        ("symlink", symlink.getvalue(), "utenfor ZIP-filen"),
        ("bomb", bomb.getvalue(), "pakkes ut til langt mer"),
        (
            "wrong-columns",
            _zip("name,type\nOla,construction\n", _files(WORKER)),
            "feil kolonner",
        ),
        ("no-csv", _zip_without_csv(), "ingen orders.csv"),
        ("empty-csv", _zip("national_id,card_type\n", {}), "ingen rader"),
    ]


def _zip_without_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{WORKER}.jpg", jpeg())
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "content", "message"), _bad_zips(), ids=lambda v: str(v)[:12])
def test_an_unsafe_or_wrong_zip_gets_a_clear_message_and_nothing_is_stored(
    client, owner, settings, django_capture_on_commit_callbacks, kind, content, message
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, content)
    assert response.status_code == 400, kind
    assert message in response.content.decode(), kind
    assert BulkUpload.objects.count() == 0
    assert BulkUploadRow.objects.count() == 0
    assert _media_files(settings) == []


def test_a_windows_1252_csv_with_semicolons_and_æøå_is_read(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    csv_bytes = (
        "national_id;card_type;delivery_name;delivery_street;delivery_postcode;delivery_city\r\n"
        f"{ÆØÅ};construction;Ærlig Østgård-Ålvik;Bjørkeveien 5;5003;Tromsø\r\n"
    ).encode("cp1252")
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_bytes, _files(ÆØÅ)))
    row = BulkUploadRow.objects.get()
    assert row.outcome == "ok", row.problem_messages
    assert row.full_name == "Ærlig Østgård-Ålvik"
    assert (row.delivery_street, row.delivery_city) == ("Bjørkeveien 5", "Tromsø")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/{EMPLOYER}/bulk/{row.upload_id}/order/")
    order = Order.objects.get()
    assert (order.delivery_name, order.delivery_city) == ("Ærlig Østgård-Ålvik", "Tromsø")


def test_the_report_downloads_as_xlsx_without_full_identity_numbers(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    csv_text = f"national_id,card_type\n{WORKER},construction\n{OUTSIDER},construction\n"
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, _files(WORKER, OUTSIDER)))
    upload = BulkUpload.objects.get()
    response = client.get(f"/orders/{EMPLOYER}/bulk/{upload.pk}/report.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [[str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[1][:4] == ["2", f"{WORKER[:6]}*****", "Ola Snekker", "construction"]
    assert "Aa-registeret" in cells[2][5]
    text = " ".join(" ".join(row) for row in cells)
    assert WORKER not in text and OUTSIDER not in text


def test_another_employers_upload_is_404(client, owner, django_capture_on_commit_callbacks) -> None:
    other = BulkUpload.objects.create(
        owner=UserFactory(national_id=NOBODY), employer_orgnr=OTHER_EMPLOYER, state="ready"
    )
    for suffix in ("", "report/", "report.xlsx"):
        assert client.get(f"/orders/{EMPLOYER}/bulk/{other.pk}/{suffix}").status_code == 404
    assert client.post(f"/orders/{EMPLOYER}/bulk/{other.pk}/order/").status_code == 404
    # Nor can the upload be reached under the other employer, where the owner has no access.
    assert client.get(f"/orders/{OTHER_EMPLOYER}/bulk/{other.pk}/").status_code == 404


def test_the_progress_fragment_answers_204_while_nothing_changed(client, owner) -> None:
    upload = BulkUpload.objects.create(
        owner=owner, employer_orgnr=EMPLOYER, progress_total=10, progress_done=4
    )
    url = f"/orders/{EMPLOYER}/bulk/{upload.pk}/report/"
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert 'hx-trigger="every 2s"' in body and 'aria-valuenow="40"' in body
    assert client.get(url + "?v=validating-4", HTTP_HX_REQUEST="true").status_code == 204


def test_checked_files_go_after_a_week_and_the_upload_can_no_longer_be_ordered(
    client, owner, settings, django_capture_on_commit_callbacks
) -> None:
    from orders.bulk import bulk_uploads_expire

    csv_text = f"national_id,card_type\n{WORKER},construction\n"
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, _files(WORKER)))
    upload = BulkUpload.objects.get()
    assert len(_media_files(settings)) == 2  # the checked photo and ID copy, encrypted
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_uploads_expire(now=timezone.now()) == 0
        assert bulk_uploads_expire(now=timezone.now() + datetime.timedelta(days=8)) == 1
    upload.refresh_from_db()
    assert upload.state == BulkUpload.State.EXPIRED
    assert _media_files(settings) == []
    response = client.post(f"/orders/{EMPLOYER}/bulk/{upload.pk}/order/", follow=True)
    assert "kan ikke bestilles" in response.content.decode()
    assert Order.objects.count() == 0


def test_an_upload_whose_stored_zip_cannot_be_read_is_reported_failed(owner) -> None:
    from django.core.files.base import ContentFile

    from orders.bulk import bulk_upload_validate

    upload = BulkUpload(owner=owner, employer_orgnr=EMPLOYER, progress_total=1)
    upload.archive.save("broken.zip", ContentFile(b"no zip at all"), save=True)
    upload = bulk_upload_validate(upload_id=upload.pk)
    assert upload.state == BulkUpload.State.FAILED
    assert "ikke en ZIP-fil" in upload.failure_message
    assert not upload.archive
    assert upload.rows.count() == 0


def test_the_upload_page_explains_the_zip_and_refuses_a_missing_file(client, owner) -> None:
    page = client.get(f"/orders/{EMPLOYER}/bulk/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "01017512338-id.pdf" in body and "national_id, card_type" in body
    response = client.post(f"/orders/{EMPLOYER}/bulk/", {})
    assert response.status_code == 400
    assert "Velg ZIP-filen med orders.csv." in response.content.decode()
    assert BulkUpload.objects.count() == 0


def test_a_formula_in_orders_csv_stays_text_in_the_report(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    csv_text = f'national_id,card_type\n{WORKER},"=HYPERLINK(""http://evil.example"")"\n'
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, _files(WORKER)))
    upload = BulkUpload.objects.get()
    response = client.get(f"/orders/{EMPLOYER}/bulk/{upload.pk}/report.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=4)
    assert cell.data_type == "s" and str(cell.value).startswith("'=")


def test_an_upload_whose_stored_file_cannot_be_decrypted_is_reported_failed(owner) -> None:
    from django.core.files.base import ContentFile

    from orders.bulk import bulk_upload_validate

    upload = BulkUpload.objects.create(owner=owner, employer_orgnr=EMPLOYER)
    upload.archive.save("x.zip", ContentFile(b"a zip"), save=True)
    # Overwritten on disk: reading it back fails as a tampered or damaged file would.
    with open(upload.archive.path, "wb") as stored:
        stored.write(b"gAAAAA-not-a-fernet-token")
    upload = bulk_upload_validate(upload_id=upload.pk)
    assert upload.state == BulkUpload.State.FAILED
    assert "kunne ikke leses" in upload.failure_message


def test_a_check_the_registers_never_let_finish_ends_with_a_clear_message(owner, settings) -> None:
    from celery.exceptions import Retry
    from django.core.files.base import ContentFile

    from orders.tasks import BULK_CHECK_RETRIES, validate_bulk_upload
    from tests.registry.servers import closed_port_url

    upload = BulkUpload.objects.create(owner=owner, employer_orgnr=EMPLOYER)
    csv_text = f"national_id,card_type\n{WORKER},construction\n"
    upload.archive.save("orders.zip", ContentFile(_zip(csv_text, _files(WORKER))), save=True)
    settings.REGISTRY_BACKEND = "http"
    settings.ENHETSREGISTERET_URL = closed_port_url()
    settings.REGISTER_RETRIES = 0
    # Retried while there are retries left: the upload keeps checking.
    with pytest.raises(Retry):
        validate_bulk_upload.apply(kwargs={"upload_id": upload.pk}, retries=0)
    upload.refresh_from_db()
    assert upload.state == BulkUpload.State.VALIDATING
    # The last retry gives up, and the page says why.
    validate_bulk_upload.apply(kwargs={"upload_id": upload.pk}, retries=BULK_CHECK_RETRIES)
    upload.refresh_from_db()
    assert upload.state == BulkUpload.State.FAILED
    assert "Registrene svarte ikke" in upload.failure_message
    assert not upload.archive


def test_each_reader_sees_the_report_in_their_own_language_whoever_uploaded_it(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    """Issue 10 point 1: the row check runs in a worker in the uploader's language; the report
    is worded when it is read, on the page and in the spreadsheet."""
    owner.language = "en"
    owner.save(update_fields=["language"])
    small = io.BytesIO()
    Image.new("RGB", (200, 260), (120, 100, 90)).save(small, format="JPEG")
    csv_text = (
        "national_id,card_type\n"
        f"{SMALL},construction\n{SECOND},gold\n{OUTSIDER},construction\n{MISSING},construction\n"
    )
    files = _files(SECOND, OUTSIDER)
    files |= {f"{SMALL}.jpg": small.getvalue(), f"{SMALL}-id.pdf": b"%PDF-1.4"}
    files |= {f"{MISSING}-id.pdf": b"%PDF-1.4"}
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, files))
    upload = BulkUpload.objects.get()
    assert upload.rows.filter(outcome="error").count() == 4
    english = [
        "The photo is 200 × 260 pixels. It must be at least 413 × 531 pixels.",
        "Unknown card type “gold”. Use one of: ",
        "Aa-registeret shows no employment with the employer.",
        "Report the employment to Aa-registeret (the a-melding).",
        f"No photo: the ZIP has no {MISSING}.jpg.",
    ]
    norwegian = [
        "Bildet er 200 × 260 piksler.",
        "Ukjent korttype «gold». Bruk en av disse: ",
        "Aa-registeret viser ikke noe arbeidsforhold hos virksomheten.",
        "Meld arbeidsforholdet til Aa-registeret (a-meldingen).",
        f"Mangler bilde: ZIP-filen har ingen {MISSING}.jpg.",
    ]
    page_url = f"/orders/{EMPLOYER}/bulk/{upload.pk}/"
    xlsx_url = f"/orders/{EMPLOYER}/bulk/{upload.pk}/report.xlsx"

    def spreadsheet_text() -> str:
        response = client.get(xlsx_url)
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        return " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)

    for language, expected, other in (("nb", norwegian, english), ("en", english, norwegian)):
        client.cookies["django_language"] = language
        page = client.get(page_url).content.decode()
        sheet = spreadsheet_text()
        for text in expected:
            assert text in page, (language, text)
            assert text in sheet, (language, text)
        for text in other:
            assert text not in page and text not in sheet, (language, text)


def test_every_problem_code_is_worded_in_both_languages() -> None:
    from django.utils import translation

    from orders.bulk_problems import PROBLEMS, problem, problem_text

    params = {
        "code": "gold",
        "codes": ["cleaning", "construction"],
        "row": 2,
        "name": f"{WORKER}.jpg",
        "size": 10 * 1024 * 1024,
        "width": 200,
        "height": 260,
        "min_width": 413,
        "min_height": 531,
        "megapixels": 60,
        "count": 2100,
        "required": ["national_id", "card_type"],
        "optional": ["link_email", "link"],
    }
    for code in PROBLEMS:
        stored = problem(code, **params)
        with translation.override("nb"):
            nb = problem_text(stored)
        with translation.override("en"):
            en = problem_text(stored)
        for text in (nb, en):
            assert text and "%(" not in text and code not in text, (code, text)
        assert nb != en, (code, "no bokmål translation")
    with translation.override("en"):
        assert "10.0\xa0MB" in problem_text(
            problem("file_too_large", name="a.jpg", size=10 * 1024**2)
        )
        assert "cleaning, construction" in problem_text(problem("card_type_unknown", **params))
    with translation.override("nb"):
        assert "10,0\xa0MB" in problem_text(
            problem("file_too_large", name="a.jpg", size=10 * 1024**2)
        )


def test_an_unknown_code_or_old_text_rows_still_show_something_sensible(owner) -> None:
    from django.utils import translation

    from orders.bulk_problems import problem_text

    upload = BulkUpload.objects.create(owner=owner, employer_orgnr=EMPLOYER, state="ready")
    with translation.override("en"):
        unknown = problem_text({"code": "photo_painted_blue", "params": {}})
        assert "photo_painted_blue" in unknown and "needs fixing" in unknown
        # Params that no longer fit the message: the row still says it needs fixing.
        assert "needs fixing" in problem_text({"code": "row_repeated", "params": {}})
    with translation.override("nb"):
        assert "photo_painted_blue" in problem_text({"code": "photo_painted_blue"})
    # A row checked before problems were codes keeps the words it was stored with.
    row = BulkUploadRow.objects.create(
        upload=upload,
        row_number=2,
        outcome="error",
        legacy_messages=["Mangler bilde: ZIP-filen har ingen x.jpg."],
    )
    with translation.override("en"):
        assert row.problem_messages == ["Mangler bilde: ZIP-filen har ingen x.jpg."]


def test_an_employment_starting_too_late_is_reported_with_the_rules_engines_reason(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    csv_text = f"national_id,card_type\n{LATER},construction\n"
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, _zip(csv_text, _files(LATER)))
    row = BulkUploadRow.objects.get()
    assert row.problems == [{"code": "employment_starts_later", "params": {}}]
    assert row.problem_messages == [
        "Arbeidsforholdet starter om mer enn 30 dager. Bestill kortet tidligst 30 dager før "
        "oppstart."
    ]


def test_a_failed_upload_says_why_in_the_readers_language(client, owner) -> None:
    from django.core.files.base import ContentFile

    from orders.bulk import bulk_upload_validate

    owner.language = "en"
    owner.save(update_fields=["language"])
    upload = BulkUpload(owner=owner, employer_orgnr=EMPLOYER, progress_total=1)
    upload.archive.save("broken.zip", ContentFile(b"no zip at all"), save=True)
    upload = bulk_upload_validate(upload_id=upload.pk)
    assert upload.failure_problem == {"code": "zip_not_a_zip", "params": {}}
    url = f"/orders/{EMPLOYER}/bulk/{upload.pk}/"
    client.cookies["django_language"] = "nb"
    assert "Filen er ikke en ZIP-fil." in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    assert "The file is not a ZIP file." in client.get(url).content.decode()
    # One that failed before failures were codes keeps the words it was stored with.
    old = BulkUpload.objects.create(
        owner=owner,
        employer_orgnr=EMPLOYER,
        state="failed",
        legacy_failure="Registrene svarte ikke.",
    )
    assert (
        "Registrene svarte ikke."
        in client.get(f"/orders/{EMPLOYER}/bulk/{old.pk}/").content.decode()
    )
