"""Access to the card office's back-office pages (print queue, batches, registers): staff only.

Kept apart from permissions.py (who may act for which organisation), which depends on the
orders app: the back office is used by cards and registry, which must not depend on orders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Anonymous users go to the login page; signed-in users who are not staff get 403.

    Unlike admin's staff_member_required, a signed-in employer is told plainly that the page
    is not for them instead of being sent to the admin login.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied(_("This page is for the card office's staff."))
        return view(request, *args, **kwargs)

    return wrapper
