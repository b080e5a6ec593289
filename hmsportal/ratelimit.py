"""Rate limiting for the public status check, counted in Django's cache.

A fixed one-minute window per client, counted in one round trip: on Redis (production, shared
by every process) a Lua script increments the counter and gives a new one its lifetime;
elsewhere (the local-memory cache of the embedded setup) cache.incr, or cache.add for the
first request of a window. No SQL is involved, so an anonymous lookup costs exactly one
query: the card.

Anonymous clients are counted per network address; clients with an API key are counted per
key, with the key's own limit. Which budget a request draws on is decided by a resolver the
view passes in, so this module knows nothing about cards or API keys.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, cast

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.commands.core import Script
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
DEFAULT_ANONYMOUS_LIMIT = 30
# Counters live a little longer than their window: web servers' clocks differ by a second or
# two, and a counter must not expire while one of them still counts into its window.
_COUNTER_MARGIN_SECONDS = 5

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def _now() -> float:
    """The wall clock (a separate function so tests can pin the window)."""
    return time.time()


@dataclass(frozen=True)
class Budget:
    """Who is counted (a stable identity) and how many requests a minute they may make."""

    identity: str
    per_minute: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    # Seconds until the current window ends, rounded up: the Retry-After value.
    retry_after: int


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one our own proxies put in X-Forwarded-For.

    Every proxy appends the address it received the request from, so with N trusted proxies
    in front of us the client is the N-th entry from the right. Entries to the left of it were
    written by the client and can say anything, so they are never used.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    if proxies > 0 and forwarded:
        entries = [entry.strip() for entry in forwarded.split(",")]
        # Fewer entries than proxies: the request skipped an outer proxy, so every entry was
        # still written by one of ours and the leftmost is the nearest thing to the client.
        candidate = entries[max(len(entries) - proxies, 0)]
        if _parse_ip(candidate) is not None:
            return candidate
    return remote


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


# A client sends many requests from one address: parse each address once (the cache is
# bounded, so a flood of new addresses only evicts).
@functools.lru_cache(maxsize=4096)
def address_identity(address: str) -> str:
    """The counter identity for an address; IPv6 counts per /64, what one subscriber gets."""
    parsed = _parse_ip(address)
    if parsed is None:
        return f"addr:{address[:64] or 'unknown'}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"addr:{parsed.ipv4_mapped}"
        network = ipaddress.IPv6Network((parsed, 64), strict=False)
        return f"addr:{network.network_address}/64"
    return f"addr:{parsed}"


def anonymous_budget(request: HttpRequest) -> Budget:
    """The shared per-address budget of everyone without an API key."""
    limit = int(getattr(settings, "STATUS_RATE_LIMIT_PER_MINUTE", DEFAULT_ANONYMOUS_LIMIT))
    return Budget(identity=address_identity(client_address(request)), per_minute=limit)


def hit(*, scope: str, budget: Budget) -> Decision:
    """Count one request against the budget in the current window and say if it may proceed."""
    now = _now()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    key = f"ratelimit:{scope}:{budget.identity}:{window}"
    try:
        count = _increment(key)
    except Exception:
        # The status check must keep answering when the cache is down: inspectors on a site
        # need it more than we need the throttle. Log loudly and let the request through.
        logger.exception("Rate limit counter unavailable; allowing the request")
        return Decision(allowed=True, count=0, limit=budget.per_minute, retry_after=retry_after)
    return Decision(
        allowed=count <= budget.per_minute,
        count=count,
        limit=budget.per_minute,
        retry_after=retry_after,
    )


def _increment(key: str) -> int:
    # The handle itself, not the django.core.cache.cache proxy, which isinstance cannot see through.
    current = caches["default"]
    if isinstance(current, RedisCache):
        return _increment_on_redis(current, key)
    # incr first: after the first request of a window this is the only call needed.
    try:
        return int(current.incr(key))
    except ValueError:
        pass
    if current.add(key, 1, timeout=WINDOW_SECONDS + _COUNTER_MARGIN_SECONDS):
        return 1
    # Another process created the counter between our incr and add.
    return int(current.incr(key))


# INCR creates the counter at 1; the request that creates it also gives it its lifetime. One
# script is one round trip and atomic, so a counter can never be left without an expiry. Given
# as bytes, the script needs no client to compute its SHA, so one object serves every client.
_COUNTER_SCRIPT = Script(
    None,  # type: ignore[arg-type]
    b"""
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
""",
)


def _increment_on_redis(redis_cache: RedisCache, key: str) -> int:
    """One round trip to Redis for the status check, the portal's hottest path.

    Django's RedisCache.incr asks EXISTS first (two round trips per lookup), and a MULTI
    pipeline of INCR and EXPIRE cost a third more client CPU than this script (bench/README.md).
    The script is run by its SHA as redis-py's Script object would, without the object's
    per-call import and checks; a Redis that has forgotten it (restarted, flushed) is given
    it again once.
    """
    # make_key, not make_and_validate_key: the key is made of our own parts above, and the
    # validation only warns about keys memcached could not store.
    full_key = redis_cache.make_key(key)
    # Django's RedisCacheClient has no public API for scripts.
    client = cast(Any, redis_cache)._cache.get_client(full_key, write=True)
    lifetime = WINDOW_SECONDS + _COUNTER_MARGIN_SECONDS
    try:
        count = client.evalsha(_COUNTER_SCRIPT.sha, 1, full_key, lifetime)
    except NoScriptError:
        client.script_load(_COUNTER_SCRIPT.script)
        count = client.evalsha(_COUNTER_SCRIPT.sha, 1, full_key, lifetime)
    return int(count)


BudgetResolver = Callable[[HttpRequest], Budget | HttpResponse]
LimitedResponder = Callable[[HttpRequest, Decision], HttpResponse]


def too_many_requests(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The portal's shared 429 page: wait this many seconds and try again."""
    return render(request, "errors/429.html", {"retry_after": decision.retry_after}, status=429)


def rate_limited(
    *,
    scope: str,
    on_limited: LimitedResponder = too_many_requests,
    budget: BudgetResolver = anonymous_budget,
) -> Callable[[View[P]], View[P]]:
    """Decorate a view so that each call draws on a budget; over it, answer `on_limited`.

    `budget` decides whose budget a request draws on; it may instead return a response (an
    invalid API key, say), which is sent as is. Views that give the same `scope` share budgets.
    `on_limited` builds the 429 answer (by default the portal's shared page); the Retry-After
    header is added here.
    """

    def decorator(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            resolved = budget(request)
            if isinstance(resolved, HttpResponse):
                return resolved
            decision = hit(scope=scope, budget=resolved)
            if not decision.allowed:
                response = on_limited(request, decision)
                response.status_code = 429
                response["Retry-After"] = str(decision.retry_after)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
