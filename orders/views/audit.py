"""The organisation's audit trail: every change to its orders, cards, access and uploads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from hmsportal.permissions import employer_required
from hmsportal.views.audit import audit_trail_context
from registry.facts import OrganisationFacts


@employer_required
@require_safe
def organisation_audit(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    """The employer's own trail, for its key-role holders and delegates (employer_required)."""
    context = audit_trail_context(request, organisation_orgnr=employer.orgnr)
    return render(request, "orders/audit.html", {"employer": employer, **context})
