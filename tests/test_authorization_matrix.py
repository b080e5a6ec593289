"""Every URL the portal answers, tried by every kind of visitor (issue 11, point 2).

The routes come from Django's URL resolver, so a new URL without a row in ROUTES fails
`test_every_route_has_a_row`. Each row says how to fill the URL with organisation A's objects
and what each visitor gets for GET and POST: the page (200), a redirect to its own next step,
405 for a method the page does not take; or, when refused, the login page (anonymous), the
portal's own 403 page, or the portal's 404 page (an organisation or object the visitor may not
see answers like one that does not exist: STYLE.md §4). A refused request must change nothing:
the main tables' rows and the audit trail are the same before and after.

The visitors: anonymous, a key-role holder of A (daglig leder in the small dataset), a
delegate of A, a cardholder at A (no role, no grant), a key-role holder of another
organisation B, and the card office's staff (with a second factor given, as outside DEBUG).

The data (tests/portal_world.py) are made once per module; each test runs in a savepoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.datasets import EMPLOYER
from tests.portal_world import (  # noqa: F401 (the *_fixture names are the module's fixtures)
    ANONYMOUS,
    CARDHOLDER,
    DELEGATE_A,
    KEY_A,
    KEY_B,
    ROLES,
    STAFF,
    World,
    client_as,
    module_media_fixture,
    snapshot,
    world_fixture,
)

# --- What each visitor gets.

OK = 200
REDIRECT = 302  # to the page's own next step, never to the login
LOGIN = "login"  # 302 to the login page
ADMIN_LOGIN = "admin_login"  # 302 to the admin's login page
FORBIDDEN = 403  # the portal's own 403 page
NOT_FOUND = 404  # the portal's own 404 page
NOT_ALLOWED = 405
BAD_REQUEST = 400

Outcome = int | str
DENIED = {LOGIN, ADMIN_LOGIN, FORBIDDEN, NOT_FOUND}


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, outcome)


def logged_in(outcome: Outcome) -> dict[str, Outcome]:
    return {**everyone(outcome), ANONYMOUS: LOGIN}


def employer_page(outcome: Outcome) -> dict[str, Outcome]:
    """A page of organisation A: its key-role holders and delegates; the rest get 404."""
    return {
        ANONYMOUS: LOGIN,
        KEY_A: outcome,
        DELEGATE_A: outcome,
        CARDHOLDER: NOT_FOUND,
        KEY_B: NOT_FOUND,
        STAFF: NOT_FOUND,
    }


def back_office(outcome: Outcome) -> dict[str, Outcome]:
    """The card office's pages: staff; others are told it is not for them (403)."""
    return {**everyone(FORBIDDEN), ANONYMOUS: LOGIN, STAFF: outcome}


KwargsOf = Callable[[World], dict[str, Any]]


def org(world: World) -> dict[str, Any]:
    return {"orgnr": EMPLOYER}


def org_card(world: World) -> dict[str, Any]:
    return {"orgnr": EMPLOYER, "number": world.objects["card"].number}


def org_upload(world: World) -> dict[str, Any]:
    return {"orgnr": EMPLOYER, "upload_id": world.objects["upload"].pk}


def org_order(world: World) -> dict[str, Any]:
    return {"orgnr": EMPLOYER, "order_id": world.objects["order"].pk}


def org_line(world: World) -> dict[str, Any]:
    return {**org_order(world), "line_id": world.objects["line"].pk}


