"""Ordering pages: thin views that check access, validate a form and call one service."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cards import catalogue
from cards import selectors as card_selectors
from cards import services as card_services
from cards.models import Card
from hmsportal.account import (
    contact_confirmation_redirect,
    contact_confirmed_required,
    contact_details_url,
)
from hmsportal.middleware import not_activity
from hmsportal.models import User
from hmsportal.permissions import can_delegate, employer_required, organisations_for
from hmsportal.services import LookupsExhausted, organisation_claim
from orders import billing, card_register, employee_upload, selectors, services, stash
from orders.card_register import CardRegisterForm
from orders.confirmations import confirmation_filename, confirmation_pdf
from orders.forms import (
    CardOrderForm,
    CardRevokeForm,
    DelegationForm,
    OrganisationLookupForm,
    UploadLinkResendForm,
    employee_reference,
    employee_reference_for,
)
from orders.models import EmployeeUploadLink, Order, OrderLine, UploadStash
from orders.progress import Step, line_progress, order_progress
from registry import selectors as registry_selectors
from registry.facts import EmployeeListing, OrganisationFacts, RegisterUnavailable
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
class EmployeeRow:
    employee: EmployeeListing
    unit_name: str
    line: OrderLine | None
    live_cards: list[Card]
    reference: str  # for the order link: never the identity number in a URL
    orderable_from: datetime.date | None

    @property
    def open_line(self) -> OrderLine | None:
        """The person's newest order line while it is not decided yet."""
        return self.line if self.line and self.line.state in OrderLine.OPEN_STATES else None


@dataclass(frozen=True)
class AlreadyOrderedNotice:
    """Why an order was refused: the person's live card of the type, or their open order."""

    card: Card | None
    line: OrderLine | None
    card_type_name: str


def _unit_names(employer: OrganisationFacts) -> dict[str, str]:
    """The employer's units by number: the main unit and its sub-units, by name."""
    names = {u.orgnr: u.name for u in registry_selectors.sub_units_list(main_orgnr=employer.orgnr)}
    names[employer.orgnr] = employer.name
    return names


@login_required
@require_http_methods(["GET", "POST"])
def organisation_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    # POST: looking an organisation up may ask Enhetsregisteret and record its roles.
    form = OrganisationLookupForm(request.POST or None)
    retry_after: int | None = None
    if form.is_valid():
        register_down = False
        try:
            employer = organisation_claim(user=user, orgnr=form.cleaned_data["orgnr"])
        except LookupsExhausted as exhausted:
            employer, retry_after = None, exhausted.retry_after
        except RegisterUnavailable:
            employer, register_down = None, True
            messages.warning(
                request, _("Enhetsregisteret is not answering right now. Try again in a while.")
            )
        if employer is not None:
            return redirect("orders:employer", orgnr=employer.orgnr)
        if retry_after is not None:
            form.add_error(
                "orgnr",
                ngettext(
                    "You have looked up many organisations in a short time. Wait %(seconds)d second and try again.",
                    "You have looked up many organisations in a short time. Wait %(seconds)d seconds and try again.",
                    retry_after,
                )
                % {"seconds": retry_after},
            )
        elif not register_down:
            form.add_error(
                "orgnr",
                _(
                    "You cannot order cards for this organisation. Ask someone with a role in it to give you access."
                ),
            )
    try:
        employers = organisations_for(user)
    except RegisterUnavailable:
        return render(request, "register_unavailable.html", status=503)
    response = render(
        request,
        "orders/organisation_list.html",
        {"employers": employers, "form": form},
        status=200 if retry_after is None else 429,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@employer_required
def employer_overview(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    employees = registry_selectors.employees_list(main_orgnr=employer.orgnr)
    latest_lines = selectors.latest_line_by_person(employer_orgnr=employer.orgnr)
    live_cards = card_selectors.live_cards_by_holder(employer_orgnr=employer.orgnr)
    unit_names = _unit_names(employer)
    today = timezone.localdate()
    rows = [
        EmployeeRow(
            employee=e,
            unit_name=unit_names.get(e.employment.workplace_orgnr, ""),
            line=latest_lines.get(e.employment.national_id),
            live_cards=live_cards.get(e.employment.national_id, []),
            reference=employee_reference(e),
            orderable_from=opens if (opens := order_opens_on(e.employment.start)) > today else None,
        )
        for e in employees
    ]
    return render(
        request,
        "orders/employer.html",
        {
            "employer": employer,
            "rows": rows,
            "orders": selectors.orders_for_employer(employer_orgnr=employer.orgnr)[:20],
        },
    )


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
        unit_names=_unit_names(employer),
        owner=user,
    )
    if not form.is_bound:
        form.initial["employee"] = form.choice_for_reference(request.GET.get("employee", ""))
    blackout = catalogue.blackout_at(timezone.now())
    already: AlreadyOrderedNotice | None = None
    if request.method == "POST" and form.is_valid():
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
            already = AlreadyOrderedNotice(
                card=refusal.card,
                line=refusal.line,
                card_type_name=card_type.name(get_language()),
            )
            form.add_error(
                "employee",
                _("%(name)s already has a card of this type with you, or an order for one.")
                % {"name": form.selected_employee().full_name},
            )
        else:
            stash.stash_discard(owner=user, keys=[kept.key for kept in form.kept.values()])
            if form.employee_uploads:
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
    if request.method == "POST":
        # The form comes back with an error: the files that were fine stay attached.
        for file in form.to_keep:
            key = stash.stash_put(
                owner=user,
                kind=file.kind,
                content=file.content,
                name=file.name,
                content_type=file.content_type,
            )
            form.file_kept(file, key=key)
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
) -> HttpResponse:
    lines = list(order.lines.all())
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
            "form": resend_form,
            "invoice": invoice,
            "quote": billing.invoice_quote(invoice) if invoice else None,
        },
        status=200 if resend_form is None else 400,
    )


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


