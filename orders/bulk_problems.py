"""What the check of a bulk order can find wrong with the upload or a row (orders/bulk.py), as
codes.

A row stores its problems (and a failed upload its one) as codes with their numbers and names, e.g.
`{"code": "photo_too_small", "params": {"width": 200, "height": 260, "min_width": 413, …}}`,
and they are put into words only when the report is shown: the page and the spreadsheet
speak the reader's language, not the language of whoever uploaded the file (issue 10
point 1: a delegate may read English a report the owner uploaded in Norwegian).

PROBLEMS is the one table of codes. The register's reasons (person, employment, the cleaning
register) are the rules engine's own (registry.rules.REASONS), shown with their text and fix;
the photo's are the photo rules' own (cards.photos.PHOTO_PROBLEMS).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cards.photos import PHOTO_PROBLEMS
from registry.rules import Reason

logger = logging.getLogger(__name__)

# Parameter values are stored as JSON: numbers, text, lists of text.
ParamValue = int | str | list[str]


class Problem(TypedDict):
    """One problem of a row, as stored in BulkUploadRow.problems."""

    code: str
    params: dict[str, ParamValue]


PROBLEMS: dict[str, Promise | Reason] = {
    # The upload as a whole: the ZIP or its orders.csv cannot be used (no row is checked).
    "zip_not_a_zip": _(
        "The file is not a ZIP file. Make a ZIP with orders.csv and the files, and try again."
    ),
    "zip_too_many_files": _(
        "The ZIP holds more than %(count)d files. Split it into several uploads."
    ),
    "zip_unsafe_path": _(
        "The ZIP contains a file with a path that points outside the ZIP (%(name)s). Make the ZIP again with plain file names."
    ),
    "zip_password": _("The ZIP is password protected. Make it without a password."),
    "zip_bomb": _(
        "The ZIP unpacks to far more than its own size, which an ordinary ZIP of photos and documents never does. It was not opened."
    ),
    "zip_duplicate_name": _(
        "The ZIP holds two files named %(name)s. Each file name can be used once."
    ),
    "zip_no_csv": _("The ZIP has no orders.csv. Put the list of orders in orders.csv."),
    "csv_not_text": _("orders.csv is not a text file. Save it from Excel as CSV and try again."),
    "csv_empty": _("orders.csv is empty. Put a header row and one row per card."),
    "csv_wrong_columns": _(
        "orders.csv has the wrong columns. The first row must name the columns %(required)s, and may add %(optional)s."
    ),
    "csv_too_many_rows": _(
        "orders.csv has more than %(count)d rows. Split it into several uploads."
    ),
    "csv_unreadable": _(
        "orders.csv cannot be read as a CSV file. Save it from Excel as CSV and try again."
    ),
    "csv_no_rows": _("orders.csv has no rows below the header."),
    "employer_gone": _("The employer is no longer in Enhetsregisteret."),
    "upload_unreadable": _("The uploaded file could not be read. Upload it again."),
    "registers_unavailable": _(
        "The registers did not answer for several hours, so the file could not be checked. Upload it again later."
    ),
    # One row.
    "national_id_invalid": _("The identity number is not a valid fødselsnummer or D-number."),
    "card_type_unknown": _("Unknown card type “%(code)s”. Use one of: %(codes)s."),
    "row_repeated": _("The same person and card type are on row %(row)d too."),
    "person_not_found": Reason("person_not_found"),
    "employment_not_found": Reason("employment_not_found"),
    "employment_starts_later": Reason("employment_starts_later"),
    "employer_cleaning_not_approved": Reason("employer_cleaning_not_approved"),
    "card_live": _("The person already has a valid card of this type with the employer."),
    "order_open": _("The person already has an open order of this card type with the employer."),
    "delivery_address_incomplete": _(
        "The delivery address needs a street address, a four-digit postcode and a city."
    ),
    "delivery_address_differs": _(
        "One order goes to one address: this row gives another delivery address than the rows above."
    ),
    "employee_email_invalid": _("The employee's e-mail address is not valid."),
    "photo_missing": _("No photo: the ZIP has no %(name)s."),
    **{f"photo_{code}": text for code, text in PHOTO_PROBLEMS.items()},
    "id_document_missing": _("No copy of the ID document: the ZIP has no %(name)s."),
    "id_document_kind": _("The copy of the ID document must be a PDF, JPEG or PNG file."),
    # size: in bytes, shown as "10 MB" in the reader's language.
    "file_too_large": _("The file %(name)s in the ZIP is larger than %(size)s."),
    "file_damaged": _("The file %(name)s in the ZIP is damaged and cannot be read."),
}


def problem(code: str, /, **params: ParamValue) -> Problem:
    """A problem to store; the code must be in PROBLEMS."""
    if code not in PROBLEMS:
        raise ValueError(f"unknown bulk row problem {code!r}")
    return {"code": code, "params": params}


def _shown(name: str, value: Any) -> Any:
    if name == "size" and isinstance(value, int):
        return filesizeformat(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def problem_text(stored: Mapping[str, Any]) -> str:
    """A stored problem in words, in the active language.

    A code this version does not know (or params that no longer fit its message) still says
    that the row needs fixing, with the code, rather than break the report."""
    code = str(stored.get("code", ""))
    entry = PROBLEMS.get(code)
    if isinstance(entry, Reason):
        return f"{entry.text()} {entry.fix()}"
    if entry is not None:
        params = stored.get("params") or {}
        try:
            return str(entry) % {name: _shown(name, value) for name, value in params.items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("Bulk row problem %r has params that do not fit its message", code)
    return gettext(
        "Something in this row needs fixing (%(code)s). Check the row and its files, and upload the ZIP again."
    ) % {"code": code[:50] or "?"}


def problem_texts(stored: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each stored problem in words, in the active language."""
    return [problem_text(item) for item in stored]