def none(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Route:
    kwargs: KwargsOf
    get: dict[str, Outcome]
    post: dict[str, Outcome]


def card_number(world: World) -> dict[str, Any]:
    return {"number": world.objects["card"].number}


def token(key: str) -> KwargsOf:
    return lambda world: {"token": world.objects[key]}


def batch(world: World) -> dict[str, Any]:
    return {"batch_id": world.objects["batch"].pk}


NO_POST = everyone(NOT_ALLOWED)
# A POST to an employer page that takes only GET: refused before the method is looked at
# when the visitor may not see the organisation (404, so numbers cannot be probed).
EMPLOYER_NO_POST = employer_page(NOT_ALLOWED)
CARDHOLDER_NO_POST = logged_in(NOT_ALLOWED)
BACK_OFFICE_NO_POST = back_office(NOT_ALLOWED)

ROUTES: dict[str, Route] = {
    # --- Public pages and the login.
    "home": Route(none, get=everyone(OK), post=everyone(OK)),
    "healthz": Route(none, get=everyone(OK), post=NO_POST),
    # A signed-in visitor is sent on to where they start.
    "login": Route(
        none, get={**logged_in(LOGIN), ANONYMOUS: OK}, post={**logged_in(LOGIN), ANONYMOUS: OK}
    ),
    # ID-porten is not configured in the tests: the login and its callback are not there.
    "idporten_login": Route(none, get=everyone(NOT_FOUND), post=NO_POST),
    "idporten_callback": Route(none, get=everyone(NOT_FOUND), post=NO_POST),
    # DEV_LOGIN_ENABLED follows DEBUG at import, which the test settings have on.
    "dev_login": Route(none, get=everyone(OK), post=everyone(OK)),
    "after_login": Route(
        none,
        get=logged_in(REDIRECT),
        post={**everyone(NOT_ALLOWED), ANONYMOUS: LOGIN},
    ),
    "logout": Route(none, get=everyone(NOT_ALLOWED), post=everyone(REDIRECT)),
    "logged_out": Route(none, get=everyone(OK), post=NO_POST),
    "set_language": Route(none, get=everyone(REDIRECT), post=everyone(REDIRECT)),
    # The mailed link is the key (it may be opened on a phone without a login).
    "contact_confirm": Route(token("contact_token"), get=everyone(OK), post=everyone(OK)),
    "contact_details": Route(none, get=logged_in(OK), post=logged_in(OK)),
    # Anyone with the card number or the QR code's link (DOMAIN.md: the card is shown on site).
    "cards:status": Route(none, get=everyone(OK), post=NO_POST),
    "cards:status_card": Route(card_number, get=everyone(OK), post=NO_POST),
    "cards:status_photo": Route(token("photo_token"), get=everyone(OK), post=NO_POST),
    "api_card": Route(card_number, get=everyone(OK), post=NO_POST),
    "order_confirmation": Route(token("confirmation_token"), get=everyone(OK), post=NO_POST),
    # The employee's own upload: the personal link is the key; a POST without files is 400.
    "employee_upload:upload": Route(
        token("upload_token"), get=everyone(OK), post=everyone(BAD_REQUEST)
    ),
    "employee_upload:received": Route(none, get=everyone(OK), post=NO_POST),
    # --- The cardholder's own cards: only the holder sees a card (others: 404).
    "cardholder:my_cards": Route(none, get=logged_in(OK), post=CARDHOLDER_NO_POST),
    "cardholder:card_detail": Route(
        card_number,
        get={**logged_in(NOT_FOUND), CARDHOLDER: OK},
        post=CARDHOLDER_NO_POST,
    ),
    "cardholder:card_report": Route(
        card_number,
        get={**logged_in(NOT_FOUND), CARDHOLDER: OK},
        post={**logged_in(NOT_FOUND), CARDHOLDER: OK},  # the form again, with its errors
    ),
    # --- Organisation A's pages.
    "orders:organisation_list": Route(none, get=logged_in(OK), post=logged_in(OK)),
    # The photo kept from an order form that came back: only the person who uploaded it.
    "orders:kept_photo": Route(
        lambda world: {"key": world.objects["kept"]},
        get={**logged_in(NOT_FOUND), KEY_A: OK},
        post=CARDHOLDER_NO_POST,
    ),
    "orders:employer": Route(org, get=employer_page(OK), post=employer_page(OK)),
    "orders:order_card": Route(org, get=employer_page(OK), post=employer_page(OK)),
    "orders:bulk_upload": Route(org, get=employer_page(OK), post=employer_page(BAD_REQUEST)),
    "orders:bulk_detail": Route(org_upload, get=employer_page(OK), post=EMPLOYER_NO_POST),
    # htmx's fragment; without htmx, the upload's own page.
    "orders:bulk_progress": Route(org_upload, get=employer_page(REDIRECT), post=EMPLOYER_NO_POST),
    "orders:bulk_order": Route(
        org_upload, get=employer_page(NOT_ALLOWED), post=employer_page(REDIRECT)
    ),
    "orders:bulk_report_xlsx": Route(org_upload, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:order_detail": Route(org_order, get=employer_page(OK), post=employer_page(OK)),
    "orders:order_lines": Route(org_order, get=employer_page(REDIRECT), post=EMPLOYER_NO_POST),
    "orders:order_confirmation_pdf": Route(org_line, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:line_document": Route(
        lambda world: {**org_line(world), "kind": "photo"},
        get=employer_page(OK),
        post=EMPLOYER_NO_POST,
    ),
    # The line is not waiting for an identity check: 400, nothing confirmed.
    "orders:identity_confirm": Route(
        org_line, get=employer_page(NOT_ALLOWED), post=employer_page(BAD_REQUEST)
    ),
    "orders:upload_link_resend": Route(
        org_line, get=employer_page(NOT_ALLOWED), post=employer_page(REDIRECT)
    ),
    "orders:invoice_pdf": Route(org_order, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:card_list": Route(org, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:card_renew": Route(org, get=employer_page(OK), post=employer_page(OK)),
    "orders:card_export_csv": Route(org, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:card_export_xlsx": Route(org, get=employer_page(OK), post=EMPLOYER_NO_POST),
    "orders:card_detail": Route(org_card, get=employer_page(OK), post=employer_page(OK)),
    "orders:card_end": Route(org_card, get=employer_page(OK), post=employer_page(BAD_REQUEST)),
    # A delegate sees who has access, but gives access only when their grant says so.
    "orders:delegations": Route(
        org, get=employer_page(OK), post={**employer_page(OK), DELEGATE_A: FORBIDDEN}
    ),
    # Only a key-role holder confirms a flagged grant.
    "orders:delegation_confirm": Route(
        lambda world: {"orgnr": EMPLOYER, "delegation_id": world.objects["flagged"].pk},
        get={**employer_page(OK), DELEGATE_A: NOT_FOUND},
        post={**employer_page(OK), DELEGATE_A: NOT_FOUND},
    ),
    "orders:audit": Route(org, get=employer_page(OK), post=EMPLOYER_NO_POST),
    # --- The card office.
    "backoffice_audit": Route(none, get=back_office(OK), post=BACK_OFFICE_NO_POST),
    "registry:register_status": Route(none, get=back_office(OK), post=back_office(OK)),
    "cards:print_queue": Route(none, get=back_office(OK), post=back_office(OK)),
    "cards:recheck_runs": Route(none, get=back_office(OK), post=BACK_OFFICE_NO_POST),
    "cards:recheck_progress": Route(none, get=back_office(OK), post=BACK_OFFICE_NO_POST),
    "cards:batch_detail": Route(batch, get=back_office(OK), post=BACK_OFFICE_NO_POST),
    "cards:batch_progress": Route(batch, get=back_office(OK), post=BACK_OFFICE_NO_POST),
    # The batch is still without its PDF: 404 until it is rendered.
    "cards:batch_pdf": Route(batch, get=back_office(NOT_FOUND), post=BACK_OFFICE_NO_POST),
    "cards:batch_ship": Route(batch, get=back_office(NOT_ALLOWED), post=back_office(OK)),
    "cards:batch_retry": Route(batch, get=back_office(NOT_ALLOWED), post=back_office(REDIRECT)),
    # Django's admin: everyone but staff is sent to its own login.
    "admin:index": Route(
        none,
        get={**everyone(ADMIN_LOGIN), STAFF: OK},
        post={**everyone(ADMIN_LOGIN), STAFF: OK},
    ),
    # Logged in but not staff: the back office's own 403, not a password form.
    "admin:login": Route(
        none,
        get={**everyone(FORBIDDEN), ANONYMOUS: OK, STAFF: REDIRECT},
        post={**everyone(FORBIDDEN), ANONYMOUS: OK, STAFF: OK},
    ),
}


# Routes the matrix does not try, each with the reason; a new route must join ROUTES or this.
EXEMPT_NAMESPACES = {
    # Django's admin registers a URL per model and action (about 145). Its access is
    # django.contrib.admin's staff check behind the second factor (tests/hmsportal/
    # test_staff_second_factor.py, tests/cards/test_admin.py); the matrix tries its index and
    # login page as the door to all of them.
    "admin": "Django's admin; the matrix tries admin:index and admin:login",
}
EXEMPT_ROUTES: dict[str, str] = {}


def resolver_routes() -> dict[str, str]:
    """Every route the root URLconf answers, as namespace:name (an unnamed one by its path),
    with its path pattern."""

    def walk(patterns: list[Any], namespace: str, prefix: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            path = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner, path)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name or '/' + path}", path

    return dict(walk(get_resolver().url_patterns, "", ""))


def test_every_route_has_a_row() -> None:
    """A new URL fails here until ROUTES says who may use it (or it is exempt, with why)."""
    routes = resolver_routes()
    exempt = {name for name in routes if name.split(":", 1)[0] in EXEMPT_NAMESPACES}
    assert (set(routes) - exempt - set(EXEMPT_ROUTES)) | (exempt & set(ROUTES)) == set(ROUTES)
    # The admin's namespace holds the admin's URLs only: nothing of ours hides in it.
    assert all(routes[name].startswith("admin/") for name in exempt)


# --- Trying them.


def _observed(response: Any) -> Outcome:
    status = response.status_code
    if status == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
        return REDIRECT
    return status


CASES = [(name, role) for name in sorted(ROUTES) for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES)
def test_get_and_post(world: World, name: str, role: str) -> None:
    route = ROUTES[name]
    url = reverse(name, kwargs=route.kwargs(world))
    for method, expected in (("get", route.get[role]), ("post", route.post[role])):
        client = client_as(world, role)
        before = snapshot() if expected in DENIED else None
        response = getattr(client, method)(url)
        observed = _observed(response)
        assert observed == expected, f"{method.upper()} {url} as {role}: {observed}"
        if expected in (FORBIDDEN, NOT_FOUND):
            # The portal's own page, in its layout: not Django's bare one.
            assert f'data-error-status="{expected}"'.encode() in response.content, url
        if before is not None:
            assert snapshot() == before, f"{method.upper()} {url} as {role} changed rows"
