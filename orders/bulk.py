"""Bulk ordering (issue 10, point 1): a ZIP of orders.csv with photos and ID copies, checked
row by row by a Celery task, then the good rows ordered at once in one order and one invoice.

The ZIP (documented for employers on the upload page):
- `orders.csv`: a header row, then one row per card. Columns `national_id` (fødselsnummer or
  D-number) and `card_type` (a card type's code, e.g. `construction`, `cleaning`) are
  required; `delivery_name`, `delivery_street`, `delivery_postcode`, `delivery_city`,
  `link_email` and `link` are optional. Comma or semicolon separated (Excel in Norwegian
  writes semicolons), UTF-8 (with or without BOM) or Windows-1252 as Excel saves it.
- Per row with files: `<identity number>.jpg` (or .jpeg/.png) is the photo and
  `<identity number>-id.pdf` (or .jpg/.jpeg/.png) the copy of the ID document, anywhere in
  the ZIP. A row with `link_email` (the employee's e-mail) or `link` = yes needs no files: the
  employee gets an upload link (orders/employee_upload.py).
- One order goes to one address: rows that give a delivery address must all give the same.

Safety: Python's zipfile with our own checks rather than a library, because the checks are
few and exact here (no library we have does all of them, and zipfile never writes to disk
unless asked): the file must be a ZIP; no member may be absolute, climb out with `..`, carry
a drive letter or be a symlink; at most BULK_MAX_MEMBERS members and BULK_MAX_UNCOMPRESSED
bytes in all, no member compressed more than BULK_MAX_RATIO times; members are read into
memory with a cap (the sizes in the ZIP's directory are not trusted); nothing is extracted to
disk. A bad ZIP or CSV raises BulkRejected with a message and stores nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import posixpath
import stat
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cards import catalogue
from cards import selectors as card_selectors
from cards.models import CardType
from cards.photos import PhotoRejected, photo_prepare
from hmsportal.models import User
from hmsportal.outbox import outbox_record
from hmsportal.storage import DocumentDecryptionError, read_document
from orders import selectors
from orders.billing import DeliveryAddress, delivery_fields, invoice_create
from orders.bulk_problems import ParamValue, Problem, problem, problem_text
from orders.models import BulkUpload, BulkUploadRow, Order
from orders.services import (
    ID_DOCUMENT_KINDS,
    OrderingClosed,
    already_ordered_check,
    order_line_add,
    order_line_placed,
)
from registry import selectors as registry_selectors
from registry.facts import EmployeeListing, OrganisationFacts
from registry.identifiers import compact, is_valid_national_id
from registry.rules import order_opens_on

logger = logging.getLogger(__name__)

# The largest ZIP accepted: about 500 employees with phone photos. (It is kept encrypted in
# one piece until checked, so it is held in memory once: see hmsportal.storage.)
# The upload is encrypted in memory in one piece (and decrypted again by the task): 300 MB
# holds 500 employees with phone photos and keeps a worker's memory to about a gigabyte.
BULK_UPLOAD_MAX_BYTES = 300 * 1024**2
BULK_MAX_MEMBERS = 2_100
BULK_MAX_ROWS = 1_000
BULK_MAX_UNCOMPRESSED = 4 * 1024**3
# JPEGs and PDFs hardly compress; text does, up to some tens. A hundredfold is a bomb.
BULK_MAX_RATIO = 100
BULK_MAX_CSV_BYTES = 2 * 1024**2
# How long checked rows and their files are kept before they must be uploaded again.
BULK_LIFETIME = datetime.timedelta(days=7)

CSV_NAME = "orders.csv"
REQUIRED_COLUMNS = ("national_id", "card_type")
OPTIONAL_COLUMNS = (
    "delivery_name",
    "delivery_street",
    "delivery_postcode",
    "delivery_city",
    "link_email",
    "link",
)
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")
ID_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")
YES = {"yes", "ja", "y", "j", "1", "true", "x"}


class BulkRejected(Exception):
    """The ZIP or its orders.csv cannot be used: problem says why as a code (stored when the
    check in the worker finds it), message says it in the language active when raised (the
    upload form shows it at once)."""

    def __init__(self, code: str, /, **params: ParamValue) -> None:
        self.problem = problem(code, **params)
        self.message = problem_text(self.problem)
        super().__init__(self.message)


class BulkFileRejected(BulkRejected):
    """A file in the ZIP cannot be read: the whole upload's refusal when it is orders.csv, a
    row's problem when it is the row's photo or ID copy."""


@dataclass
class BulkArchive:
    """A checked ZIP: its parsed rows and its safe members by lower-case base name."""

    zip_file: zipfile.ZipFile
    rows: list[dict[str, str]]
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    def read(self, name: str, *, cap: int) -> bytes | None:
        """The member's bytes, at most cap (BulkFileRejected beyond), or None when absent."""
        info = self.members.get(name.lower())
        return None if info is None else _read_capped(self.zip_file, info, cap=cap)


