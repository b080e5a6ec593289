"""Bulk ordering pages (issue 10, point 1): upload a ZIP, follow its check row by row, order
the good rows in one order or download the report as a spreadsheet (orders/bulk.py)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hmsportal.account import contact_confirmed_required
from hmsportal.models import User
from hmsportal.permissions import employer_required
from orders import bulk
from orders.forms import BulkUploadForm
from orders.models import BulkUpload, BulkUploadRow
from orders.selectors import bulk as bulk_selectors
from orders.services import AlreadyOrdered, OrderingClosed
from registry.facts import OrganisationFacts

POLL_SECONDS = 2


def _upload_or_404(employer: OrganisationFacts, upload_id: int) -> BulkUpload:
    # Another employer's upload answers 404, exactly like one that does not exist.
    upload = bulk_selectors.bulk_upload_for_employer(
        employer_orgnr=employer.orgnr, upload_id=upload_id
    )
    if upload is None:
        raise Http404("No such upload.")
    return upload


def _report_context(employer: OrganisationFacts, upload: BulkUpload) -> dict[str, object]:
    rows = (
        bulk_selectors.bulk_report_rows(upload)
        if upload.state != BulkUpload.State.VALIDATING
        else []
    )
    ok = sum(1 for row in rows if row.outcome == BulkUploadRow.Outcome.OK)
    total = upload.progress_total or 1
    return {
        "employer": employer,
        "upload": upload,
        "rows": rows,
        "ok_count": ok,
        "error_count": len(rows) - ok,
        "percent": min(100, round(100 * upload.progress_done / total)),
        "version": f"{upload.state}-{upload.progress_done}",
        "poll_seconds": POLL_SECONDS if upload.state == BulkUpload.State.VALIDATING else 0,
    }


@employer_required
@contact_confirmed_required
def bulk_upload(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    # Bound on every POST: an empty one (no file chosen) must say so, not show a blank form.
    form = (
        BulkUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else BulkUploadForm()
    )
    if form.is_bound and form.is_valid():
        try:
            upload = bulk.bulk_upload_create(
                actor=cast(User, request.user),
                employer=employer,
                archive=form.cleaned_data["archive"],
            )
        except bulk.BulkRejected as error:
            form.add_error("archive", error.message)
        else:
            return redirect("orders:bulk_detail", orgnr=employer.orgnr, upload_id=upload.pk)
    uploads = bulk_selectors.bulk_uploads_recent(employer_orgnr=employer.orgnr)
    return render(
        request,
        "orders/bulk_upload.html",
        {
            "employer": employer,
            "form": form,
            "uploads": uploads,
            "required_columns": bulk.REQUIRED_COLUMNS,
            "optional_columns": bulk.OPTIONAL_COLUMNS,
        },
        status=400 if form.errors else 200,
    )


@employer_required
@contact_confirmed_required
@require_safe
def bulk_detail(request: HttpRequest, employer: OrganisationFacts, upload_id: int) -> HttpResponse:
    upload = _upload_or_404(employer, upload_id)
    return render(request, "orders/bulk_detail.html", _report_context(employer, upload))


@employer_required
@require_safe
def bulk_progress(
    request: HttpRequest, employer: OrganisationFacts, upload_id: int
) -> HttpResponse:
    """The report for htmx to poll: 204 while nothing has changed since `v`."""
    upload = _upload_or_404(employer, upload_id)
    if not getattr(request, "htmx", False):
        return redirect("orders:bulk_detail", orgnr=employer.orgnr, upload_id=upload.pk)
    context = _report_context(employer, upload)
    if request.GET.get("v") == context["version"]:
        return HttpResponse(status=204)
    response = render(request, "orders/_bulk_report.html", context)
    response["Cache-Control"] = "no-store"
    return response


@employer_required
@contact_confirmed_required
@require_POST
def bulk_order(request: HttpRequest, employer: OrganisationFacts, upload_id: int) -> HttpResponse:
    upload = _upload_or_404(employer, upload_id)
    try:
        order = bulk.bulk_order_place(
            actor=cast(User, request.user), employer=employer, upload=upload
        )
    except AlreadyOrdered:
        messages.error(
            request,
            _(
                "Someone in the list got a card or an order of the same type after the check. Upload the ZIP again to check it anew."
            ),
        )
    except (bulk.BulkNotOrderable, OrderingClosed) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The cards are ordered."))
        return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)
    return redirect("orders:bulk_detail", orgnr=employer.orgnr, upload_id=upload.pk)


@employer_required
@require_safe
def bulk_report_xlsx(
    request: HttpRequest, employer: OrganisationFacts, upload_id: int
) -> HttpResponse:
    upload = _upload_or_404(employer, upload_id)
    response = HttpResponse(
        bulk_selectors.bulk_report_xlsx(upload),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="bulk-report-{upload.pk}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response
