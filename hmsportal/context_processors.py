from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
    }
