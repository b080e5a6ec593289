"""The employee's own upload page, opened from the personal link: no login, on a phone."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from hmsportal.ratelimit import Budget, address_identity, client_address, rate_limited
from orders import employee_upload
from orders.employee_upload import LinkProblem, UploadLinkRefused
from orders.forms import EmployeeUploadForm
from orders.models import OrderLine

# Requests to the upload pages a client address may make a minute. The token cannot be
# guessed, so this is about cost: each POST may carry two files of UPLOAD_MAX_BYTES.
UPLOAD_REQUESTS_PER_MINUTE = 20


def _upload_budget(request: HttpRequest) -> Budget:
    return Budget(
        identity=address_identity(client_address(request)), per_minute=UPLOAD_REQUESTS_PER_MINUTE
    )


def _refused(request: HttpRequest, refused: UploadLinkRefused) -> HttpResponse:
    # One page whatever the reason: the employee can do one thing about it, ask for a new link.
    # 404 for a token we never made, 410 for one that worked once.
    status = 404 if refused.problem is LinkProblem.UNKNOWN else 410
    return render(request, "orders/employee_upload_refused.html", status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited(scope="employee-upload", budget=_upload_budget)
def employee_upload_page(request: HttpRequest, token: str) -> HttpResponse:
    """Whose card and for which employer, and the photo and ID document to upload."""
    try:
        link = employee_upload.upload_link_open(token=token)
    except UploadLinkRefused as refused:
        return _refused(request, refused)
    line = link.order_line
    posted = request.method == "POST"
    form = EmployeeUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        needs_photo=not line.photo,
        needs_id_document=not line.id_document,
    )
    if posted and form.is_valid():
        try:
            line = employee_upload.employee_files_receive(
                token=token,
                photo=form.normalised_photo,
                id_document=form.cleaned_data.get("id_document"),
            )
        except UploadLinkRefused as refused:
            return _refused(request, refused)
        if line.state != OrderLine.State.AWAITING_FILES:
            return redirect("employee_upload:received")
        messages.success(
            request,
            _("The photo is received. Now upload your ID document.")
            if line.photo
            else _("The ID document is received. Now upload the photo."),
        )
        return redirect("employee_upload:upload", token=token)
    return render(
        request,
        "orders/employee_upload.html",
        {
            "line": line,
            "link": link,
            "form": form,
            "card_type_name": line.card_type.name(get_language()),
        },
        status=400 if form.errors else 200,
    )


@require_safe
def employee_upload_received(request: HttpRequest) -> HttpResponse:
    """Thank you: both files are in, and the employer is told how the order goes."""
    return render(request, "orders/employee_upload_received.html")
