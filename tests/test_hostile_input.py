"""Malformed and hostile input to every form, upload and lookup (issue 11, point 2).

Hypothesis sends random text with control characters, NUL bytes, very long strings,
right-to-left and zero-width characters, SQL and HTML injection and invalid numbers to the
forms (order, employee, contact details, access, ending and reporting a card, renewals, the
card register's filter, the audit filters, the back office's batch forms), the uploads (bulk
ZIP, the employee's photo and ID document), the status lookup (form, path and API), the
links that carry a token, and the login's callbacks.

Two things must hold for every input: no 500 (the test client re-raises a view's exception,
so a crash fails the test with the example that caused it), and when the input is refused
(any answer but a redirect to the next step) nothing is stored: the main tables and the audit
trail are the same as before. The visitors and organisation A's objects are tests/portal_world.py's.

Rate limits are tested in tests/hmsportal/test_ratelimit.py; here every request starts a new
minute, so hostile input reaches the view instead of stopping at the limit.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hmsportal import ratelimit
from hmsportal.models import User
from tests.datasets import EMPLOYER
from tests.hmsportal.idporten_provider import CLIENT_ID, CLIENT_SECRET, LocalIdPorten
from tests.portal_world import (  # noqa: F401 (the *_fixture names are the module's fixtures)
    ANONYMOUS,
    CARDHOLDER,
    KEY_A,
    STAFF,
    World,
    client_as,
    module_media_fixture,
    snapshot,
    world_fixture,
)
from tests.registry.servers import FakeRegister

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW_EXAMPLES = settings(EXAMPLES, max_examples=10)

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE cards_card; --",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "{{ request.user.password }}",
    "{% debug %}",
    "%(national_id)s %s %d",
    "../../../../etc/passwd",
    "\\x00",
    "${jndi:ldap://127.0.0.1/a}",
    '=HYPERLINK("http://127.0.0.1")',
    "914778271' --",
    "914778271\x00",
]
INVISIBLE = ["\u202e", "\u202d", "\u200b", "\u200c", "\u200f", "\u2066", "\ufeff", "\u00ad"]
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.from_regex(r"\A[0-9 .\-]{1,30}\Z"),
    st.sampled_from(
        ["NaN", "-0", "1e309", "0x1F", "９１４７７８２７１", "٩١٤٧٧٨٢٧١", "2147483648"]
    ),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Mn")), min_size=1, max_size=20),
    st.sampled_from(INJECTIONS),
    st.tuples(st.sampled_from(INVISIBLE), st.text(max_size=12)).map("".join),
    st.integers(min_value=300, max_value=50_000).map(lambda n: "9" * n),
    NUMBERS,
)
# A NUL byte in a third of the values: PostgreSQL refuses it in a query, so every raw read of
# a parameter that reaches the database unchecked is a 500 (two were: see test_nul_bytes_…).
HOSTILE = st.one_of(TEXT, TEXT, st.tuples(TEXT, TEXT).map("\x00".join))
FILE_NAMES = st.one_of(
    # "." and ".." name no file: Django's SimpleUploadedFile refuses them before any request.
    HOSTILE.filter(
        lambda name: (
            "\x00" not in name and "/" not in name and name.strip() and name not in (".", "..")
        )
    ),
    st.sampled_from(["photo.jpg", "id.pdf", "../../x.jpg", "a" * 300 + ".png", "\u202egpj.exe"]),
)


def _small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), (180, 140, 110)).save(buffer, format="JPEG")
    return buffer.getvalue()


SMALL_JPEG = _small_jpeg()  # a real photo's bytes, short enough to read in a failing example
FILE_BYTES = st.one_of(
    st.binary(max_size=2048),
    st.just(SMALL_JPEG),
    st.binary(max_size=64).map(lambda tail: b"%PDF-1.4\n" + tail),
    st.binary(max_size=64).map(lambda tail: b"\xff\xd8\xff\xe0" + tail),
)


@pytest.fixture(autouse=True)
def _every_request_a_new_minute(monkeypatch, settings) -> None:
    minutes = itertools.count(1)
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_000.0 + 60 * next(minutes))
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.ORGANISATION_LOOKUP_RATE_LIMIT_PER_MINUTE = 1_000_000


def send(
    client: Client, method: str, url: str, data: Any = None, *, keeping_uploads: bool = False
) -> Any:
    """The request; a crash raises here. A refused input (no redirect) must store nothing
    (but the order form's valid files, kept for the next try: keeping_uploads)."""
    before = snapshot(keeping_uploads=keeping_uploads)
    response = getattr(client, method)(url, data if data is not None else {})
    assert response.status_code < 500, (method, url, response.status_code)
    if response.status_code != 302:
        assert snapshot(keeping_uploads=keeping_uploads) == before, (method, url)
    return response


def path_segment(text: str) -> str:
    """Hostile text as one URL path segment (a "/" in it only makes the URL not match)."""
    return quote(text, safe="") or "x"


def fields(*names: str) -> st.SearchStrategy[dict[str, str]]:
    """Each named field hostile text, or left out."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(names, HOSTILE))


ORG = f"/orders/{EMPLOYER}"


# --- NUL bytes in every raw input, each tried once (the strategies below find them by chance).

NUL_REQUESTS = [
    # The order form reads its one-time submission token before the form is cleaned: a NUL
    # in it was a 500 (DataError), fixed in orders.selectors.order_for_submission.
    (KEY_A, "post", f"/orders/{EMPLOYER}/new/", {"submission_token": "a\x00", "employee": "\x00"}),
    # The development login looked the staff username up as sent: a 500, fixed in
    # hmsportal.dev_login.demo_user.
    (ANONYMOUS, "post", "/login/dev/", {"national_id": "1\x002", "staff": "a\x00"}),
    (KEY_A, "get", f"/orders/{EMPLOYER}%00/", {}),
    (KEY_A, "get", f"/orders/{EMPLOYER}/cards/1%00/", {}),
    (CARDHOLDER, "get", "/my-cards/1%00/", {}),
    (CARDHOLDER, "post", "/my-cards/1%00/report/", {}),
    (ANONYMOUS, "get", "/status/", {"card": "12\x003"}),
    (ANONYMOUS, "get", "/status/12%003/", {}),
    (ANONYMOUS, "get", "/api/v1/cards/12%003", {}),
    (ANONYMOUS, "get", "/status/photo/a%00b/", {}),
    (ANONYMOUS, "get", "/confirmation/a%00b/", {}),
    (ANONYMOUS, "post", "/u/a%00b/", {}),
    (ANONYMOUS, "post", "/account/contact/confirm/a%00b/", {}),
    (ANONYMOUS, "post", "/i18n/setlang/", {"language": "n\x00b", "next": "/\x00"}),
    (ANONYMOUS, "get", "/login/", {"next": "/\x00"}),
    (KEY_A, "post", "/orders/", {"orgnr": f"{EMPLOYER}\x00"}),
    (KEY_A, "post", f"/orders/{EMPLOYER}/access/", {"revoke": "1\x00"}),
    (KEY_A, "post", f"/orders/{EMPLOYER}/access/", {"national_id": "\x00", "name": "a\x00"}),
    (KEY_A, "post", f"/orders/{EMPLOYER}/access/1/confirm/", {"decision": "\x00"}),
    (KEY_A, "get", f"/orders/{EMPLOYER}/cards/", {"q": "a\x00", "unit": "\x00", "page": "\x00"}),
    (KEY_A, "get", f"/orders/{EMPLOYER}/audit/", {"actor": "a\x00", "date_from": "\x00"}),
    (KEY_A, "post", f"/orders/{EMPLOYER}/cards/renew/", {"cards": ["\x00", "1"]}),
    (KEY_A, "get", "/orders/kept/a%00/photo/", {}),
    (KEY_A, "get", f"/orders/{EMPLOYER}/bulk/1/report/", {"v": "\x00"}),
    (CARDHOLDER, "post", "/account/contact/", {"email": "a\x00@b.no", "mobile": "\x00"}),
    (CARDHOLDER, "get", "/login/done/", {"next": "/\x00"}),
    (STAFF, "get", "/backoffice/audit/", {"actor": "a\x00", "organisation": "\x00"}),
    (STAFF, "post", "/backoffice/print-queue/", {"selection": "selected", "cards": ["1\x00"]}),
    (STAFF, "get", "/backoffice/print-queue/", {"page": "\x00", "batches": "\x00"}),
    (STAFF, "post", "/backoffice/batches/1/ship/", {"tracking_reference": "\x00"}),
]


@pytest.mark.parametrize(("role", "method", "url", "data"), NUL_REQUESTS)
def test_nul_bytes_anywhere_are_refused_without_a_crash(
    world: World, role: str, method: str, url: str, data: dict[str, Any]
) -> None:
    send(client_as(world, role), method, url, data, keeping_uploads=True)


# --- The employer's forms.


@EXAMPLES
@given(orgnr=HOSTILE)
def test_organisation_lookup(world: World, orgnr: str) -> None:
    send(client_as(world, KEY_A), "post", "/orders/", {"orgnr": orgnr})


@FEW_EXAMPLES
@given(
    data=fields(
        "employee",
        "card_type",
        "files_from",
        "photo_stash",
        "id_document_stash",
        "crop_x",
        "crop_y",
        "crop_width",
        "employee_email",
        "submission_token",
        "identity_checked",
        "delivery_name",
        "delivery_street",
        "delivery_postcode",
        "delivery_city",
        "step",
    ),
    photo=st.none() | st.tuples(FILE_NAMES, FILE_BYTES),
    id_document=st.none() | st.tuples(FILE_NAMES, FILE_BYTES),
    employee=HOSTILE,
)
def test_order_form(
    world: World,
    data: dict[str, Any],
    photo: tuple[str, bytes] | None,
    id_document: tuple[str, bytes] | None,
    employee: str,
) -> None:
    client = client_as(world, KEY_A)
    for field, upload in (("photo", photo), ("id_document", id_document)):
        if upload is not None:
            data[field] = SimpleUploadedFile(upload[0], upload[1])
    send(client, "post", f"{ORG}/new/", data, keeping_uploads=True)
    send(client, "get", f"{ORG}/new/", {"employee": employee})


@EXAMPLES
@given(data=fields("email", "mobile", "language", "resend"))
def test_contact_details(world: World, data: dict[str, str]) -> None:
    send(client_as(world, CARDHOLDER), "post", "/account/contact/", data)


@EXAMPLES
@given(
    data=fields("national_id", "name", "email", "may_grant_further", "valid_from", "valid_until"),
    revoke=st.none() | HOSTILE,
)
def test_delegation_grant_and_revoke(
    world: World, data: dict[str, str], revoke: str | None
) -> None:
    if revoke is not None:
        data["revoke"] = revoke
    send(client_as(world, KEY_A), "post", f"{ORG}/access/", data)


@EXAMPLES
@given(decision=HOSTILE)
def test_delegation_confirm(world: World, decision: str) -> None:
    url = f"{ORG}/access/{world.objects['flagged'].pk}/confirm/"
    send(client_as(world, KEY_A), "post", url, {"decision": decision})


@EXAMPLES
@given(revoke=fields("reason", "replace"), end=fields("confirm"), renew=st.lists(HOSTILE))
def test_card_forms(
    world: World, revoke: dict[str, str], end: dict[str, str], renew: list[str]
) -> None:
    client = client_as(world, KEY_A)
    card = f"{ORG}/cards/{world.objects['card'].number}"
    send(client, "post", f"{card}/", revoke)
    send(client, "post", f"{card}/end/", end)
    send(client, "post", f"{ORG}/cards/renew/", {"cards": renew})


@EXAMPLES
@given(data=fields("reason", "details"))
def test_cardholder_report(world: World, data: dict[str, str]) -> None:
    url = f"/my-cards/{world.objects['card'].number}/report/"
    send(client_as(world, CARDHOLDER), "post", url, data)


@EXAMPLES
@given(
    identity=fields("identity_checked"),
    resend=fields("email"),
)
def test_order_line_forms(world: World, identity: dict[str, str], resend: dict[str, str]) -> None:
    client = client_as(world, KEY_A)
    line = world.objects["line"]
    url = f"{ORG}/orders/{line.order_id}/lines/{line.pk}"
    prefixed_identity = {f"id{line.pk}-{name}": value for name, value in identity.items()}
    prefixed_resend = {f"line{line.pk}-{name}": value for name, value in resend.items()}
    send(client, "post", f"{url}/identity/", prefixed_identity)
    send(client, "post", f"{url}/upload-link/", prefixed_resend)


@EXAMPLES
@given(
    data=fields("q", "status", "unit", "card_type", "expiring", "reason", "sort", "page"),
    audit=fields("action", "actor", "date_from", "date_to", "page"),
)
def test_register_and_audit_filters(
    world: World, data: dict[str, str], audit: dict[str, str]
) -> None:
    client = client_as(world, KEY_A)
    send(client, "get", f"{ORG}/cards/", data)
    send(client, "get", f"{ORG}/cards/export.csv", data)
    send(client, "get", f"{ORG}/audit/", audit)


# --- Uploads.


@FEW_EXAMPLES
@given(name=FILE_NAMES, content=FILE_BYTES)
def test_bulk_upload_of_random_bytes(world: World, name: str, content: bytes) -> None:
    archive = SimpleUploadedFile(name, content, content_type="application/zip")
    send(client_as(world, KEY_A), "post", f"{ORG}/bulk/", {"archive": archive})


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


ZIP_MEMBER_NAMES = st.one_of(
    st.text(min_size=1, max_size=40).filter(lambda n: "\x00" not in n),
    st.sampled_from(
        ["orders.csv", "../orders.csv", "/etc/passwd", "01017512338.jpg", "a/../../b.jpg"]
    ),
)
CSV_LINES = st.lists(
    st.lists(HOSTILE.filter(lambda v: len(v) < 200), min_size=1, max_size=6).map(";".join),
    max_size=4,
)


@FEW_EXAMPLES
@given(
    members=st.lists(st.tuples(ZIP_MEMBER_NAMES, FILE_BYTES), max_size=4),
    csv=CSV_LINES,
)
def test_bulk_upload_of_zip_with_hostile_names_and_rows(
    world: World, members: list[tuple[str, bytes]], csv: list[str]
) -> None:
    header = "national_id;first_name;last_name;card_type;workplace_orgnr;employee_email"
    rows = "\n".join([header, *csv]).encode()
    content = _zip([("orders.csv", rows), *members])
    archive = SimpleUploadedFile("orders.zip", content, content_type="application/zip")
    send(client_as(world, KEY_A), "post", f"{ORG}/bulk/", {"archive": archive})


@FEW_EXAMPLES
@given(
    photo=st.none() | st.tuples(FILE_NAMES, FILE_BYTES),
    id_document=st.none() | st.tuples(FILE_NAMES, FILE_BYTES),
    extra=fields("crop_x", "crop_y", "crop_width"),
)
def test_employee_upload(
    world: World,
    photo: tuple[str, bytes] | None,
    id_document: tuple[str, bytes] | None,
    extra: dict[str, Any],
) -> None:
    for field, upload in (("photo", photo), ("id_document", id_document)):
        if upload is not None:
            extra[field] = SimpleUploadedFile(upload[0], upload[1])
    url = f"/u/{world.objects['upload_token']}/"
    response = send(Client(), "post", url, extra)
    # A photo that is not a photo is refused, whatever its name says.
    assert response.status_code in (200, 302, 400)


# --- Lookups and links without a login.


@EXAMPLES
@given(number=HOSTILE)
def test_status_lookup(world: World, number: str) -> None:
    client = Client()
    send(client, "get", "/status/", {"card": number})
    send(client, "get", f"/status/{path_segment(number)}/")
    send(client, "get", f"/api/v1/cards/{path_segment(number)}")
    send(client, "get", f"/status/photo/{path_segment(number)}/")


@EXAMPLES
@given(token=HOSTILE)
def test_links_with_a_token(world: World, token: str) -> None:
    client = Client()
    segment = path_segment(token)
    send(client, "get", f"/account/contact/confirm/{segment}/")
    send(client, "post", f"/account/contact/confirm/{segment}/")
    send(client, "get", f"/confirmation/{segment}/")
    send(client, "get", f"/u/{segment}/")
    send(client, "post", f"/u/{segment}/")


@EXAMPLES
@given(value=HOSTILE)
def test_hostile_url_parts_of_signed_in_pages(world: World, value: str) -> None:
    client = client_as(world, KEY_A)
    segment = path_segment(value)
    send(client, "get", f"/orders/{segment}/")
    send(client, "get", f"/orders/{segment}/cards/")
    send(client, "get", f"{ORG}/cards/{segment}/")
    send(client, "post", f"{ORG}/cards/{segment}/end/", {"confirm": "on"})
    send(client, "get", f"/orders/kept/{segment}/photo/")
    send(client, "get", f"/my-cards/{segment}/")
    send(client, "get", f"{ORG}/orders/{world.objects['order'].pk}/lines/1/document/{segment}/")


# --- The back office.


@EXAMPLES
@given(
    create=fields("selection", "count"),
    cards=st.lists(HOSTILE, max_size=3),
    ship=fields("tracking_reference"),
    page=HOSTILE,
    audit=fields("action", "actor", "organisation", "date_from", "date_to", "page"),
)
def test_back_office_forms(
    world: World,
    create: dict[str, Any],
    cards: list[str],
    ship: dict[str, str],
    page: str,
    audit: dict[str, str],
) -> None:
    client = client_as(world, STAFF)
    send(client, "post", "/backoffice/print-queue/", {**create, "cards": cards})
    send(client, "get", "/backoffice/print-queue/", {"page": page, "batches": page})
    send(client, "post", f"/backoffice/batches/{world.objects['batch'].pk}/ship/", ship)
    send(client, "get", "/backoffice/audit/", audit)
    send(client, "get", "/backoffice/registers/", {"page": page})


# --- The login.


@pytest.fixture
def idporten(settings):
    """A local ID-porten the portal is configured for (tests/hmsportal/idporten_provider.py)."""
    server = FakeRegister()
    provider = LocalIdPorten(server)
    settings.IDPORTEN_ISSUER = provider.issuer
    settings.IDPORTEN_CLIENT_ID = CLIENT_ID
    settings.IDPORTEN_CLIENT_SECRET = CLIENT_SECRET
    yield provider
    server.stop()


@EXAMPLES
@given(query=fields("state", "code", "error", "error_description", "iss"), started=st.booleans())
def test_login_callback_with_garbage(
    world: World, idporten: LocalIdPorten, query: dict[str, str], started: bool
) -> None:
    client = Client()
    if started:
        # A login under way in this session: the callback's state is what is checked.
        assert client.get("/login/idporten/").status_code == 302
    users = User.objects.count()
    response = client.get("/login/idporten/callback/", query)
    assert response.status_code < 500
    assert User.objects.count() == users
    assert "_auth_user_id" not in client.session


@EXAMPLES
@given(
    dev=fields("national_id", "staff", "next"),
    language=HOSTILE,
    next_url=HOSTILE,
)
def test_other_login_and_language_parameters(
    world: World, dev: dict[str, str], language: str, next_url: str
) -> None:
    client = Client()
    send(client, "post", "/login/dev/", dev)
    send(client, "get", "/login/", {"next": next_url})
    send(client, "get", "/logout/done/", {"from": next_url, "idporten": next_url})
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    assert response.status_code == 302
    # Never away from the portal, whatever `next` says.
    assert url_has_allowed_host_and_scheme(response["Location"], allowed_hosts={"testserver"})
    signed_in = client_as(world, CARDHOLDER)
    send(signed_in, "get", "/login/done/", {"next": next_url})
