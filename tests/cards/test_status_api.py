"""GET /api/v1/cards/<number>: the machine-readable status check, its API keys and limits."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.db import connection
from django.utils import timezone

from cards import numbers
from cards.api_keys import api_client_create, api_client_for_key
from cards.models import ApiClient, Card, CardTransition
from cards.numbers import NumberForm, card_number_new, classify
from cards.services import RevocationReason, card_revoke
from hmsportal import ratelimit
from tests.cards.factories import CardFactory
from tests.conftest import RATE_LIMIT_WINDOW_START as WINDOW_START

pytestmark = pytest.mark.django_db


def make_card(**fields: object) -> Card:
    defaults: dict[str, object] = {
        "holder_first_name": "Ola",
        "holder_last_name": "Ødegård",
        "holder_birth_date": datetime.date(1979, 11, 30),
        "employer_name": "Rent & Pent AS",
        "employer_orgnr": "923609016",
        "state": Card.State.ACTIVE,
    }
    defaults.update(fields)
    return CardFactory(**defaults)


def api(client, number: str, **extra):
    return client.get(f"/api/v1/cards/{number}", **extra)


def test_a_valid_card(client):
    card = make_card()
    response = api(client, card.number)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "card_number": card.number,
        "status": "valid",
        "reasons": [],
        "card_type": "construction",
        "holder_name": "Ola Ødegård",
        "employer_name": "Rent & Pent AS",
        "employer_orgnr": "923609016",
        "valid_until": card.valid_until.isoformat(),
        "checked_at": None,
    }


def test_an_invalid_card_lists_its_reason_codes_and_the_last_register_check(client):
    checked = datetime.datetime(2030, 6, 1, 4, 30, tzinfo=datetime.UTC)
    card = make_card(
        state=Card.State.INVALID,
        reason_codes=["employer_bankrupt", "employment_ended"],
        checked_at=checked,
    )
    body = api(client, card.number).json()
    assert body["status"] == "invalid"
    assert body["reasons"] == ["employer_bankrupt", "employment_ended"]
    assert body["checked_at"] == "2030-06-01T06:30:00+02:00"  # Oslo summer time
    assert datetime.datetime.fromisoformat(body["checked_at"]) == checked


def test_times_are_in_the_portals_time_zone_whatever_is_active(client):
    checked = datetime.datetime(2030, 1, 15, 23, 30, tzinfo=datetime.UTC)
    card = make_card(
        state=Card.State.INVALID, reason_codes=["employment_ended"], checked_at=checked
    )
    revoked = card_revoke(card=make_card(), reason=RevocationReason.LOST, actor=None)
    CardTransition.objects.filter(card=revoked, to_state=Card.State.REVOKED).update(
        at=datetime.datetime(2030, 1, 15, 23, 30, tzinfo=datetime.UTC)
    )
    with timezone.override("America/New_York"):
        body = api(client, card.number).json()
        revoked_body = api(client, revoked.number).json()
    assert body["checked_at"] == "2030-01-16T00:30:00+01:00"  # Oslo winter time, the next day
    assert revoked_body["revoked_on"] == "2030-01-16"  # in New York still the 15th


def test_an_active_card_past_its_valid_until_is_expired_without_reasons(client):
    today = timezone.localdate()
    card = make_card(
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=1),
        reason_codes=["employment_ended"],
    )
    body = api(client, card.number).json()
    assert body["status"] == "expired"
    assert body["reasons"] == []


def test_a_revoked_card(client):
    card = make_card(state=Card.State.REVOKED, reason_codes=["employer_bankrupt"])
    body = api(client, card.number).json()
    assert body["status"] == "revoked"
    assert body["reasons"] == []


def test_a_legacy_ten_digit_number_is_found(client):
    card = make_card(number="4711002345", imported=True)
    response = api(client, "4711002345")
    assert response.status_code == 200
    assert response.json()["card_number"] == card.number


def test_spaces_and_dashes_are_allowed_in_the_number(client):
    card = make_card()
    grouped = f"{card.number[:4]}-{card.number[4:8]}%20{card.number[8:]}"
    assert api(client, grouped).json()["card_number"] == card.number


def test_unknown_mistyped_and_malformed_numbers(client):
    number = card_number_new()
    unknown = api(client, number)
    assert unknown.status_code == 404
    assert unknown.json() == {"status": "not_found"}
    assert unknown["Cache-Control"] == "no-store"

    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    mistyped = api(client, typo, HTTP_ACCEPT_LANGUAGE="en")
    assert mistyped.status_code == 400
    assert mistyped.json() == {
        "status": "invalid_number",
        "error": "mistyped",
        "detail": "The card number is mistyped. Check the digits.",
    }

    malformed = api(client, "12ab", HTTP_ACCEPT_LANGUAGE="en")
    assert malformed.status_code == 400
    assert malformed.json()["status"] == "invalid_number"
    assert malformed.json()["error"] == "malformed"
    assert "12 digits" in malformed.json()["detail"]


def test_a_found_card_is_answered_without_computing_its_check_digit(client, monkeypatch):
    """A stored number is valid by construction, so the check digit is computed only for a
    number no card has: to tell a typo (400) from an unknown card (404)."""
    card = make_card()
    real = numbers.luhn_is_valid
    computed: list[str] = []

    def counted(digits: str) -> bool:
        computed.append(digits)
        return real(digits)

    monkeypatch.setattr(numbers, "luhn_is_valid", counted)
    assert api(client, card.number).status_code == 200
    assert computed == []
    typo = card.number[:-1] + str((int(card.number[-1]) + 1) % 10)
    assert api(client, typo).json()["error"] == "mistyped"
    assert computed == [typo]


def test_every_issued_number_passes_its_check_digit():
    assert all(classify(card_number_new()) is NumberForm.OURS for _ in range(1000))


def test_the_identity_number_and_birth_date_are_never_in_the_json(client):
    card = make_card()
    raw = api(client, card.number).content.decode()
    assert card.holder_national_id not in raw
    assert card.holder_national_id[:6] not in raw
    assert "1979-11-30" not in raw
    assert "30.11.1979" not in raw
    assert "birth" not in raw
    assert "national" not in raw


def test_only_get_and_head(client):
    card = make_card()
    assert client.head(f"/api/v1/cards/{card.number}").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/cards/{card.number}")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"
        assert response.json() == {"status": "method_not_allowed"}


@pytest.mark.parametrize(
    "number",
    [
        "9" * 50_000,
        "١٢٣",
        "".join(chr(0xFF10 + int(d)) for d in "123456789012"),
        "1234%00567890",
        "%00",
        "%ff%fe",
        "%3Cscript%3E",
        "..%5C..%5Cetc%5Cpasswd",
        "12345678901%C2%B2",
        "%20%20",
    ],
)
def test_hostile_numbers_are_400_never_500(client, number):
    response = api(client, number)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid_number"


def test_a_number_with_slashes_is_no_route_not_an_error(client):
    assert api(client, "..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_an_anonymous_lookup_costs_one_query(client, django_assert_num_queries):
    card = make_card()
    with django_assert_num_queries(1):
        assert api(client, card.number).status_code == 200


def test_on_postgresql_the_lookup_becomes_a_prepared_statement(client, postgres_required):
    card = make_card()
    # psycopg prepares a statement once a connection has run it five times (prepare_threshold).
    for _ in range(6):
        assert api(client, card.number).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"cards_card"."number" = $1' in statement for statement in statements)


def test_a_keyed_lookup_costs_at_most_two_queries(client, django_assert_max_num_queries):
    card = make_card()
    _, key = api_client_create(name="Byggeplass-ID", lookups_per_minute=100)
    with django_assert_max_num_queries(2):
        response = api(client, card.number, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200


# --- Rate limits -------------------------------------------------------------------------


def test_anonymous_clients_get_n_lookups_then_429(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 3
    card = make_card()
    for _ in range(3):
        assert api(client, card.number).status_code == 200
    limited = api(client, card.number)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "50"
    assert limited.json()["status"] == "rate_limited"
    assert limited["Cache-Control"] == "no-store"
    # Unknown and malformed numbers count too: they are what enumeration looks like.
    assert api(client, card_number_new()).status_code == 429
    assert api(client, "x").status_code == 429


def test_the_budget_comes_back_in_the_next_window(client, settings, monkeypatch):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    card = make_card()
    monkeypatch.setattr(ratelimit, "_now", lambda: WINDOW_START + 59.5)
    assert api(client, card.number).status_code == 200
    limited = api(client, card.number)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "1"
    monkeypatch.setattr(ratelimit, "_now", lambda: WINDOW_START + 60)
    assert api(client, card.number).status_code == 200


def test_separate_addresses_have_separate_budgets(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    card = make_card()
    assert api(client, card.number, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert api(client, card.number, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert api(client, card.number, REMOTE_ADDR="198.51.100.2").status_code == 200


def test_an_api_key_gets_its_own_higher_limit(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    card = make_card()
    _, key = api_client_create(name="Byggeplass-ID", lookups_per_minute=4)
    for _ in range(4):
        assert api(client, card.number, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    limited = api(client, card.number, HTTP_X_API_KEY=key)
    assert limited.status_code == 429
    assert limited.json()["status"] == "rate_limited"
    # The key's lookups did not touch the address's anonymous budget.
    assert api(client, card.number).status_code == 200
    assert api(client, card.number).status_code == 429


def test_each_key_is_counted_separately(client, pinned_clock):
    card = make_card()
    _, first = api_client_create(name="A", lookups_per_minute=1)
    _, second = api_client_create(name="B", lookups_per_minute=1)
    assert api(client, card.number, HTTP_X_API_KEY=first).status_code == 200
    assert api(client, card.number, HTTP_X_API_KEY=first).status_code == 429
    assert api(client, card.number, HTTP_X_API_KEY=second).status_code == 200


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_an_invalid_key_is_401(client, header):
    card = make_card()
    client_row, key = api_client_create(name="A", lookups_per_minute=10)
    wrong_secret = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    for presented in (wrong_secret, "nonsense", "", "x" * 5000, "ключ-ключ-ключ"):
        value = f"Bearer {presented}" if header == "HTTP_AUTHORIZATION" else presented
        response = api(client, card.number, **{header: value})
        assert response.status_code == 401, presented
        assert response.json() == {"status": "invalid_api_key"}
        assert "holder_name" not in response.content.decode()
    client_row.is_active = False
    client_row.save()
    value = f"Bearer {key}" if header == "HTTP_AUTHORIZATION" else key
    assert api(client, card.number, **{header: value}).status_code == 401


def test_another_authorization_scheme_is_an_invalid_key(client):
    card = make_card()
    response = api(client, card.number, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    card = make_card()
    assert api(client, card.number, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 200
    # A new made-up address does not buy a new budget.
    assert api(client, card.number, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


def test_behind_a_trusted_proxy_the_address_it_appended_counts(client, settings, pinned_clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    card = make_card()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert api(client, card.number, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 200
    assert api(client, card.number, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 200
    # The client's own leftmost entries are not believed: the proxy's entry still counts.
    spoofed = api(client, card.number, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1", **proxy)
    assert spoofed.status_code == 429


# --- API keys ----------------------------------------------------------------------------


def test_the_key_is_returned_once_and_only_its_hash_is_stored():
    client_row, key = api_client_create(name="Byggeplass-ID", lookups_per_minute=600)
    stored = ApiClient.objects.get(pk=client_row.pk)
    assert key.startswith(stored.key_prefix)
    assert len(stored.key_prefix) == 8
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(
        list(ApiClient.objects.values()), default=str
    )  # the key itself is nowhere in the row
    assert stored.lookups_per_minute == 600
    assert api_client_for_key(key) == stored


def test_keys_are_unique_and_verified_in_full():
    first, first_key = api_client_create(name="A", lookups_per_minute=10)
    second, second_key = api_client_create(name="B", lookups_per_minute=10)
    assert first_key != second_key
    assert first.key_prefix != second.key_prefix
    assert api_client_for_key(second_key) == second
    assert api_client_for_key(first_key[:8] + second_key[8:]) is None
    assert api_client_for_key(first_key[:8]) is None
    assert api_client_for_key(first_key + "x") is None
