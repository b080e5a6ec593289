"""HTTP plumbing shared by the register adapters.

One place decides what counts as a register being unavailable (connection refused, timeout,
a 5xx after retries, an answer that is not the JSON asked for, an unexpected status), so that
every adapter raises RegisterUnavailable the same way and never turns an outage into
"not found" (DOMAIN.md: an outage is never a reason to invalidate a card).

Answers a register gave (200, and the statuses an adapter declares as meaningful, such as
404 and 410) are cached for REGISTER_CACHE_SECONDS through Django's cache framework, so a
burst of checks for one employer asks Enhetsregisteret once, and every process (web, worker)
shares the answer when the cache is Redis. Failures are never cached.
"""

from __future__ import annotations

import contextvars
import datetime
import email.utils
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from requests.adapters import HTTPAdapter

from registry.clients.maskinporten import BearerToken
from registry.clients.waiting import is_person_waiting, register_timeout_seconds
from registry.facts import RegisterUnavailable

logger = logging.getLogger(__name__)

# Statuses worth asking again: the register or a proxy in front of it had a bad moment.
_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_CACHE_PREFIX = "registry"

Params = Mapping[str, str | int | Iterable[str]]
K = TypeVar("K")
V = TypeVar("V")


def ask_each(keys: Iterable[K], question: Callable[[K], V]) -> dict[K, V]:
    """Ask the register about each key, at most REGISTER_MAX_CONCURRENT_REQUESTS at a time.

    A night's re-check asks about thousands of persons per chunk, one request each; the
    register's latency, not our CPU, is what limits it, so a worker process keeps a bounded
    number of requests in flight (the bound keeps a register's per-client limit and the
    429s past it out of reach). The first RegisterUnavailable stops the rest and is raised,
    as the one-at-a-time loop did. Each thread runs in a copy of the caller's context, so
    a person waiting (registry.clients.waiting) shortens every request's timeout there too.
    """
    ordered = sorted(set(keys))  # type: ignore[type-var]
    limit = max(1, int(setting("REGISTER_MAX_CONCURRENT_REQUESTS", 8)))
    if limit == 1 or len(ordered) <= 1:
        return {key: question(key) for key in ordered}
    found: dict[K, V] = {}
    with ThreadPoolExecutor(max_workers=min(limit, len(ordered))) as pool:
        futures = {
            key: pool.submit(_in_thread, contextvars.copy_context(), question, key)
            for key in ordered
        }
        # The first failure, whichever key it was, stops the rest: waiting in key order would
        # first wait out every request (and its 429 retries) before a quick failure's turn.
        done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
        failed = next((future for future in done if future.exception() is not None), None)
        if failed is not None:
            for future in futures.values():
                future.cancel()
            raise failed.exception()  # type: ignore[misc]
        for key, future in futures.items():
            found[key] = future.result()
    return found


def _in_thread(context: contextvars.Context, question: Callable[[K], V], key: K) -> V:
    """Run one question in a pool thread; a database connection the question opened there
    (a cached answer written back, a copy's row) is closed with the thread's work, not left
    open until the thread is collected."""
    try:
        return context.run(question, key)
    finally:
        connections.close_all()


class RegisterThrottled(RegisterUnavailable):
    """The register asked us to slow down (HTTP 429); retry_after_seconds says for how long."""

    def __init__(self, register: str, detail: str = "", retry_after_seconds: float | None = None):
        super().__init__(register, detail)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class RegisterAnswer:
    """A status the adapter asked for, with the JSON body (None when the body was not JSON)."""

    status: int
    body: Any
    # The response's headers, for the few callers that need one (an event feed's ETag); not
    # cached.
    headers: Mapping[str, str] = field(default_factory=dict)


def setting(name: str, default: Any) -> Any:
    """The register settings are optional in settings.py: read them with their default here."""
    return getattr(settings, name, default)


