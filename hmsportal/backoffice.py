"""Access to the card office's back-office pages (print queue, batches, registers): staff only.

Kept apart from permissions.py (who may act for which organisation), which depends on the
orders app: the back office is used by cards and registry, which must not depend on orders.

Outside DEBUG (STAFF_SECOND_FACTOR_REQUIRED) a staff session must also have been verified
with a second factor: a TOTP code typed at the admin login (django-otp).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device


def session_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Has this session's user given a second factor (django-otp's OTPMiddleware says)?"""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def has_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Does the user have a confirmed authenticator (TOTP) device to log in with?"""
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))


def second_factor_missing(request: HttpRequest) -> HttpResponse:
    """403 in the portal's layout: a staff account without a second factor, and what to do."""
    return render(request, "errors/second_factor_missing.html", status=403)


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Anonymous users go to the login page; signed-in users who are not staff get 403.

    Unlike admin's staff_member_required, a signed-in employer is told plainly that the page
    is not for them instead of being sent to the admin login. With the second factor
    required, staff who have not given it are sent to the admin login (password and code);
    staff with no authenticator set up are told how to get one.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(_("This page is for the card office's staff."))
        if settings.STAFF_SECOND_FACTOR_REQUIRED and not session_verified(user):
            if not has_second_factor(user):
                return second_factor_missing(request)
            return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper
