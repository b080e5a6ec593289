"""The audit trail's pages: an organisation's (orders.views.audit) and the back office's."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from hmsportal.audit_trail import PAGE_SIZE, audit_entries, audit_rows
from hmsportal.backoffice import staff_required
from hmsportal.forms import AuditFilterForm, BackofficeAuditFilterForm


def audit_trail_context(
    request: HttpRequest, *, organisation_orgnr: str | None, staff: bool = False
) -> dict[str, Any]:
    """The filter form and one page of the trail (an organisation's, or everyone's for staff).

    Filters that do not validate are explained and left out; the page shows the rest.
    """
    form_class = BackofficeAuditFilterForm if staff else AuditFilterForm
    form = form_class(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        cleaned = getattr(form, "cleaned_data", {})
        filters = {
            name: cleaned[name]
            for name in ("action", "actor", "date_from", "date_to")
            if cleaned.get(name) and name not in form.errors
        }
        if staff and cleaned.get("organisation") and "organisation" not in form.errors:
            organisation_orgnr = cleaned["organisation"]
    entries = audit_entries(organisation_orgnr=organisation_orgnr, **filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "rows": audit_rows(list(page.object_list)),
        "filter_query": query.urlencode(),
    }


@staff_required
@require_safe
def backoffice_audit(request: HttpRequest) -> HttpResponse:
    """Everyone's audit trail, for the card office's staff."""
    context = audit_trail_context(request, organisation_orgnr=None, staff=True)
    return render(request, "hmsportal/backoffice_audit.html", context)
