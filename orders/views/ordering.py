"""Placing an order and following it: the order form, the order page with its live progress,
its documents (confirmations, invoice) and the employee's upload link."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cards import catalogue
from cards.models import Card
from hmsportal.account import (
    contact_confirmed_required,
)
from hmsportal.middleware import not_activity
from hmsportal.models import User
from hmsportal.permissions import employer_required
from hmsportal.storage import read_document
from orders import billing, employee_upload, selectors, services, stash
from orders.confirmations import confirmation_filename, confirmation_pdf
from orders.forms import (
    CardOrderForm,
    IdentityConfirmForm,
    UploadLinkResendForm,
)
from orders.models import EmployeeUploadLink, Order, OrderLine, UploadStash
from orders.progress import Step, line_progress, order_progress
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts
from registry.rules import order_opens_on


@dataclass(frozen=True)
class AwaitingLine:
    """An order line waiting for the employee's files, its live link and the form to resend."""

    line: OrderLine
    link: EmployeeUploadLink | None
    # The link's address, only right after it was made (only its hash is stored).
    new_url: str
    form: UploadLinkResendForm

    @property
    def expired(self) -> bool:
        return self.link is not None and self.link.expires_at <= timezone.now()


@dataclass(frozen=True)
class AlreadyOrderedNotice:
    """Why an order was refused: the person's live card of the type, or their open order."""

    card: Card | None
    line: OrderLine | None
    card_type_name: str


@employer_required
@contact_confirmed_required
def order_card(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    today = timezone.localdate()
    # New hires can be ordered for from 30 days before they start (seed page).
    employees = [
        e
        for e in registry_selectors.employees_list(main_orgnr=employer.orgnr)
        if order_opens_on(e.employment.start) <= today
    ]
    card_types = catalogue.orderable_card_types()
    user = cast(User, request.user)
    placed = selectors.order_for_submission(
        submission_token=request.POST.get("submission_token", ""), actor=user
    )
    if placed is not None and placed.employer_orgnr == employer.orgnr:
        # A double click, a reload after sending, a retried request: the order is placed.
        messages.info(request, _("This order has already been sent. Here it is."))
        return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=placed.pk)
    form = CardOrderForm(
        request.POST or None,
        request.FILES or None,
        employees=employees,
        card_types=card_types,
        unit_names=selectors.employer_unit_names(employer=employer),
        owner=user,
    )
    if not form.is_bound:
        form.initial["employee"] = form.choice_for_reference(request.GET.get("employee", ""))
    blackout = catalogue.blackout_at(timezone.now())
    already: AlreadyOrderedNotice | None = None
    step = request.POST.get("step", "send")
    if request.method == "POST" and step in ("review", "change") and form.is_valid():
        # Check your answers (GOV.UK) before anything is ordered or billed: the files that
        # were chosen are kept (orders.stash) and travel on as keys.
        _files_keep(user, form)
        if step == "review":
            # The same refusal as sending would give, before the check page shows a price for
            # a card that cannot be ordered (one card per person, employer and card type).
            try:
                services.already_ordered_check(
                    national_id=form.selected_employee().employment.national_id,
                    employer_orgnr=employer.orgnr,
                    card_type=form.cleaned_data["card_type"],
                )
            except services.AlreadyOrdered as refusal:
                already = _already_ordered_refusal(form, refusal)
            else:
                return _order_check_page(request, employer, form, today=today)
    elif request.method == "POST" and form.is_valid():
        card_type = form.cleaned_data["card_type"]
        try:
            order = services.order_submit(
                actor=user,
                employer=employer,
                employee=form.selected_employee(),
                card_type=card_type,
                photo=None if form.employee_uploads else form.normalised_photo,
                id_document=form.cleaned_data["id_document"],
                employee_uploads=form.employee_uploads,
                employee_email=form.cleaned_data["employee_email"] or None,
                submission_token=form.cleaned_data["submission_token"],
                delivery=form.delivery_address(),
            )
        except services.OrderingClosed as closed:
            form.add_error(None, closed.message)
        except catalogue.NoPriceError:
            form.add_error("card_type", _("This card type cannot be ordered right now."))
        except services.AlreadyOrdered as refusal:
            already = _already_ordered_refusal(form, refusal)
        else:
            stash.stash_discard(owner=user, keys=[kept.key for kept in form.kept.values()])
            if form.employee_uploads:
                # A repeated request returns the order without its link: keep the first's.
                if order.upload_links_issued:
                    _upload_links_remember(request, order.upload_links_issued)
                messages.success(
                    request,
                    _(
                        "The order is placed. It waits for the employee to upload the photo and ID document."
                    ),
                )
            else:
                _tell_what_happened(request, order)
            return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)
    if request.method == "POST" and step != "change":
        # The form comes back with an error: the files that were fine stay attached.
        _files_keep(user, form)
    return render(
        request,
        "orders/order_card.html",
        {
            "employer": employer,
            "form": form,
            "already": already,
            "blackout": blackout,
            "upcoming_blackouts": catalogue.blackouts_upcoming(timezone.now()),
            "price_list": billing.price_list_quotes(day=today, language=get_language()),
            "invoice_due_days": settings.INVOICE_DUE_DAYS,
            "delivery_field_names": CardOrderForm.DELIVERY_FIELDS,
        },
    )


