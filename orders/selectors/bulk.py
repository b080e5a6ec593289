"""Reads of bulk uploads (orders/bulk.py writes them): the employer's uploads and the
row-by-row report, on the page and as a spreadsheet."""

from __future__ import annotations

import io

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from orders.card_register import spreadsheet_safe
from orders.models import BulkUpload, BulkUploadRow

RECENT_UPLOADS = 10


def bulk_upload_for_employer(*, employer_orgnr: str, upload_id: int) -> BulkUpload | None:
    """The upload if it is this employer's; None for another employer's as for a missing one."""
    return BulkUpload.objects.filter(pk=upload_id, employer_orgnr=employer_orgnr).first()


def bulk_uploads_recent(*, employer_orgnr: str) -> QuerySet[BulkUpload]:
    """The employer's latest uploads, newest first, for the upload page."""
    return BulkUpload.objects.filter(employer_orgnr=employer_orgnr)[:RECENT_UPLOADS]


def bulk_report_rows(upload: BulkUpload) -> list[BulkUploadRow]:
    """The upload's rows in order, with card types, for the page and the spreadsheet."""
    return list(upload.rows.select_related("card_type").order_by("row_number"))


def bulk_report_xlsx(upload: BulkUpload) -> bytes:
    """The report as an XLSX: row, masked identity number, name, card type, outcome and what to
    fix, in the active language (the reader's, whoever uploaded the file)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Report"))
    sheet.append(
        [_("Row"), _("Identity number"), _("Name"), _("Card type"), _("Outcome"), _("What to fix")]
    )
    for row in bulk_report_rows(upload):
        sheet.append(
            [
                row.row_number,
                row.national_id_masked,
                spreadsheet_safe(row.full_name),
                # From the uploaded CSV: "=HYPERLINK(…)" must stay text in Excel.
                spreadsheet_safe(row.card_type_code),
                str(row.get_outcome_display()),
                spreadsheet_safe(" ".join(row.problem_messages)),
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