def _register_form(
    request: HttpRequest, employer: OrganisationFacts
) -> tuple[CardRegisterForm, dict[str, str]]:
    """The register's filter form from the query string, and the employer's units by number."""
    try:
        sub_units = registry_selectors.sub_units_list(main_orgnr=employer.orgnr)
    except RegisterUnavailable:
        sub_units = []  # the cards can still be listed; only the unit names are missing
    unit_names = {unit.orgnr: unit.name for unit in sub_units}
    unit_names[employer.orgnr] = employer.name
    return CardRegisterForm(request.GET, employer=employer, sub_units=sub_units), unit_names


def _register_page(
    request: HttpRequest,
    employer: OrganisationFacts,
    form: CardRegisterForm,
    unit_names: dict[str, str],
) -> HttpResponse:
    valid = form.is_valid()
    today = timezone.localdate()
    cards = card_selectors.card_register(
        employer_orgnr=employer.orgnr, wanted=form.register_filter(), today=today
    )
    page = Paginator(cards, card_register.PAGE_SIZE).get_page(form.page_number())
    # The pager's and the exports' links keep the filter; the page number is the pager's.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/card_list.html",
        {
            "employer": employer,
            "form": form,
            "page": page,
            "rows": card_register.register_rows(
                page.object_list, today=today, unit_names=unit_names
            ),
            "today": today,
            "query": query.urlencode(),
        },
        status=200 if valid else 400,
    )


