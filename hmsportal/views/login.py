"""Logging in and out: ID-porten for everyone who acts for an employer or holds a card, and
the development login (DEBUG only) that stands in for it in the demo."""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from hmsportal import contact
from hmsportal import dev_login as demo_people
from hmsportal.account import login_destination, next_url_from
from hmsportal.idporten import provider
from hmsportal.idporten.tokens import LoginRefused, RefusalReason
from hmsportal.models import User
from hmsportal.permissions import organisations_for
from registry.facts import RegisterUnavailable

logger = logging.getLogger(__name__)

# The session key that says the person logged in through ID-porten (for the logout).
LOGIN_METHOD_SESSION_KEY = "login_method"


def login_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "login.html",
        {"idporten_enabled": provider.configured(), "next": next_url_from(request)},
    )


def login_refused(request: HttpRequest, refusal: LoginRefused) -> HttpResponse:
    """A clear page in the person's language; the log says why, never who."""
    # The detail may hold text from the query string: %r keeps it on one line.
    logger.warning("ID-porten login refused: %s %r", refusal.reason, refusal.detail)
    user_login_failed.send(
        __name__, credentials={"method": "idporten", "reason": str(refusal.reason)}, request=request
    )
    status = 503 if refusal.reason == RefusalReason.PROVIDER_UNAVAILABLE else 403
    return render(
        request,
        "login_refused.html",
        {"reason": str(refusal.reason), "required_acr": settings.IDPORTEN_ACR_VALUES},
        status=status,
    )


class IdPortenLoginView(OIDCAuthenticationRequestView):
    """GET /login/idporten/: off to ID-porten with state, nonce and a PKCE challenge."""

    def __init__(self, **kwargs: Any) -> None:
        # The library reads a fixed authorization endpoint here; ours comes from discovery.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)
        self.OIDC_RP_CLIENT_ID = settings.IDPORTEN_CLIENT_ID

    def get(self, request: HttpRequest) -> HttpResponse:
        if not provider.configured():
            raise Http404("ID-porten is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.metadata().authorization_endpoint
        except provider.ProviderUnavailable as error:
            return login_refused(
                request, LoginRefused(RefusalReason.PROVIDER_UNAVAILABLE, str(error))
            )
        return super().get(request)

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        return {
            "acr_values": settings.IDPORTEN_ACR_VALUES,
            "ui_locales": "en" if (get_language() or "").startswith("en") else "nb",
        }


class IdPortenCallbackView(OIDCAuthenticationCallbackView):
    """GET /login/idporten/callback/: the code back from ID-porten, exchanged and checked."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not provider.configured():
            raise Http404("ID-porten is not configured.")
        try:
            return super().get(request)
        except LoginRefused as refusal:
            return login_refused(request, refusal)
        except SuspiciousOperation as error:
            # A state the session does not know: a replayed callback, or a login started in
            # another browser or before the session expired.
            return login_refused(request, LoginRefused(RefusalReason.STATE, str(error)))

    @property
    def success_url(self) -> str:
        next_url = self.request.session.get("oidc_login_next") or ""
        return _after_login_url(next_url)

    def login_success(self) -> HttpResponse:
        # Logging a person in over another's session empties the session, and with it the ID
        # token the logout needs to end this person's ID-porten session.
        id_token = self.request.session.get("oidc_id_token")
        response = super().login_success()
        self.request.session["oidc_id_token"] = id_token
        self.request.session[LOGIN_METHOD_SESSION_KEY] = "idporten"
        return response

    def login_failure(self) -> HttpResponse:
        error = self.request.GET.get("error", "")
        if error == "access_denied":
            refusal = LoginRefused(RefusalReason.CANCELLED, "the person cancelled")
        elif error:
            description = self.request.GET.get("error_description", "")[:200]
            refusal = LoginRefused(RefusalReason.PROVIDER_ERROR, f"{error}: {description}")
        elif getattr(self, "user", None) is not None:
            # ID-porten proved who it is, but the account has been deactivated here.
            refusal = LoginRefused(RefusalReason.BLOCKED, f"user {self.user.pk} is not active")
        else:
            refusal = LoginRefused(RefusalReason.STATE, "no login under way in this session")
        return login_refused(self.request, refusal)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the portal's session, then ID-porten's when the person came from there.

    ID-porten is single sign-on: without its end_session_endpoint the next login on a shared
    computer logs the last person in silently. The ID token goes to ID-porten in a POSTed
    form (RP-Initiated Logout allows it), not in a URL: it holds the identity number, and a
    URL stays in the browser's history.
    """
    came_from_idporten = request.session.get(LOGIN_METHOD_SESSION_KEY) == "idporten"
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    done = reverse("logged_out")
    if not (came_from_idporten and id_token and provider.configured()):
        return redirect(f"{done}?{urlencode({'from': 'portal'})}")
    try:
        endpoint = provider.metadata().end_session_endpoint
    except provider.ProviderUnavailable as error:
        logger.warning("ID-porten did not answer at logout: %s", error)
        endpoint = ""
    if not endpoint:
        return redirect(f"{done}?{urlencode({'idporten': 'unavailable'})}")
    response = render(
        request,
        "logout_idporten.html",
        {
            "end_session_endpoint": endpoint,
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(done),
        },
    )
    # The only form that posts to another site: the Content-Security-Policy's form-action
    # ('self') lets this page alone post to ID-porten, whose address comes from discovery.
    response._csp_update = {"form-action": [_origin(endpoint)]}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@require_GET
def logged_out(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "logged_out.html",
        {
            "idporten_unavailable": request.GET.get("idporten") == "unavailable",
            "portal_only": request.GET.get("from") == "portal",
        },
    )


@require_http_methods(["GET", "POST"])
def dev_login(request: HttpRequest) -> HttpResponse:
    """Development login: pick a demo person of any kind. DEBUG only."""
    if not settings.DEV_LOGIN_ENABLED:
        raise Http404
    if request.method == "POST":
        user = demo_people.demo_user(
            national_id=request.POST.get("national_id", ""),
            staff_username=request.POST.get("staff", ""),
        )
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[LOGIN_METHOD_SESSION_KEY] = "dev"
            return redirect(_after_login_url(next_url_from(request)))
    return render(
        request,
        "dev_login.html",
        {"groups": demo_people.demo_people(), "next": next_url_from(request)},
    )


def _after_login_url(next_url: str) -> str:
    url = reverse("after_login")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _start_page(user: User) -> str:
    """Where a person starts: their organisations if they act for any, else their own cards."""
    if user.national_id:
        try:
            acts_for_organisations = bool(organisations_for(user))
        except RegisterUnavailable:
            acts_for_organisations = True  # the organisations page says the register is down
        return "orders:organisation_list" if acts_for_organisations else "cardholder:my_cards"
    return "cards:print_queue" if user.is_staff else "home"


@login_required
@require_GET
def after_login(request: HttpRequest) -> HttpResponse:
    """Where every login lands: the language the person uses is remembered (or the one they
    chose last time is put back), and a person who has given no e-mail address is asked for
    one before going on to the page they wanted or their start page."""
    user = cast(User, request.user)
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in dict(settings.LANGUAGES):
        user = contact.user_language_set(user=user, language=chosen)
    next_url = next_url_from(request)
    response = redirect(login_destination(user, next_url or _start_page(user)))
    if not chosen:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
