"""The portal's URLs plus bench-only views, the benchmarks' baselines.

bench-ok/ is a bare view answering "ok" through the same middleware: everything a request
costs in Django and nothing else. bench-floor/<number>/ is the least a status lookup can
cost: one indexed SELECT by card number and one Redis INCR, answered as JSON.
bench-register-bare/ is the card register's layout with 50 fixed rows and no query of its
own (bench_register.py's baseline).
"""

import datetime
import functools

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path

from hmsportal import urls as portal_urls

# The register's page (templates/orders/card_list.html) without the filter form's choices
# and without the cards: the base template, the heading and a table-stack table of 50 rows.
BARE_REGISTER = """{% extends "base.html" %}{% load i18n portal %}
{% block content %}<h1>Benkbygg AS</h1><h2 class="h4">{% translate "Card register" %}</h2>
<div class="table-responsive"><table class="table align-middle table-stack">
<thead><tr><th scope="col">{% translate "Holder" %}</th><th scope="col">{% translate "Card number" %}</th><th scope="col">{% translate "Card type" %}</th><th scope="col">{% translate "Unit" %}</th><th scope="col">{% translate "Valid until" %}</th><th scope="col">{% translate "Status" %}</th></tr></thead>
<tbody>{% for row in rows %}<tr>
<td data-label="{% translate 'Holder' %}">{{ row.name }}</td>
<td data-label="{% translate 'Card number' %}"><a href="/status/{{ row.number }}/">{{ row.number|card_number }}</a></td>
<td data-label="{% translate 'Card type' %}">{{ row.card_type }}</td>
<td data-label="{% translate 'Unit' %}">{{ row.unit }}</td>
<td data-label="{% translate 'Valid until' %}">{{ row.valid_until|date:"d.m.Y" }}</td>
<td data-label="{% translate 'Status' %}">{{ row.status }}</td>
</tr>{% endfor %}</tbody></table></div>{% endblock %}"""


@functools.cache
def _bare_rows() -> list[dict[str, object]]:
    return [
        {
            "name": f"Ola Hansen {index}",
            "number": f"{100000000000 + index}",
            "card_type": "Bygg og anlegg",
            "unit": "Benkbygg AS",
            "valid_until": datetime.date(2027, 1, 1) + datetime.timedelta(days=index),
            "status": "Gyldig",
        }
        for index in range(50)
    ]


def register_bare(request: HttpRequest) -> HttpResponse:
    template = engines["django"].from_string(BARE_REGISTER)
    return HttpResponse(template.render({"rows": _bare_rows()}, request))


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


# The bench views first, then the portal's own patterns as they are, not under an include of
# hmsportal.urls: an include is one more level of resolving for every portal request, which
# production does not have (the API would pay for a level the floor never sees).
urlpatterns = [
    path("bench-ok/", ok),
    path("bench-floor/<str:number>/", floor),
    path("bench-register-bare/", register_bare),
    *portal_urls.urlpatterns,
]
handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500
