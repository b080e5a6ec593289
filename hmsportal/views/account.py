"""The person's own account: contact details, confirming an e-mail address, and language."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language as django_set_language

from hmsportal import contact
from hmsportal.account import (
    contact_details_url,
    next_asks_for_confirmed_email,
    next_url_from,
)
from hmsportal.forms import ContactDetailsForm
from hmsportal.models import User
from hmsportal.phone import mobile_display


def _current_language() -> str:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return User.Language.EN if language.startswith("en") else User.Language.NB


@login_required
@require_http_methods(["GET", "POST"])
def contact_details(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    next_url = next_url_from(request)
    if request.method == "POST" and "resend" in request.POST:
        try:
            user = contact.email_confirmation_resend(user=user)
        except contact.TooManyLinks as too_many:
            messages.warning(request, _too_many_links(too_many.retry_after))
            return redirect(contact_details_url(next_url))
        if user.pending_email:
            messages.success(
                request,
                _("We have sent the link again to %(email)s.") % {"email": user.pending_email},
            )
        return redirect(contact_details_url(next_url))
    form = ContactDetailsForm(
        request.POST or None,
        initial={
            "email": user.pending_email or user.email,
            "mobile": mobile_display(user.mobile),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = contact.contact_details_update(
                user=user,
                email=form.cleaned_data["email"],
                mobile=form.cleaned_data["mobile"],
                language=_current_language(),
            )
        except contact.TooManyLinks as too_many:
            form.add_error("email", _too_many_links(too_many.retry_after))
            return _contact_details_page(request, form, user, next_url, status=429)
        if user.pending_email:
            messages.success(
                request,
                _(
                    "We have sent a link to %(email)s. Open the e-mail and click the link to confirm the address."
                )
                % {"email": user.pending_email},
            )
            return redirect(contact_details_url(next_url))
        messages.success(request, _("Your contact details are saved."))
        return redirect(next_url or contact_details_url())
    return _contact_details_page(request, form, user, next_url)


def _contact_details_page(
    request: HttpRequest, form: ContactDetailsForm, user: User, next_url: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "hmsportal/contact_details.html",
        {
            "form": form,
            "next": next_url,
            # Without any address, the way on is offered only to a page that does not ask for one.
            "next_asks_for_email": bool(next_url) and next_asks_for_confirmed_email(next_url),
            "confirmed_email": user.confirmed_email,
            "pending_email": user.pending_email,
            "max_age_days": settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS,
        },
        status=status,
    )


def _too_many_links(retry_after: int) -> str:
    return ngettext(
        "You have asked for many links in a short time. Wait %(seconds)d second and try again.",
        "You have asked for many links in a short time. Wait %(seconds)d seconds and try again.",
        retry_after,
    ) % {"seconds": retry_after}


@require_http_methods(["GET", "POST"])
def contact_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an address from the mailed link; no login needed (it may be opened on a phone).

    Opening the link shows a button, and only pressing it (a POST) confirms: mail filters
    open links to scan them, and that must not confirm an address someone mistyped.
    """
    try:
        if request.method == "POST":
            user = contact.email_confirm(token=token)
            return render(
                request,
                "hmsportal/contact_confirmed.html",
                {"email": user.confirmed_email, "for_this_user": request.user == user},
            )
        link = contact.confirmation_link_read(token=token)
    except contact.LinkRefused as refused:
        return render(
            request,
            "hmsportal/contact_confirm_refused.html",
            {
                "problem": refused.problem.value,
                "max_age_days": settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS,
            },
            status=400,
        )
    return render(request, "hmsportal/contact_confirm.html", {"email": link.email})


# Without CSRF, like Django's own view was mounted before: changing the display language is
# harmless, and the token the form would need sets a cookie on every public page.
@csrf_exempt
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, and for a logged-in person the choice is remembered on them,
    so that mail to them is written in it."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if (
        request.method == "POST"
        and isinstance(user, User)
        and language in {code for code, _name in settings.LANGUAGES}
    ):
        contact.user_language_set(user=user, language=language)
    return response