def _already_ordered_refusal(
    form: CardOrderForm, refusal: services.AlreadyOrdered
) -> AlreadyOrderedNotice:
    """The notice above the form and the error on the employee field for a refused order."""
    form.add_error(
        "employee",
        _("%(name)s already has a card of this type with you, or an order for one.")
        % {"name": form.selected_employee().full_name},
    )
    return AlreadyOrderedNotice(
        card=refusal.card,
        line=refusal.line,
        card_type_name=form.cleaned_data["card_type"].name(get_language()),
    )


def _files_keep(user: User, form: CardOrderForm) -> None:
    """Keep the files chosen in this try (encrypted, an hour) and show them as attached."""
    for file in form.to_keep:
        key = stash.stash_put(
            owner=user,
            kind=file.kind,
            content=file.content,
            name=file.name,
            content_type=file.content_type,
        )
        form.file_kept(file, key=key)
    form.to_keep = []


def _order_check_page(
    request: HttpRequest, employer: OrganisationFacts, form: CardOrderForm, *, today: datetime.date
) -> HttpResponse:
    """Everything the order will be, and what it costs, before it is sent."""
    card_type = form.cleaned_data["card_type"]
    employee = form.selected_employee()
    delivery = billing.delivery_fields(employer=employer, given=form.delivery_address())
    return render(
        request,
        "orders/order_check.html",
        {
            "employer": employer,
            "form": form,
            "employee": employee,
            "unit_name": selectors.employer_unit_names(employer=employer).get(
                employee.employment.workplace_orgnr, ""
            ),
            "card_type_name": card_type.name(get_language()),
            "delivery": delivery,
            "quote": billing.card_type_quote(
                card_type=card_type, day=today, language=get_language()
            ),
            "photo_kept": form.kept.get(UploadStash.Kind.PHOTO),
            "id_document_kept": form.kept.get(UploadStash.Kind.ID_DOCUMENT),
            "invoice_due_days": settings.INVOICE_DUE_DAYS,
        },
    )


def _tell_what_happened(request: HttpRequest, order: Order) -> None:
    """The message after submitting says what the register check has done so far: run in the
    web process (the embedded default) the line may already be approved or rejected."""
    steps = {p.step for p in order_progress(selectors.order_lines_with_cards(order=order)).lines}
    if steps & {Step.APPROVED, Step.IN_PRODUCTION}:
        messages.success(
            request,
            _(
                "The order is placed and the card is approved. We send the order confirmation to your e-mail address."
            ),
        )
    elif Step.CHECKING in steps:
        messages.success(
            request,
            _(
                "The order is placed. We are checking the registers now; this page shows the result."
            ),
        )
    elif Step.AWAITING_REGISTRATION in steps:
        messages.info(
            request,
            _(
                "The order is placed, but Aa-registeret does not show the employment yet. We check again every day and tell you by e-mail."
            ),
        )
    elif Step.REJECTED in steps:
        messages.warning(
            request,
            _(
                "The order was not approved after the register check. See why and what fixes it below."
            ),
        )
    else:
        messages.success(request, _("The order is placed."))


def _order_or_404(employer: OrganisationFacts, order_id: int) -> Order:
    order = selectors.order_for_employer(employer_orgnr=employer.orgnr, order_id=order_id)
    if order is None:
        raise Http404
    return order


