"""hmsportal.ratelimit: client addresses, the fixed-window counter and the decorator."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import RequestFactory

from hmsportal import ratelimit
from hmsportal.ratelimit import Budget, address_identity, client_address, hit, rate_limited

WINDOW_START = 1_800_000_000.0  # a multiple of 60: the start of a window


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """A clock the test moves by hand: clock[0] is now."""
    now = [WINDOW_START + 20]
    monkeypatch.setattr(ratelimit, "_now", lambda: now[0])
    yield now


def request_from(remote: str = "192.0.2.10", forwarded: str | None = None) -> HttpRequest:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/status/", **extra)


# --- Client addresses --------------------------------------------------------------------


def test_the_address_is_remote_addr_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from("192.0.2.10", "203.0.113.9")) == "192.0.2.10"


def test_one_trusted_proxy_the_rightmost_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from("10.0.0.1", "6.6.6.6, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"


def test_two_trusted_proxies_the_second_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_from("10.0.0.2", "6.6.6.6,203.0.113.9 , 10.0.0.1")
    assert client_address(request) == "203.0.113.9"


def test_fewer_entries_than_proxies_takes_the_leftmost(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request_from("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


def test_a_garbled_forwarded_entry_falls_back_to_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_from("10.0.0.1", "not-an-ip")) == "10.0.0.1"
    assert client_address(request_from("10.0.0.1", "")) == "10.0.0.1"


def test_no_forwarded_header_behind_a_proxy_is_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_from("10.0.0.1")) == "10.0.0.1"


def test_ipv6_addresses_count_per_64_network():
    first = address_identity("2001:db8:1:2:aaaa::1")
    assert first == address_identity("2001:db8:1:2:bbbb::2")
    assert first != address_identity("2001:db8:1:3::1")
    assert address_identity("::ffff:192.0.2.1") == address_identity("192.0.2.1")
    assert address_identity("") == "addr:unknown"


# --- The counter -------------------------------------------------------------------------


def test_hit_allows_the_limit_then_refuses_until_the_window_ends(clock):
    budget = Budget(identity="addr:192.0.2.10", per_minute=3)
    decisions = [hit(scope="test", budget=budget) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4]
    assert decisions[-1].retry_after == 40
    clock[0] = WINDOW_START + 59.2
    assert hit(scope="test", budget=budget).retry_after == 1
    clock[0] = WINDOW_START + 60
    fresh = hit(scope="test", budget=budget)
    assert fresh.allowed
    assert fresh.count == 1
    assert fresh.retry_after == 60


def test_scopes_and_identities_are_counted_apart(clock):
    one = Budget(identity="addr:192.0.2.10", per_minute=1)
    other = Budget(identity="key:7", per_minute=1)
    assert hit(scope="a", budget=one).allowed
    assert not hit(scope="a", budget=one).allowed
    assert hit(scope="b", budget=one).allowed
    assert hit(scope="a", budget=other).allowed


def test_an_existing_counter_is_incremented(clock):
    budget = Budget(identity="addr:192.0.2.10", per_minute=5)
    key = f"ratelimit:test:{budget.identity}:{int((WINDOW_START + 20) // 60)}"
    cache.add(key, 2, timeout=60)
    assert hit(scope="test", budget=budget).count == 3


def test_the_counter_survives_a_concurrent_creator(clock, settings, monkeypatch):
    """Local memory: another process creates the counter between our incr and our add."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    budget = Budget(identity="addr:192.0.2.10", per_minute=5)
    key = f"ratelimit:test:{budget.identity}:{int((WINDOW_START + 20) // 60)}"
    local = caches["default"]
    real_incr = local.incr
    missing_once = [True]

    def incr_after_a_rival(name: str, delta: int = 1) -> int:
        if missing_once and missing_once.pop():
            local.add(key, 2, timeout=60)  # the rival's add lands first...
            raise ValueError("no such key")  # ...after our incr found nothing
        return real_incr(name, delta)

    monkeypatch.setattr(local, "incr", incr_after_a_rival)
    assert hit(scope="test", budget=budget).count == 3


