"""Where a person is sent until they have given and confirmed an e-mail address.

Ordering cards and giving access send mail to the person acting (issue 8: orders,
delegations, reminders), so those pages ask for a confirmed address first. Nothing else is
gated: people can look around, check cards and change their details without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hmsportal.models import User

P = ParamSpec("P")
ASKS_FOR_CONFIRMED_EMAIL = "asks_for_confirmed_email"


def contact_details_url(next_url: str | None = None) -> str:
    """The contact details page, coming back to next_url once the address is confirmed."""
    url = reverse("contact_details")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def next_url_from(request: HttpRequest) -> str:
    """The page to go on to (POST or GET `next`): a path on this site, or "" for anything else.

    Only paths: a bare word would be taken for a URL name further on, and another host is an
    open redirect.
    """
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else ""


def login_destination(user: User, default_url: str) -> str:
    """Where to go after logging in: the contact details page for a person who has given no
    e-mail address yet (neither confirmed nor waiting), else default_url (a URL or URL name)."""
    destination = resolve_url(default_url)
    if user.confirmed_email or user.pending_email:
        return destination
    return contact_details_url(destination)


def contact_confirmation_redirect(request: HttpRequest) -> HttpResponse | None:
    """A redirect to the contact details page when the logged-in person has no confirmed
    e-mail address, with a message saying why; None when they have one."""
    user = request.user
    if not isinstance(user, User) or user.confirmed_email:
        return None
    messages.warning(
        request,
        _(
            "Confirm your e-mail address before you order cards or give others access. We send you e-mail about orders and access."
        ),
    )
    return redirect(contact_details_url(request.get_full_path()))


def contact_confirmed_required(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Send a logged-in person without a confirmed e-mail address to the contact details page.

    Put it inside login_required or employer_required, so that access is decided first.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        gate = contact_confirmation_redirect(request)
        if gate is not None:
            return gate
        return view(request, *args, **kwargs)

    # Read by next_asks_for_confirmed_email; functools.wraps carries it through outer decorators.
    setattr(wrapper, ASKS_FOR_CONFIRMED_EMAIL, True)
    return wrapper


def next_asks_for_confirmed_email(next_url: str) -> bool:
    """Whether the page at next_url (a path) sends people without a confirmed address back to
    the contact details page: going on there without one would only come back."""
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return False
    return bool(getattr(match.func, ASKS_FOR_CONFIRMED_EMAIL, False))