def _too_big(name: str, cap: int) -> BulkFileRejected:
    return BulkFileRejected("file_too_large", name=name[-100:], size=cap)


def _read_capped(zip_file: zipfile.ZipFile, info: zipfile.ZipInfo, *, cap: int) -> bytes:
    """Read a member, never more than cap bytes, whatever its header claims."""
    if info.file_size > cap:
        raise _too_big(info.filename, cap)
    chunks: list[bytes] = []
    read = 0
    try:
        with zip_file.open(info) as member:
            while chunk := member.read(min(1024 * 1024, cap + 1 - read)):
                read += len(chunk)
                if read > cap:
                    raise _too_big(info.filename, cap)
                chunks.append(chunk)
                if read == cap + 1:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise BulkFileRejected("file_damaged", name=info.filename[-100:]) from error
    return b"".join(chunks)


def _unsafe_path(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return True
    return any(part == ".." for part in normalised.split("/"))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def archive_open(archive: IO[bytes]) -> BulkArchive:
    """Check a ZIP and parse its orders.csv; BulkRejected with the reason when it is unsafe or
    wrong. Only the CSV is read here: photos and ID copies are read one by one when checked."""
    try:
        zip_file = zipfile.ZipFile(archive)
        infos = zip_file.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise BulkRejected("zip_not_a_zip") from error
    if len(infos) > BULK_MAX_MEMBERS:
        raise BulkRejected("zip_too_many_files", count=BULK_MAX_MEMBERS)
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        if _unsafe_path(info.filename) or _is_symlink(info):
            raise BulkRejected("zip_unsafe_path", name=info.filename[:100])
        if info.flag_bits & 0x1:
            raise BulkRejected("zip_password")
        total += info.file_size
        if (
            info.file_size > 1024 * 1024
            and info.file_size > BULK_MAX_RATIO * max(info.compress_size, 1)
        ) or total > BULK_MAX_UNCOMPRESSED:
            raise BulkRejected("zip_bomb")
        if info.is_dir():
            continue
        base = posixpath.basename(info.filename.replace("\\", "/")).lower()
        if base.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue  # macOS adds these beside every file; they are not ours.
        if base in members:
            raise BulkRejected("zip_duplicate_name", name=base[:100])
        members[base] = info
    if CSV_NAME not in members:
        raise BulkRejected("zip_no_csv")
    bulk = BulkArchive(zip_file=zip_file, rows=[], members=members)
    raw = bulk.read(CSV_NAME, cap=BULK_MAX_CSV_BYTES) or b""
    bulk.rows = csv_rows(raw)
    return bulk


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV" in Norway is Windows-1252; it decodes any byte but five.
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as error:
            raise BulkRejected("csv_not_text") from error


def csv_rows(raw: bytes) -> list[dict[str, str]]:
    """orders.csv's rows as dicts of the known columns; BulkRejected for wrong columns."""
    text = _decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header:
            raise BulkRejected("csv_empty")
        columns = [column.strip().lower() for column in header]
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
        unknown = [column for column in columns if column and column not in known]
        missing = [column for column in REQUIRED_COLUMNS if column not in columns]
        if unknown or missing or len(set(columns)) != len(columns):
            raise BulkRejected(
                "csv_wrong_columns",
                required=list(REQUIRED_COLUMNS),
                optional=list(OPTIONAL_COLUMNS),
            )
        rows: list[dict[str, str]] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) >= BULK_MAX_ROWS:
                raise BulkRejected("csv_too_many_rows", count=BULK_MAX_ROWS)
            rows.append(
                {
                    column: (values[index].strip()[:300] if index < len(values) else "")
                    for index, column in enumerate(columns)
                    if column
                }
            )
    except csv.Error as error:
        raise BulkRejected("csv_unreadable") from error
    if not rows:
        raise BulkRejected("csv_no_rows")
    return rows