def _lines_context(employer: OrganisationFacts, order: Order) -> dict[str, object]:
    progress = order_progress(selectors.order_lines_with_cards(order=order))
    return {"employer": employer, "order": order, "progress": progress}


@employer_required
def order_detail(request: HttpRequest, employer: OrganisationFacts, order_id: int) -> HttpResponse:
    return _order_page(request, employer, _order_or_404(employer, order_id))


@not_activity
@employer_required
@require_safe
def order_lines(request: HttpRequest, employer: OrganisationFacts, order_id: int) -> HttpResponse:
    """The order page's lines, for htmx to poll: 204 while nothing has changed since `v`.

    Asked for without htmx (a bookmark, no JavaScript), it sends the person to the whole page.
    """
    order = _order_or_404(employer, order_id)
    # request.htmx is django-htmx's (HtmxMiddleware); it is true for htmx's own requests.
    if not getattr(request, "htmx", False):
        return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)
    progress = order_progress(selectors.order_lines_with_cards(order=order))
    if request.GET.get("v") == progress.version:
        return HttpResponse(status=204)
    response = render(
        request,
        "orders/_order_lines.html",
        {"employer": employer, "order": order, "progress": progress, "polled": True},
    )
    response["Cache-Control"] = "no-store"
    return response


@employer_required
@require_safe
def order_confirmation_pdf(
    request: HttpRequest, employer: OrganisationFacts, order_id: int, line_id: int
) -> HttpResponse:
    """One order line's order confirmation as a PDF (none for a rejected line)."""
    line = selectors.order_line_for_employer(
        employer_orgnr=employer.orgnr, order_id=order_id, line_id=line_id
    )
    if line is None or not line_progress(line).documents_order:
        raise Http404
    response = HttpResponse(confirmation_pdf(line), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{confirmation_filename(line)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
@never_cache
def kept_photo(request: HttpRequest, key: str) -> HttpResponse:
    """The photo kept from an order form that came back with an error, for its preview.

    Only the person who uploaded it can see it; it is decrypted on the fly, never public.
    """
    kept = stash.stash_get(owner=cast(User, request.user), kind=UploadStash.Kind.PHOTO, key=key)
    if kept is None:
        raise Http404
    response = HttpResponse(kept.content, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


# Upload links just made, by order line id, until the order page has shown them once: only
# their hashes are stored, so the session is the one place the orderer's link lives meanwhile.
UPLOAD_LINKS_SESSION_KEY = "orders.upload_links"


def _upload_links_remember(request: HttpRequest, links: dict[int, str]) -> None:
    shown = dict(request.session.get(UPLOAD_LINKS_SESSION_KEY, {}))
    shown.update({str(line_id): url for line_id, url in links.items()})
    request.session[UPLOAD_LINKS_SESSION_KEY] = shown


def _upload_links_take(request: HttpRequest, lines: list[OrderLine]) -> dict[int, str]:
    """The links made for these lines that the orderer has not been shown yet (shown once)."""
    waiting: dict[str, str] = dict(request.session.get(UPLOAD_LINKS_SESSION_KEY, {}))
    taken = {line.pk: waiting.pop(str(line.pk)) for line in lines if str(line.pk) in waiting}
    if taken:
        request.session[UPLOAD_LINKS_SESSION_KEY] = waiting
    return taken


def _order_page(
    request: HttpRequest,
    employer: OrganisationFacts,
    order: Order,
    *,
    resend_form: UploadLinkResendForm | None = None,
    resend_line_id: int | None = None,
    identity_form: IdentityConfirmForm | None = None,
    identity_line_id: int | None = None,
) -> HttpResponse:
    lines = list(order.lines.all())
    id_checks = [
        (
            line,
            identity_form
            if identity_form is not None and identity_line_id == line.pk
            else IdentityConfirmForm(prefix=f"id{line.pk}"),
        )
        for line in lines
        if line.state == OrderLine.State.AWAITING_ID_CHECK
    ]
    invoice = billing.invoice_for_employer(employer_orgnr=employer.orgnr, order_id=order.pk)
    live_links = selectors.upload_links_live(order=order)
    new_links = _upload_links_take(request, lines)
    awaiting = [
        AwaitingLine(
            line=line,
            link=live_links.get(line.pk),
            new_url=new_links.get(line.pk, ""),
            form=resend_form
            if resend_form is not None and resend_line_id == line.pk
            else UploadLinkResendForm(
                prefix=f"line{line.pk}",
                initial={"email": link.email if (link := live_links.get(line.pk)) else ""},
            ),
        )
        for line in lines
        if line.state == OrderLine.State.AWAITING_FILES
    ]
    return render(
        request,
        "orders/order_detail.html",
        {
            **_lines_context(employer, order),
            "awaiting": awaiting,
            "id_checks": id_checks,
            "form": resend_form or identity_form,
            "invoice": invoice,
            "quote": billing.invoice_quote(invoice) if invoice else None,
        },
        status=200 if resend_form is None and identity_form is None else 400,
    )


def _line_of_employer(employer: OrganisationFacts, order_id: int, line_id: int) -> OrderLine:
    line = selectors.order_line_for_employer(
        employer_orgnr=employer.orgnr, order_id=order_id, line_id=line_id
    )
    if line is None:
        raise Http404
    return line


@employer_required
@require_safe
@never_cache
def line_document(
    request: HttpRequest, employer: OrganisationFacts, order_id: int, line_id: int, kind: str
) -> HttpResponse:
    """The photo or ID document of one of the employer's order lines, decrypted on the fly
    for the orderer's check; never a public URL, never cached."""
    line = _line_of_employer(employer, order_id, line_id)
    document = {"photo": line.photo, "id-document": line.id_document}.get(kind)
    if not document:
        raise Http404
    extension = document.name.rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "png": "image/png"}.get(extension, "image/jpeg")
    response = HttpResponse(read_document(document), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@employer_required
@require_POST
def identity_confirm(
    request: HttpRequest, employer: OrganisationFacts, order_id: int, line_id: int
) -> HttpResponse:
    """The orderer has checked the ID the employee uploaded: the registers are asked next."""
    line = _line_of_employer(employer, order_id, line_id)
    form = IdentityConfirmForm(request.POST, prefix=f"id{line.pk}")
    if not form.is_valid():
        return _order_page(
            request,
            employer,
            _order_or_404(employer, order_id),
            identity_form=form,
            identity_line_id=line.pk,
        )
    try:
        employee_upload.order_line_identity_confirm(line=line, actor=cast(User, request.user))
    except employee_upload.IdentityNotAwaited:
        messages.info(request, _("This line does not wait for an identity check."))
    else:
        messages.success(request, _("Thank you. We are checking the registers now."))
    return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order_id)


@employer_required
@require_POST
def upload_link_resend(
    request: HttpRequest, employer: OrganisationFacts, order_id: int, line_id: int
) -> HttpResponse:
    """Send the employee a new upload link; the old one stops working."""
    order = selectors.order_for_employer(employer_orgnr=employer.orgnr, order_id=order_id)
    line = order.lines.filter(pk=line_id).first() if order is not None else None
    if order is None or line is None:
        raise Http404
    form = UploadLinkResendForm(request.POST, prefix=f"line{line.pk}")
    if not form.is_valid():
        return _order_page(request, employer, order, resend_form=form, resend_line_id=line.pk)
    email = form.cleaned_data["email"]
    try:
        issued = employee_upload.upload_link_resend(
            line=line, actor=cast(User, request.user), email=email
        )
    except employee_upload.NotAwaitingFiles:
        messages.info(request, _("The employee's photo and ID document are in already."))
    except employee_upload.TooManyLinks as too_many:
        messages.error(
            request,
            ngettext(
                "You have made many links in a short time. Wait %(seconds)d second and try again.",
                "You have made many links in a short time. Wait %(seconds)d seconds and try again.",
                too_many.retry_after,
            )
            % {"seconds": too_many.retry_after},
        )
    else:
        _upload_links_remember(request, {line.pk: issued.url})
        if email:
            messages.success(
                request,
                _("A new link is sent to %(email)s. The old link no longer works.")
                % {"email": email},
            )
        else:
            messages.success(request, _("A new link is made. The old link no longer works."))
    return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)


@employer_required
@require_safe
def invoice_pdf(request: HttpRequest, employer: OrganisationFacts, order_id: int) -> HttpResponse:
    invoice = billing.invoice_for_employer(employer_orgnr=employer.orgnr, order_id=order_id)
    if invoice is None:
        raise Http404
    response = HttpResponse(billing.invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invoice-{invoice.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
