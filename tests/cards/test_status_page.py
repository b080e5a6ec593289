"""The public status page: /status/ (form) and /status/<number>/ (what the QR code holds)."""

from __future__ import annotations

import datetime
import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import parse_http_date

from cards import status_views
from cards.models import Card
from cards.numbers import card_number_new, display
from registry.rules import REASONS
from tests.cards.factories import CardFactory, CardTypeFactory, photo_jpeg

pytestmark = pytest.mark.django_db


def photo_url(number: str) -> str:
    return f"/status/photo/{status_views.photo_token(number)}/"


def make_card(**fields: object) -> Card:
    defaults: dict[str, object] = {
        "holder_first_name": "Kari",
        "holder_last_name": "Nordmann",
        "holder_birth_date": datetime.date(1984, 3, 17),
        "employer_name": "Bygg og Betong AS",
        "employer_orgnr": "923609016",
        "state": Card.State.ACTIVE,
    }
    defaults.update(fields)
    return CardFactory(**defaults)


def mistyped(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_form_is_shown_with_an_accessible_numeric_input(client):
    response = client.get("/status/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_card"' in html
    field = re.search(r"<input[^>]*id=\"id_card\"[^>]*>", html)
    assert field is not None
    assert 'inputmode="numeric"' in field.group(0)
    assert 'autocomplete="off"' in field.group(0)
    assert 'type="text"' in field.group(0)
    assert "error-summary" not in html
    assert 'data-outcome=""' in html


def test_a_valid_card_shows_the_card_and_a_green_banner(client):
    card = make_card(with_photo=True)
    response = client.get("/status/", {"card": display(card.number)})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="valid"' in html
    assert "card-status--valid" in html
    assert "✓" in html
    assert "Kari Nordmann" in html
    assert "Bygg og Betong AS" in html
    assert "923609016" in html
    assert card.card_type.name_nb in html  # bokmål, the default language
    assert display(card.number) in html
    photo = re.search(r'<img src="(/status/photo/[^"]+/)"', html)
    assert photo is not None
    # The photo's address does not reveal the card number, and it leads to the photo.
    assert card.number not in photo.group(1)
    assert client.get(photo.group(1)).content.startswith(b"\xff\xd8")
    # The time of the check, in Oslo time.
    stamp = re.search(r'<time datetime="([^"]+)"', html)
    assert stamp is not None
    checked = datetime.datetime.fromisoformat(stamp.group(1))
    assert checked.utcoffset() == ZoneInfo("Europe/Oslo").utcoffset(checked.replace(tzinfo=None))


def test_the_qr_code_path_shows_the_result_directly(client):
    card = make_card()
    response = client.get(f"/status/{card.number}/")
    assert response.status_code == 200
    assert 'data-status="valid"' in response.content.decode()
    assert "Kari Nordmann" in response.content.decode()


def test_a_card_is_still_valid_on_its_last_day_in_oslo(client):
    today = timezone.localdate()
    card = make_card(issued_on=today - datetime.timedelta(days=700), valid_until=today)
    assert 'data-status="valid"' in client.get(f"/status/{card.number}/").content.decode()


def test_an_invalid_card_names_employer_reasons_and_only_the_kind_of_holder_reason(client):
    """Facts about the employer are public in Enhetsregisteret anyway; the holder's
    employment, identity number and permit are personal data: the public reads only that a
    requirement about the holder failed, and where the fix is seen."""
    card = make_card(
        state=Card.State.INVALID, reason_codes=["employer_bankrupt", "employment_ended"]
    )
    html = english(client).get(f"/status/{card.number}/").content.decode()
    assert 'data-status="invalid"' in html
    assert "card-status--invalid" in html
    assert "✗" in html
    assert "Not valid: the register requirements are not met." in html
    assert REASONS["employer_bankrupt"].en in html
    assert REASONS["employer_bankrupt"].fix_en in html
    assert "A requirement about the card holder is not met in the registers." in html
    for code in ("employer_bankrupt", "employment_ended"):
        assert code not in html
    assert REASONS["employment_ended"].en not in html
    assert REASONS["employment_ended"].nb not in html
    assert "End date printed on the card" in html
    assert "Valid until" not in html


def test_a_card_past_its_valid_until_date_is_expired_even_when_active(client):
    today = timezone.localdate()
    card = make_card(
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=1),
    )
    html = english(client).get(f"/status/{card.number}/").content.decode()
    assert 'data-status="expired"' in html
    last_day = card.valid_until
    assert (
        f"Expired: the card&#x27;s last valid day was {last_day.day} {last_day:%B} {last_day.year}."
        in html
    )
    assert "End date printed on the card" in html
    assert "Valid until" not in html


def test_a_revoked_card_says_revoked(client):
    card = make_card(state=Card.State.REVOKED)
    html = english(client).get(f"/status/{card.number}/").content.decode()
    assert 'data-status="revoked"' in html
    assert "The card has been revoked." in html


def test_a_legacy_ten_digit_number_is_found(client):
    card = make_card(number="4711002345", imported=True)
    response = client.get("/status/", {"card": "4711 0023 45"})
    assert response.status_code == 200
    assert 'data-status="valid"' in response.content.decode()
    assert card.holder_name in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "status", "outcome", "message"),
    [
        ("", 400, "required", "Enter the card number."),
        (
            "12345",
            400,
            "malformed",
            "This is not a valid card number. Card numbers have 12 digits (older cards: 10).",
        ),
        ("abcd efgh ijkl", 400, "malformed", "This is not a valid card number."),
        ("MISTYPED", 400, "mistyped", "The card number is mistyped. Check the digits."),
        ("UNKNOWN", 404, "not_found", "We cannot find a card with this number."),
    ],
)
def test_bad_input_gets_a_distinct_clear_answer(client, typed, status, outcome, message):
    make_card()
    number = card_number_new()
    if typed == "MISTYPED":
        typed = mistyped(number)
    elif typed == "UNKNOWN":
        typed = number
    response = english(client).get("/status/", {"card": typed})
    html = response.content.decode()
    assert response.status_code == status
    assert f'data-outcome="{outcome}"' in html
    assert message in html
    assert "data-status=" not in html
    if outcome == "not_found":
        assert "error-summary" not in html
        assert display(number) in html
    else:
        # GOV.UK error summary at the top, linking to the field, which is marked invalid.
        assert 'class="error-summary"' in html
        assert f'<a href="#id_card">{message}' in html
        assert 'aria-invalid="true"' in html
        assert "<title>Error:" in html