@transaction.atomic
def bulk_upload_create(
    *, actor: User, employer: OrganisationFacts, archive: IO[bytes]
) -> BulkUpload:
    """Check the ZIP and its CSV now, keep it encrypted and queue the check of its rows.

    BulkRejected (nothing stored) when the ZIP or its CSV cannot be used.
    """
    bulk = archive_open(archive)
    upload = BulkUpload(owner=actor, employer_orgnr=employer.orgnr, progress_total=len(bulk.rows))
    archive.seek(0)
    upload.archive.save(f"{uuid.uuid4().hex}.zip", ContentFile(archive.read()), save=False)
    try:
        upload.full_clean()
        upload.save()
    except BaseException:
        upload.archive.storage.delete(upload.archive.name)
        raise
    outbox_record(task="orders.validate_bulk_upload", kwargs={"upload_id": upload.pk})
    return upload


@dataclass
class _Context:
    """What every row is checked against, looked up once per upload."""

    employer: OrganisationFacts
    today: datetime.date
    employees: dict[str, list[EmployeeListing]]
    card_types: dict[str, CardType]
    cleaning_approved: bool
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    delivery: tuple[str, str, str, str] | None = None


def bulk_upload_validate(*, upload_id: int, archive: IO[bytes] | None = None) -> BulkUpload:
    """Check every row of an upload against the registers and the photo rules, storing a
    report per row and the good rows' files (encrypted). Safe to run again: rows already
    reported are skipped. archive: the ZIP itself (the benchmark), else the stored one.

    What is found wrong is stored as codes (orders/bulk_problems.py), worded when the report
    is read, in the reader's language: nothing here depends on the uploader's."""
    upload = BulkUpload.objects.get(pk=upload_id)
    if upload.state != BulkUpload.State.VALIDATING:
        return upload
    try:
        if archive is None:
            archive = io.BytesIO(read_document(upload.archive))
        bulk = archive_open(archive)
        employer = registry_selectors.organisation_get(orgnr=upload.employer_orgnr)
        if employer is None:
            raise BulkRejected("employer_gone")
    except BulkRejected as error:
        return _upload_finish(upload, state=BulkUpload.State.FAILED, failure=error.problem)
    except (DocumentDecryptionError, OSError) as error:
        logger.error("Bulk upload %s cannot be read: %s", upload.pk, error)
        return _upload_finish(
            upload, state=BulkUpload.State.FAILED, failure=problem("upload_unreadable")
        )
    employees: dict[str, list[EmployeeListing]] = {}
    for listing in registry_selectors.employees_list(main_orgnr=employer.orgnr):
        employees.setdefault(listing.employment.national_id, []).append(listing)
    cleaning = registry_selectors.cleaning_statuses(orgnrs=[employer.orgnr]).get(employer.orgnr)
    context = _Context(
        employer=employer,
        today=timezone.localdate(),
        employees=employees,
        card_types={t.code: t for t in CardType.objects.filter(is_orderable=True)},
        cleaning_approved=cleaning is not None and cleaning.is_approved,
    )
    done = set(upload.rows.values_list("row_number", flat=True))
    for number, values in enumerate(bulk.rows, start=2):
        if number in done:
            continue
        _row_check(upload, bulk, context, number, values)
        upload.progress_done = len(done) + 1
        done.add(number)
        upload.save(update_fields=["progress_done"])
    return _upload_finish(upload, state=BulkUpload.State.READY, failure=None)