def cache_key(register: str, path: str, params: Params | None = None) -> str:
    # Hashed: keys stay short and valid for every cache backend, and identity numbers in
    # paths do not show up in plain text when someone lists the cache's keys.
    query = urlencode(sorted(_flat_params(params)), doseq=True) if params else ""
    digest = hashlib.sha256(f"{path}?{query}".encode()).hexdigest()[:32]
    return f"{_CACHE_PREFIX}:{register}:{digest}"


def cache_forget(register: str, path: str, params: Params | None = None) -> None:
    cache.delete(cache_key(register, path, params))


def _flat_params(params: Params | None) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for name, value in (params or {}).items():
        if isinstance(value, str | int):
            flat.append((name, str(value)))
        else:
            flat.extend((name, str(v)) for v in value)
    return flat


class RegisterClient:
    """A register's HTTP API at one base URL, with timeouts, retries and caching."""

    def __init__(
        self,
        *,
        register: str,
        base_url: str,
        accept: str = "application/json",
        token: str | BearerToken = "",
        retry_after_in_milliseconds: bool = False,
    ) -> None:
        self.register = register
        self.base_url = base_url.rstrip("/")
        self.accept = accept
        self.token = token if isinstance(token, BearerToken) else BearerToken(static=token)
        # Folkeregisteret sends Retry-After in milliseconds (REGISTERS.md); HTTP says seconds.
        self.retry_after_in_milliseconds = retry_after_in_milliseconds
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "hmsportal"
        # Room in the connection pool for every request ask_each keeps in flight at once.
        pool = max(10, int(setting("REGISTER_MAX_CONCURRENT_REQUESTS", 8)))
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get_json(
        self,
        path: str,
        *,
        params: Params | None = None,
        accept: str | None = None,
        token: str | None = None,
        answers: Iterable[int] = (200,),
        cache: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> RegisterAnswer:
        """GET base_url + path; return the answer when its status is one of `answers`.

        200 must carry JSON; other listed statuses (404, 410 …) may carry an error body or
        none. Anything else raises RegisterUnavailable (RegisterThrottled for 429).
        """
        wanted = frozenset(answers)
        key = cache_key(self.register, path, params)
        ttl = int(setting("REGISTER_CACHE_SECONDS", 300))
        if cache and ttl > 0:
            stored = _cache_get(key)
            if stored is not None:
                return stored
        answer = self._get_with_retries(
            path, params, accept or self.accept, token, wanted, headers or {}
        )
        if cache and ttl > 0:
            _cache_set(key, answer, ttl)
        return answer

    def _get_with_retries(
        self,
        path: str,
        params: Params | None,
        accept: str,
        token: str | None,
        wanted: frozenset[int],
        extra_headers: Mapping[str, str],
    ) -> RegisterAnswer:
        retries = int(setting("REGISTER_RETRIES", 2))
        backoff = float(setting("REGISTER_RETRY_BACKOFF_SECONDS", 0.5))
        # A person waiting gets one more try at once, and the person is told the register is
        # not answering; a register that let the web timeout run out has used the page's whole
        # budget (REGISTER_WEB_TIMEOUT_SECONDS), so it is not asked again.
        waiting = is_person_waiting()
        if waiting:
            retries, backoff = min(retries, 1), 0.0
        attempt = 0
        throttled = 0
        while True:
            try:
                return self._get_once(path, params, accept, token, wanted, extra_headers)
            except RegisterThrottled as error:
                # 429: the register says when to come back. A worker waits that long (capped,
                # so a register asking for an hour does not hold a chunk for an hour) a few
                # times, then gives up like any outage: the cards keep their status and the
                # run's left-over pass asks again later. A person waiting is not held.
                delay = self._throttle_delay(error.retry_after_seconds, throttled)
                if waiting or throttled >= int(setting("REGISTER_THROTTLE_RETRIES", 4)):
                    raise
                logger.info("%s: HTTP 429, asking again in %.2f s", self.register, delay)
                time.sleep(delay)
                throttled += 1
            except _Transient as error:
                if attempt >= retries or (waiting and error.timed_out):
                    raise RegisterUnavailable(self.register, error.detail) from error
                logger.warning(
                    "%s: %s (attempt %d of %d), retrying",
                    self.register,
                    error.detail,
                    attempt + 1,
                    retries + 1,
                )
                if backoff > 0:
                    time.sleep(backoff * 2**attempt)
                attempt += 1

    def _get_once(
        self,
        path: str,
        params: Params | None,
        accept: str,
        token: str | None,
        wanted: frozenset[int],
        extra_headers: Mapping[str, str],
    ) -> RegisterAnswer:
        headers = {**extra_headers, "Accept": accept}
        bearer = self.token.value(register=self.register) if token is None else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        timeout = register_timeout_seconds()
        url = f"{self.base_url}{path}"
        try:
            response = self.session.get(
                url, params=_flat_params(params), headers=headers, timeout=timeout
            )
        except requests.Timeout as error:
            raise _Transient(f"no answer within {timeout:g} s", timed_out=True) from error
        except requests.RequestException as error:
            raise _Transient(f"could not connect ({type(error).__name__})") from error

        status = response.status_code
        if status in wanted:
            return RegisterAnswer(
                status=status,
                body=self._body(response, required=status == 200),
                headers=response.headers,
            )
        if status in _TRANSIENT_STATUSES:
            raise _Transient(f"HTTP {status}{_error_text(response)}")
        if status == 429:
            raise RegisterThrottled(
                self.register,
                f"HTTP 429, too many requests{_error_text(response)}",
                retry_after_seconds=self._retry_after(response),
            )
        if status == 401 and token is None and self.token.scope:
            # A Maskinporten token can be refused before its stated expiry (a key rotated,
            # access withdrawn): forget it, so the retry asks Maskinporten for a new one.
            self.token.forget()
            raise _Transient(f"HTTP 401{_error_text(response)}")
        # 400, 401, 403, 406 …: our request or credentials are wrong. The register did not
        # say anything about the unit or person, so this is an outage, not a "not found".
        raise RegisterUnavailable(self.register, f"HTTP {status}{_error_text(response)}")

    def _body(self, response: requests.Response, *, required: bool) -> Any:
        try:
            return response.json()
        except ValueError as error:
            if required:
                raise RegisterUnavailable(
                    self.register, f"HTTP {response.status_code} with a body that is not JSON"
                ) from error
            return None

    def _retry_after(self, response: requests.Response) -> float | None:
        """Retry-After as seconds: a number (seconds, or Folkeregisteret's milliseconds) or an
        HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
        value = response.headers.get("Retry-After", "").strip()
        try:
            number = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.UTC)
            return max(0.0, (when - datetime.datetime.now(tz=datetime.UTC)).total_seconds())
        return number / 1000 if self.retry_after_in_milliseconds else number

    @staticmethod
    def _throttle_delay(retry_after: float | None, attempt: int) -> float:
        cap = float(setting("REGISTER_RETRY_AFTER_MAX_SECONDS", 30.0))
        if retry_after is None:
            # No Retry-After: back off as for a transient error, at least a little.
            retry_after = (
                max(0.1, float(setting("REGISTER_RETRY_BACKOFF_SECONDS", 0.5))) * 2**attempt
            )
        return min(max(0.0, retry_after), cap)


class _Transient(Exception):
    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.timed_out = timed_out


def error_code(body: Any) -> str:
    """The error code of a Skatteetaten-style error body ({"kode": …, "melding": …}), or ""."""
    if isinstance(body, dict):
        return str(body.get("kode") or "")
    return ""


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        code = body.get("kode") or body.get("error") or ""
        message = body.get("melding") or body.get("message") or ""
        text = " ".join(str(part) for part in (code, message) if part)
        return f": {text[:200]}" if text else ""
    return ""


def _cache_get(key: str) -> RegisterAnswer | None:
    stored = cache.get(key)
    if not isinstance(stored, str):
        return None
    try:
        status, body = json.loads(stored)
    except (ValueError, TypeError):
        return None
    return RegisterAnswer(status=int(status), body=body)


def _cache_set(key: str, answer: RegisterAnswer, ttl: int) -> None:
    # Stored as JSON text rather than pickled objects: what the register said, nothing more.
    cache.set(key, json.dumps([answer.status, answer.body]), ttl)