def test_the_qr_path_tells_mistyped_from_unknown(client):
    number = card_number_new()
    assert client.get(f"/status/{number}/").status_code == 404
    mistyped_response = client.get(f"/status/{mistyped(number)}/")
    assert mistyped_response.status_code == 400
    assert 'data-outcome="mistyped"' in mistyped_response.content.decode()


def test_identity_number_and_birth_date_never_appear(client):
    card = make_card(with_photo=True)
    birth = card.holder_birth_date
    for language in ("nb", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.get(f"/status/{card.number}/").content.decode()
        assert card.holder_national_id not in html
        assert card.holder_national_id[:6] not in html  # not even the birth-date digits
        assert birth.isoformat() not in html
        for shown in (f"{birth:%d.%m.%Y}", "17. mars 1984", "March 17, 1984", "Mar. 17, 1984"):
            assert shown not in html


def test_english_by_accept_language_and_by_the_language_cookie(client):
    card = make_card()
    default = client.get(f"/status/{card.number}/")
    assert '<html lang="nb">' in default.content.decode()
    assert card.card_type.name_nb in default.content.decode()
    assert card.card_type.name_en not in default.content.decode()

    by_header = client.get(f"/status/{card.number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in by_header.content.decode()
    assert card.card_type.name_en in by_header.content.decode()
    assert "Valid" in by_header.content.decode()

    by_cookie = english(client).get(f"/status/{card.number}/")
    assert '<html lang="en">' in by_cookie.content.decode()
    assert card.card_type.name_en in by_cookie.content.decode()


def test_the_english_card_type_name_comes_from_the_card_type(client):
    card = make_card(card_type=CardTypeFactory(cleaning=True))
    html = english(client).get(f"/status/{card.number}/").content.decode()
    assert card.card_type.name_en in html
    assert card.card_type.name_nb not in html


def test_the_result_is_not_cached_or_indexed(client):
    card = make_card()
    response = client.get(f"/status/{card.number}/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


@pytest.mark.parametrize("path", ["/status/", "/status/{number}/", "/status/?card={number}"])
def test_the_status_page_sends_the_headers_djangos_never_cache_sends(client, path):
    """The status views set never_cache's headers themselves (cards.status_views): the same
    Cache-Control, and an Expires of now, for a found card, the empty form and bad input."""
    card = make_card()
    expected = HttpResponse()
    add_never_cache_headers(expected)
    for url in (path.format(number=card.number), "/status/?card=1234"):
        before = int(time.time())
        response = client.get(url)
        assert response["Cache-Control"] == expected["Cache-Control"]
        expires = parse_http_date(response["Expires"])
        assert before <= expires <= int(time.time())


def test_the_photo_is_streamed_decrypted(client, settings):
    card = make_card(with_photo=True)
    on_disk = (settings.MEDIA_ROOT / "private" / card.photo.name).read_bytes()
    assert not on_disk.startswith(b"\xff\xd8")  # encrypted at rest
    response = client.get(photo_url(card.number))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response.content.startswith(b"\xff\xd8")
    assert response.content == card.photo.storage.open(card.photo.name).read()


def test_the_photo_is_404_for_unknown_numbers_and_cards_without_a_photo(client):
    without_photo = make_card()
    assert client.get(photo_url(without_photo.number)).status_code == 404
    assert client.get(photo_url(card_number_new())).status_code == 404
    assert client.get("/status/photo/hello/").status_code == 404


def test_a_photo_needs_a_fresh_signed_token(client, monkeypatch):
    card = make_card(with_photo=True)
    # The card number alone, or a token signed with another salt, gives nothing.
    assert client.get(f"/status/photo/{card.number}/").status_code == 404
    forged = signing.dumps(card.number, salt="something-else", compress=False)
    assert client.get(f"/status/photo/{forged}/").status_code == 404
    token = status_views.photo_token(card.number)
    assert client.get(f"/status/photo/{token}/").status_code == 200
    # Ten minutes later the token has expired.
    later = time.time() + status_views.PHOTO_TOKEN_SECONDS + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(f"/status/photo/{token}/").status_code == 404


def test_a_missing_photo_file_is_a_404_not_a_500(client, settings):
    card = make_card()
    card.photo.save("gone.jpg", ContentFile(photo_jpeg()), save=True)
    (settings.MEDIA_ROOT / "private" / card.photo.name).unlink()
    assert client.get(photo_url(card.number)).status_code == 404


@pytest.mark.parametrize(
    "typed",
    [
        "9" * 100_000,
        "١٢٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits: isdigit() but not ours
        "".join(chr(0xFF10 + int(d)) for d in "123456789012"),  # fullwidth digits
        "1234\x00567890",
        "\x00",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "12345678901²",
        "\u202e123456789012",
        "🙂" * 50,
        "   ",
    ],
)
def test_hostile_input_never_causes_a_server_error(client, typed):
    by_query = client.get("/status/", {"card": typed})
    assert by_query.status_code == 400
    assert "<script>alert(1)" not in by_query.content.decode()
    if "/" not in typed and typed.strip():
        by_path = client.get(f"/status/{typed}/")
        assert by_path.status_code == 400
        photo = client.get(f"/status/photo/{typed}/")
        assert photo.status_code == 404


def test_undecodable_query_strings_are_answered(client):
    response = client.get("/status/?card=%ff%fe%00&card=%c3")
    assert response.status_code == 400


def test_only_get_and_head(client):
    card = make_card()
    assert client.post("/status/", {"card": card.number}).status_code == 405
    assert client.post(f"/status/{card.number}/").status_code == 405
    assert client.head(f"/status/{card.number}/").status_code == 200


def test_the_page_is_rate_limited_with_a_friendly_429(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 3
    card = make_card()
    for _ in range(3):
        assert client.get(f"/status/{card.number}/").status_code == 200
    limited = english(client).get(f"/status/{card.number}/")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "50"
    html = limited.content.decode()
    assert 'data-outcome="rate_limited"' in html
    assert "Wait 50 seconds" in html
    assert "Kari Nordmann" not in html
    # The bare form costs nothing, so a limited person still sees where to come back to.
    assert client.get("/status/").status_code == 200


def test_the_page_and_the_api_share_the_anonymous_budget(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 2
    card = make_card()
    assert client.get(f"/status/{card.number}/").status_code == 200
    assert client.get(f"/api/v1/cards/{card.number}").status_code == 200
    assert client.get(f"/status/{card.number}/").status_code == 429
    assert client.get(f"/api/v1/cards/{card.number}").status_code == 429
    # Another address has its own budget.
    assert client.get(f"/status/{card.number}/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_the_card_is_loaded_without_identity_number_or_birth_date():
    card = make_card(reason_codes=["employment_ended"], state=Card.State.INVALID)
    Card.objects.filter(pk=card.pk).update(checked_at=timezone.now())
    found = status_views.card_for_status(number=display(card.number))
    assert found is not None
    assert {"holder_national_id", "holder_birth_date"} <= found.get_deferred_fields()
    # The columns arrive converted as the ORM would: a date, an aware datetime, a list.
    assert found.valid_until == card.valid_until
    assert found.checked_at is not None and timezone.is_aware(found.checked_at)
    assert found.reason_codes == ["employment_ended"]
    assert found.card_type.code == card.card_type.code
    assert found.card_type.name("en") == card.card_type.name("en")


def test_an_anonymous_visitor_gets_no_cookie(client):
    card = make_card()
    for path in ("/status/", f"/status/{card.number}/", "/"):
        response = client.get(path)
        assert response.status_code == 200
        assert not response.cookies, path


def test_the_language_can_be_switched_without_a_csrf_token(client):
    card = make_card()
    client.handler.enforce_csrf_checks = True
    page = f"/status/{card.number}/"
    assert "Logg inn" in client.get(page).content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": page})
    assert response.status_code == 302
    assert response["Location"] == page
    html = client.get(page).content.decode()
    assert "Log in" in html and "Logg inn" not in html
    assert "Check a card's status" in html  # the footer follows too

    client.post("/i18n/setlang/", {"language": "nb", "next": page})
    html = client.get(page).content.decode()
    assert "Logg inn" in html and ">Log in<" not in html


def test_a_logged_in_user_never_gets_the_anonymous_header(client, django_user_model):
    card = make_card()
    client.get(f"/status/{card.number}/")  # the anonymous header is now cached
    user = django_user_model.objects.create_user(username="ola", password="x")
    client.force_login(user)
    html = client.get(f"/status/{card.number}/").content.decode()
    assert "Logg ut (ola)" in html
    assert 'name="csrfmiddlewaretoken"' in html  # the log-out form keeps its token