def bulk_upload_give_up(*, upload_id: int, error: str) -> BulkUpload:
    """End a check the registers would not let finish: the page says so; upload again later."""
    upload = BulkUpload.objects.get(pk=upload_id)
    if upload.state != BulkUpload.State.VALIDATING:
        return upload
    logger.warning("Bulk upload %s given up: %s", upload.pk, error)
    return _upload_finish(
        upload, state=BulkUpload.State.FAILED, failure=problem("registers_unavailable")
    )


def _upload_finish(upload: BulkUpload, *, state: str, failure: Problem | None) -> BulkUpload:
    archive = upload.archive.name
    storage = upload.archive.storage
    upload.state = state
    upload.failure_problem = failure
    upload.archive = ""
    upload.save(update_fields=["state", "failure_problem", "archive"])
    if archive:
        storage.delete(archive)
    return upload


def _row_check(
    upload: BulkUpload,
    bulk: BulkArchive,
    context: _Context,
    number: int,
    values: dict[str, str],
) -> BulkUploadRow:
    problems: list[Problem] = []
    national_id = compact(values.get("national_id", ""))[:11]
    code = values.get("card_type", "").strip().lower()
    row = BulkUploadRow(
        upload=upload, row_number=number, national_id=national_id, card_type_code=code[:50]
    )
    valid_id = is_valid_national_id(national_id)
    if not valid_id:
        problems.append(problem("national_id_invalid"))
    card_type = context.card_types.get(code)
    if card_type is None:
        problems.append(
            problem("card_type_unknown", code=code[:50], codes=sorted(context.card_types))
        )
    row.card_type = card_type
    if valid_id and code:
        first = context.seen.setdefault((national_id, code), number)
        if first != number:
            problems.append(problem("row_repeated", row=first))
    if valid_id:
        problems += _person_check(row, context, card_type)
    if (
        card_type is not None
        and card_type.requires_cleaning_approval
        and not context.cleaning_approved
    ):
        problems.append(problem("employer_cleaning_not_approved"))
    problems += _delivery_check(row, context, values)
    link_email = values.get("link_email", "").strip()
    row.employee_uploads = bool(link_email) or values.get("link", "").strip().lower() in YES
    files: tuple[bytes, bytes, str] | None = None
    if link_email:
        try:
            validate_email(link_email)
            row.employee_email = link_email[:254]
        except ValidationError:
            problems.append(problem("employee_email_invalid"))
    if not row.employee_uploads:
        files, file_problems = _files_check(
            bulk, national_id if valid_id else values.get("national_id", "")
        )
        problems += file_problems
    row.problems = problems
    row.outcome = BulkUploadRow.Outcome.ERROR if problems else BulkUploadRow.Outcome.OK
    stored: list[tuple[Any, str]] = []
    if files is not None and not problems:
        photo, document, extension = files
        row.photo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(photo), save=False)
        row.id_document.save(f"{uuid.uuid4().hex}{extension}", ContentFile(document), save=False)
        stored = [(f.storage, f.name) for f in (row.photo, row.id_document)]
    try:
        row.full_clean(exclude=["upload", "card_type"], validate_constraints=False)
        row.save()
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    return row


