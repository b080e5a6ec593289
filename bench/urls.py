"""The portal's URLs plus two bench-only views, the status benchmark's baselines.

bench-ok/ is a bare view answering "ok" through the same middleware: everything a request
costs in Django and nothing else. bench-floor/<number>/ is the least a status lookup can
cost: one indexed SELECT by card number and one Redis INCR, answered as JSON.
"""

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def floor(request: HttpRequest, number: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT number, state, valid_until FROM cards_card WHERE number = %s", [number]
        )
        row = cursor.fetchone()
    # The raw client: one round trip, as a rate-limit counter at its cheapest would be.
    key = cache.make_and_validate_key("bench-floor")
    cache._cache.get_client(key, write=True).incr(key)  # type: ignore[attr-defined]
    if row is None:
        return JsonResponse({"status": "not_found"}, status=404)
    return JsonResponse({"card_number": row[0], "state": row[1], "valid_until": str(row[2])})


urlpatterns = [
    path("bench-ok/", ok),
    path("bench-floor/<str:number>/", floor),
    path("", include("hmsportal.urls")),
]