# --- The decorator -----------------------------------------------------------------------


def _limited(request: HttpRequest, decision: ratelimit.Decision) -> HttpResponse:
    return JsonResponse({"status": "rate_limited", "limit": decision.limit})


def test_the_decorator_answers_429_with_retry_after(settings, clock):
    settings.STATUS_RATE_LIMIT_PER_MINUTE = 2
    calls: list[str] = []

    @rate_limited(scope="test", on_limited=_limited)
    def view(request: HttpRequest, number: str) -> HttpResponse:
        calls.append(number)
        return HttpResponse("ok")

    assert view(request_from(), "1").status_code == 200
    assert view(request_from(), "2").status_code == 200
    refused = view(request_from(), "3")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused.content == b'{"status": "rate_limited", "limit": 2}'
    assert calls == ["1", "2"]
    assert view(request_from("192.0.2.99"), "4").status_code == 200


def test_the_default_anonymous_limit_is_30(clock):
    @rate_limited(scope="test", on_limited=_limited)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    statuses = [view(request_from()).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]


def test_a_resolver_response_is_returned_without_counting(clock):
    @rate_limited(
        scope="test",
        on_limited=_limited,
        budget=lambda request: HttpResponse("who are you?", status=401),
    )
    def view(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the view must not run")

    assert view(request_from()).status_code == 401
    assert cache.get(f"ratelimit:test:addr:192.0.2.10:{int((WINDOW_START + 20) // 60)}") is None


@pytest.fixture
def unreachable_redis_cache(settings) -> Iterator[None]:
    """The default cache pointed at a port where nothing listens (bound, so nobody else can)."""
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        settings.CACHES = {
            "default": {
                "BACKEND": "hmsportal.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {"socket_connect_timeout": 1, "retry_on_timeout": False},
            }
        }
        yield


def test_the_status_check_keeps_answering_when_the_cache_is_down(
    unreachable_redis_cache, clock, caplog
):
    @rate_limited(scope="test", on_limited=_limited)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    with caplog.at_level(logging.ERROR, logger="hmsportal.ratelimit"):
        response = view(request_from())
    assert response.status_code == 200
    assert "Rate limit counter unavailable" in caplog.text


# --- On Redis, as in production ----------------------------------------------------------


@pytest.fixture
def redis_cache(redis_url: str, settings) -> Iterator[Any]:
    settings.CACHES = {
        "default": {
            "BACKEND": "hmsportal.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]


def _ttl(redis_cache: Any, key: str) -> int:
    full_key = redis_cache.make_and_validate_key(key)
    return int(redis_cache._cache.get_client(full_key).ttl(full_key))


def test_on_redis_the_first_hit_gives_the_counter_its_lifetime_once(redis_cache, clock):
    budget = Budget(identity="addr:192.0.2.10", per_minute=5)
    key = f"ratelimit:test:{budget.identity}:{int(clock[0] // 60)}"
    assert hit(scope="test", budget=budget).count == 1
    assert 60 < _ttl(redis_cache, key) <= 65
    redis_cache._cache.get_client(None, write=True).expire(
        redis_cache.make_and_validate_key(key), 30
    )
    assert hit(scope="test", budget=budget).count == 2
    # Later hits leave the lifetime alone: the window ends when it ends.
    assert _ttl(redis_cache, key) <= 30


def test_on_redis_the_counter_works_after_redis_forgot_the_script(redis_cache, clock):
    budget = Budget(identity="addr:192.0.2.11", per_minute=5)
    assert hit(scope="test", budget=budget).count == 1
    client = redis_cache._cache.get_client(None, write=True)
    client.script_flush()
    assert hit(scope="test", budget=budget).count == 2
    # The count went through the script (loaded again), not Django's two-step incr.
    assert client.script_exists(ratelimit._COUNTER_SCRIPT.sha) == [True]