def _person_check(
    row: BulkUploadRow, context: _Context, card_type: CardType | None
) -> list[Problem]:
    employments = context.employees.get(row.national_id, [])
    listings = [
        listing
        for listing in employments
        if order_opens_on(listing.employment.start) <= context.today
        and (listing.employment.end is None or listing.employment.end >= context.today)
    ]
    if not listings:
        # The rules engine's reasons, so the row says what the order form would. (The
        # register lists active and future employments only: one that ended is not found.)
        if any(order_opens_on(e.employment.start) > context.today for e in employments):
            return [problem("employment_starts_later")]
        if registry_selectors.person_get(national_id=row.national_id) is None:
            return [problem("person_not_found")]
        return [problem("employment_not_found")]
    listing = listings[0]
    row.first_name = listing.first_name[:100]
    row.last_name = listing.last_name[:100]
    row.workplace_orgnr = listing.employment.workplace_orgnr
    if card_type is None:
        return []
    if card_selectors.live_card_for(
        national_id=row.national_id, employer_orgnr=context.employer.orgnr, card_type=card_type
    ):
        return [problem("card_live")]
    if selectors.open_line_for(
        national_id=row.national_id, employer_orgnr=context.employer.orgnr, card_type=card_type
    ):
        return [problem("order_open")]
    return []


def _delivery_check(row: BulkUploadRow, context: _Context, values: dict[str, str]) -> list[Problem]:
    address = tuple(
        values.get(f"delivery_{part}", "").strip()
        for part in ("name", "street", "postcode", "city")
    )
    if not any(address):
        return []
    name, street, postcode, city = address
    problems: list[Problem] = []
    if not street or not city or not (len(postcode) == 4 and postcode.isdigit()):
        problems.append(problem("delivery_address_incomplete"))
    row.delivery_name, row.delivery_street = name[:200], street[:300]
    row.delivery_postcode, row.delivery_city = postcode[:4], city[:100]
    if context.delivery is None:
        context.delivery = (name, street, postcode, city)
    elif context.delivery != (name, street, postcode, city):
        problems.append(problem("delivery_address_differs"))
    return problems


def _files_check(
    bulk: BulkArchive, national_id: str
) -> tuple[tuple[bytes, bytes, str] | None, list[Problem]]:
    problems: list[Problem] = []
    photo: bytes | None = None
    document: bytes | None = None
    extension = ""
    cap = settings.UPLOAD_MAX_BYTES
    try:
        raw_photo = next(
            (
                data
                for ext in PHOTO_EXTENSIONS
                if (data := bulk.read(f"{national_id}{ext}", cap=cap)) is not None
            ),
            None,
        )
        if raw_photo is None:
            problems.append(problem("photo_missing", name=f"{national_id}.jpg"))
        else:
            photo = photo_prepare(raw_photo)
    except PhotoRejected as error:
        problems.append(problem(f"photo_{error.code}", **error.params))
    except BulkFileRejected as error:
        problems.append(error.problem)
    try:
        raw_document = next(
            (
                data
                for ext in ID_EXTENSIONS
                if (data := bulk.read(f"{national_id}-id{ext}", cap=cap)) is not None
            ),
            None,
        )
        if raw_document is None:
            problems.append(problem("id_document_missing", name=f"{national_id}-id.pdf"))
        else:
            extension = next(
                (ext for magic, ext in ID_DOCUMENT_KINDS.items() if raw_document.startswith(magic)),
                "",
            )
            if not extension:
                problems.append(problem("id_document_kind"))
            else:
                document = raw_document
    except BulkFileRejected as error:
        problems.append(error.problem)
    if photo is None or document is None:
        return None, problems
    return (photo, document, extension), problems


