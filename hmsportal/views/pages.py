"""Project-level pages: the front page, login and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from hmsportal.services import user_for_person
from registry import selectors as registry_selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def login_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "login.html")


@require_http_methods(["GET", "POST"])
def dev_login(request: HttpRequest) -> HttpResponse:
    """Development login: pick a demo person who holds a key role. Embedded/DEBUG only."""
    if not settings.DEV_LOGIN_ENABLED:
        raise Http404
    people = registry_selectors.key_role_holders()
    if request.method == "POST":
        person = people.filter(national_id=request.POST.get("national_id", "")).first()
        if person is not None:
            user = user_for_person(national_id=person.national_id, full_name=person.full_name)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "dev_login.html", {"people": people})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
