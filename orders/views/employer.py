"""Ordering pages: thin views that check access, validate a form and call one service."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
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
from django.views.decorators.http import require_http_methods, require_safe

from cards import selectors as card_selectors
from cards import services as card_services
from cards.models import Card
from cards.numbers import display
from cards.standing import card_standing
from hmsportal import outage
from hmsportal.account import (
    contact_confirmation_redirect,
    contact_details_url,
)
from hmsportal.models import User
from hmsportal.permissions import (
    delegating_grant,
    employer_required,
    is_key_role_holder,
    organisations_for,
)
from hmsportal.services import LookupsExhausted, organisation_claim
from orders import billing, card_register, renewals, selectors, services
from orders.card_register import CardRegisterForm
from orders.forms import (
    CardRevokeForm,
    DelegationForm,
    OrganisationLookupForm,
    RenewalForm,
    employee_reference,
    employee_reference_for,
)
from orders.models import OrderLine
from registry import selectors as registry_selectors
from registry.facts import EmployeeListing, OrganisationFacts, RegisterUnavailable
from registry.rules import order_opens_on


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
        except RegisterUnavailable as error:
            employer, register_down = None, True
            messages.warning(
                request,
                _("%(register)s is not answering right now. Try again in a while.")
                % {"register": registry_selectors.register_display_name(register=error.register)},
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
    except RegisterUnavailable as error:
        return outage.register_unavailable(request, error)
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
    unit_names = selectors.employer_unit_names(employer=employer)
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


def _register_form(
    request: HttpRequest, employer: OrganisationFacts
) -> tuple[CardRegisterForm, dict[str, str]]:
    """The register's filter form from the query string, and the employer's units by number."""
    try:
        sub_units = registry_selectors.sub_units_list(main_orgnr=employer.orgnr)
    except RegisterUnavailable:
        sub_units = []  # the cards can still be listed; only the unit names are missing
    unit_names = selectors.unit_names_of(employer=employer, sub_units=sub_units)
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
                    request, _("Card %(number)s is revoked.") % {"number": display(card.number)}
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
            "checks": selectors.card_register_checks(card=card),
            "unit_name": selectors.employer_unit_names(employer=employer).get(
                card.workplace_orgnr, ""
            ),
            "reason_codes": card.reason_codes_on(today),
            "standing": card_standing(card, today=today),
            "today": today,
            "can_revoke": card.state in card_services.REVOCABLE_STATES,
        },
    )


@employer_required
def delegation_list(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    actor = cast(User, request.user)
    key_role = is_key_role_holder(actor, employer)
    may_delegate = key_role or delegating_grant(actor, employer) is not None
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
            # A delegate who may give access removes only what they gave themselves.
            if delegation is None or not (key_role or delegation.granted_by_id == actor.pk):
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
                    grantee_email=form.cleaned_data["email"],
                    may_grant_further=form.cleaned_data["may_grant_further"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_until=form.cleaned_data["valid_until"],
                    through=None if key_role else delegating_grant(actor, employer),
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
            "key_role": key_role,
            "contact_confirmed": bool(actor.confirmed_email),
            "contact_details_url": contact_details_url(request.get_full_path()),
            "delegations": selectors.delegations_for_employer(employer_orgnr=employer.orgnr),
        },
    )


@employer_required
@require_http_methods(["GET", "HEAD", "POST"])
def delegation_confirm(
    request: HttpRequest, employer: OrganisationFacts, delegation_id: int
) -> HttpResponse:
    """A current key-role holder confirms or removes a flagged grant (the nightly review
    flags those whose grantor no longer holds a key role)."""
    actor = cast(User, request.user)
    if not is_key_role_holder(actor, employer):
        raise Http404
    delegation = (
        selectors.delegations_for_employer(employer_orgnr=employer.orgnr)
        .filter(pk=delegation_id)
        .first()
    )
    if delegation is None:
        raise Http404
    if delegation.revoked_at is not None or delegation.flagged_at is None:
        messages.info(request, _("This access needs no confirmation."))
        return redirect("orders:delegations", orgnr=employer.orgnr)
    if request.method == "POST":
        if request.POST.get("decision") == "confirm":
            services.delegation_confirm(actor=actor, delegation=delegation)
            messages.success(request, _("The access is confirmed."))
            return redirect("orders:delegations", orgnr=employer.orgnr)
        if request.POST.get("decision") == "revoke":
            services.delegation_revoke(actor=actor, delegation=delegation)
            messages.success(request, _("The access is removed."))
            return redirect("orders:delegations", orgnr=employer.orgnr)
        messages.error(request, _("Choose whether to keep or remove the access."))
    return render(
        request,
        "orders/delegation_confirm.html",
        {
            "employer": employer,
            "delegation": delegation,
            "ends_on": timezone.localtime(
                delegation.flagged_at + datetime.timedelta(days=settings.DELEGATION_CONFIRM_DAYS)
            ).date(),
        },
    )


@employer_required
@require_http_methods(["GET", "HEAD", "POST"])
def card_renew(request: HttpRequest, employer: OrganisationFacts) -> HttpResponse:
    """Renew the expiring cards (settings.CARD_EXPIRING_WITHIN_DAYS) in one order, after
    seeing them and the price."""
    actor = cast(User, request.user)
    today = timezone.localdate()
    cards = list(selectors.renewable_cards(employer_orgnr=employer.orgnr, today=today))
    form = RenewalForm(
        request.POST if request.method == "POST" else None,
        card_ids=[card.pk for card in cards],
        initial={"cards": [card.pk for card in cards]},
    )
    if request.method == "POST":
        gate = contact_confirmation_redirect(request)
        if gate is not None:
            return gate
        if form.is_valid():
            chosen = set(form.cleaned_data["cards"])
            try:
                order = renewals.order_submit_renewals(
                    actor=actor,
                    employer=employer,
                    cards=[card for card in cards if card.pk in chosen],
                )
            except (renewals.NothingToRenew, services.OrderingClosed) as error:
                form.add_error(None, getattr(error, "message", str(error)))
            except services.AlreadyOrdered:
                form.add_error(None, _("A card you chose was ordered meanwhile. Check the list."))
            else:
                waiting = len(order.upload_links_issued)
                messages.success(
                    request,
                    ngettext(
                        "The renewal is ordered.",
                        "The renewals are ordered.",
                        len(chosen),
                    ),
                )
                if waiting:
                    messages.info(
                        request,
                        ngettext(
                            "%(count)s card needs a new photo: send the employee the link "
                            "from the order.",
                            "%(count)s cards need a new photo: send the employees the link "
                            "from the order.",
                            waiting,
                        )
                        % {"count": waiting},
                    )
                return redirect("orders:order_detail", orgnr=employer.orgnr, order_id=order.pk)
    language = get_language()
    rows = []
    prices: list[Decimal] = []
    for card in cards:
        price = billing.card_type_quote(card_type=card.card_type, day=today, language=language)
        if price is not None:
            prices.append(price.lines[0].amounts.incl_vat)
        rows.append(
            {
                "card": card,
                "price": price.lines[0].amounts.incl_vat if price else None,
                "new_photo": not renewals.renewal_photo_reusable(card, today=today),
            }
        )
    postage_quote = (
        billing.card_type_quote(card_type=cards[0].card_type, day=today, language=language)
        if cards
        else None
    )
    postage = postage_quote.postage.incl_vat if postage_quote else None
    total = sum(prices, postage) if postage is not None and len(prices) == len(rows) else None
    return render(
        request,
        "orders/card_renew.html",
        {
            "employer": employer,
            "expiring_days": card_selectors.expiring_within_days(),
            "form": form,
            "rows": rows,
            "chosen": {
                int(value)
                for value in (form["cards"].value() or [])
                if str(value).isascii() and str(value).isdigit() and len(str(value)) < 18
            },
            "postage": postage,
            "total": total,
            "photo_max_years": settings.RENEWAL_PHOTO_MAX_AGE_DAYS // 365,
        },
    )