class BulkNotOrderable(Exception):
    """The upload cannot be ordered (not checked yet, already ordered, expired, no good rows)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def bulk_order_place(*, actor: User, employer: OrganisationFacts, upload: BulkUpload) -> Order:
    """Order every good row of a checked upload: one order, one line per row, one invoice.

    AlreadyOrdered when a person got a card or an order of the type since the check (nothing
    is ordered then); OrderingClosed in a blackout; BulkNotOrderable otherwise.
    """
    upload = BulkUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.state == BulkUpload.State.ORDERED and upload.order is not None:
        return upload.order  # A double click: the order is placed.
    if upload.state != BulkUpload.State.READY or upload.created_at < timezone.now() - BULK_LIFETIME:
        raise BulkNotOrderable(_("This upload cannot be ordered. Upload the ZIP again."))
    rows = list(upload.rows.filter(outcome=BulkUploadRow.Outcome.OK).select_related("card_type"))
    if not rows:
        raise BulkNotOrderable(_("No row is ready to order. Fix the file and upload it again."))
    now = timezone.now()
    blackout = catalogue.blackout_at(now)
    if blackout is not None:
        raise OrderingClosed(blackout.message(get_language()) or _("Ordering is closed right now."))
    given = next(
        (
            DeliveryAddress(
                name=row.delivery_name,
                street=row.delivery_street,
                postcode=row.delivery_postcode,
                city=row.delivery_city,
            )
            for row in rows
            if row.delivery_street
        ),
        None,
    )
    order = Order(
        employer_orgnr=employer.orgnr,
        employer_name=employer.name,
        ordered_by=actor,
        **delivery_fields(employer=employer, given=given),
    )
    order.full_clean()
    order.save()
    order.upload_links_issued = {}
    stored: list[tuple[Any, str]] = []
    try:
        lines = []
        for row in rows:
            assert row.card_type is not None  # noqa: S101 (an OK row has one)
            # Checked again at ordering time: a card or order may have come since the check.
            already_ordered_check(
                national_id=row.national_id, employer_orgnr=employer.orgnr, card_type=row.card_type
            )
            files: tuple[ContentFile[bytes] | None, ContentFile[bytes] | None] = (None, None)
            if not row.employee_uploads:
                files = (
                    ContentFile(read_document(row.photo)),
                    ContentFile(read_document(row.id_document)),
                )
            line, line_stored = order_line_add(
                order=order,
                card_type=row.card_type,
                national_id=row.national_id,
                first_name=row.first_name,
                last_name=row.last_name,
                workplace_orgnr=row.workplace_orgnr,
                photo=files[0],
                id_document=files[1],
                day=timezone.localdate(now),
            )
            stored += line_stored
            lines.append((line, row))
        invoice_create(order=order, customer=employer)
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    for line, row in lines:
        order_line_placed(actor=actor, line=line, employee_email=row.employee_email or None)
    upload.state = BulkUpload.State.ORDERED
    upload.order = order
    upload.save(update_fields=["state", "order"])
    _row_files_delete(upload)
    return order


def _row_files_delete(upload: BulkUpload) -> None:
    rows = list(upload.rows.exclude(photo="", id_document=""))
    files = [(f.storage, f.name) for row in rows for f in (row.photo, row.id_document) if f.name]
    BulkUploadRow.objects.filter(pk__in=[row.pk for row in rows]).update(photo="", id_document="")

    def delete_files() -> None:
        for storage, name in files:
            storage.delete(name)

    # Files are not part of the transaction: they go once the rows surely point elsewhere.
    transaction.on_commit(delete_files)


@transaction.atomic
def bulk_uploads_expire(*, now: datetime.datetime) -> int:
    """Drop the kept files of uploads older than BULK_LIFETIME; returns how many expired."""
    uploads = list(
        BulkUpload.objects.select_for_update()
        .filter(created_at__lte=now - BULK_LIFETIME)
        .exclude(state__in=[BulkUpload.State.EXPIRED, BulkUpload.State.ORDERED])
    )
    for upload in uploads:
        _row_files_delete(upload)
        if upload.archive:
            _file_delete_on_commit(upload.archive.storage, upload.archive.name)
        upload.state = BulkUpload.State.EXPIRED
        upload.archive = ""
        upload.save(update_fields=["state", "archive"])
    return len(uploads)


def _file_delete_on_commit(storage: Any, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))