@employer_required
@require_safe
def card_list(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    """The card register: every card of the employer, searched, filtered, sorted, paged."""
    form, unit_names = _register_form(request, employer)
    return _register_page(request, employer, form, unit_names)


def _export(
    request: HttpRequest, employer: OrganisationFacts
) -> tuple[QuerySet[Card], dict[str, str]] | HttpResponse:
    """The cards to export (the register's filter), or the register page with the errors."""
    form, unit_names = _register_form(request, employer)
    if not form.is_valid():
        return _register_page(request, employer, form, unit_names)
    cards = card_selectors.card_register(
        employer_orgnr=employer.orgnr, wanted=form.register_filter(), today=timezone.localdate()
    )
    return cards, unit_names


def _export_filename(employer: OrganisationFacts, extension: str) -> str:
    return f"hms-cards-{employer.orgnr}-{timezone.localdate():%Y-%m-%d}.{extension}"


@employer_required
@require_safe
def card_export_csv(request: HttpRequest, employer: OrganisationFacts) -> HttpResponseBase:
    """The filtered register as CSV for Excel (UTF-8 with BOM, semicolons), streamed."""
    found = _export(request, employer)
    if isinstance(found, HttpResponse):
        return found
    cards, unit_names = found
    rows = card_register.export_rows(
        cards, unit_names=unit_names, language=get_language(), today=timezone.localdate()
    )
    response = StreamingHttpResponse(
        card_register.csv_chunks(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(employer, "csv")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@employer_required
@require_safe
def card_export_xlsx(request: HttpRequest, employer: OrganisationFacts) -> HttpResponseBase:
    """The filtered register as an Excel workbook (openpyxl, write-only), streamed from disk."""
    found = _export(request, employer)
    if isinstance(found, HttpResponse):
        return found
    cards, unit_names = found
    rows = card_register.export_rows(
        cards, unit_names=unit_names, language=get_language(), today=timezone.localdate()
    )
    response = FileResponse(
        card_register.xlsx_file(rows),
        as_attachment=True,
        filename=_export_filename(employer, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@employer_required
def card_detail(request: HttpRequest, employer: OrganisationFacts, number: str) -> HttpResponse:
    card = card_selectors.card_for_employer(employer_orgnr=employer.orgnr, number=number)
    if card is None:
        raise Http404
    form = CardRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = cast(User, request.user)
        reason = form.cleaned_data["reason"]
        if form.cleaned_data["replace"]:
            try:
                replacement = card_services.card_replace(card=card, actor=actor, reason=reason)
            except card_services.TransitionNotAllowed:
                form.add_error(
                    "replace",
                    _(
                        "Only a valid card can be replaced. Revoke this one, and order a new card when the registers are in order."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Card %(old)s is revoked. The replacement card has number %(new)s.")
                    % {"old": card.number, "new": replacement.number},
                )
                return redirect(
                    "orders:card_detail", orgnr=employer.orgnr, number=replacement.number
                )
        else:
            try:
                card_services.card_revoke(card=card, reason=reason, actor=actor)
            except card_services.TransitionNotAllowed:
                form.add_error(
                    None, _("This card cannot be revoked: it is already revoked or has expired.")
                )
            else:
                messages.success(
                    request, _("Card %(number)s is revoked.") % {"number": card.number}
                )
                return redirect("orders:card_detail", orgnr=employer.orgnr, number=card.number)
    today = timezone.localdate()
    return render(
        request,
        "orders/card_detail.html",
        {
            "employer": employer,
            "card": card,
            "form": form,
            "employee_reference": employee_reference_for(
                national_id=card.holder_national_id, workplace_orgnr=card.workplace_orgnr
            ),
            "history": selectors.card_history(card=card, viewer=cast(User, request.user)),
            "lookups": selectors.card_register_checks(card=card),
            "unit_name": _unit_names(employer).get(card.workplace_orgnr, ""),
            "reason_codes": card.reason_codes_on(today),
            "today": today,
            "can_revoke": card.state in card_services.REVOCABLE_STATES,
        },
    )


@employer_required
def delegation_list(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    actor = cast(User, request.user)
    may_delegate = can_delegate(actor, employer)
    form = DelegationForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST":
        if not may_delegate:
            raise PermissionDenied
        if "revoke" in request.POST:
            revoke_id = request.POST["revoke"]
            delegation = (
                selectors.delegations_for_employer(employer_orgnr=employer.orgnr)
                .filter(pk=int(revoke_id))
                .first()
                if revoke_id.isascii() and revoke_id.isdigit() and len(revoke_id) < 18
                else None
            )
            if delegation is None:
                raise Http404
            services.delegation_revoke(actor=actor, delegation=delegation)
            messages.success(request, _("The access is removed."))
            return redirect("orders:delegations", orgnr=employer.orgnr)
        # Giving access sends mail to the person who gives it (issue 8); removing it does not.
        gate = contact_confirmation_redirect(request)
        if gate is not None:
            return gate
        if form.is_valid():
            try:
                services.delegation_grant(
                    actor=actor,
                    employer=employer,
                    grantee_national_id=form.cleaned_data["national_id"],
                    grantee_name=form.cleaned_data["name"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_until=form.cleaned_data["valid_until"],
                )
            except services.DelegationError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The access is given."))
                return redirect("orders:delegations", orgnr=employer.orgnr)
    return render(
        request,
        "orders/delegations.html",
        {
            "employer": employer,
            "form": form,
            "may_delegate": may_delegate,
            "contact_confirmed": bool(actor.confirmed_email),
            "contact_details_url": contact_details_url(request.get_full_path()),
            "delegations": selectors.delegations_for_employer(employer_orgnr=employer.orgnr),
        },
    )


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
