"""Shared helpers of the benchmarks: throw-away PostgreSQL databases, migrating, timing.

Benchmarks use their own databases named bench_* on the PostgreSQL at BENCH_PG_HOST
(127.0.0.1:5432, user postgres, trust authentication by default) and never touch
`hmsportal` or `test_*`. Every database a benchmark creates is dropped when it ends, also
on failure (use `bench_database()` as a context manager).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(REPO / "manage.py")

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")

_NAME = re.compile(r"^bench_[a-z0-9_]{1,50}$")


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    )


def _check_name(name: str) -> None:
    # The name goes into DDL unquoted-safe only because of this pattern; it also keeps a typo
    # from ever dropping a database that is not a benchmark's.
    if not _NAME.match(name):
        raise ValueError(f"benchmark databases are named bench_[a-z0-9_]+, not {name!r}")


def database_drop(name: str) -> None:
    _check_name(name)
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_create(name: str) -> str:
    """A fresh, empty database (an old one of the same name is dropped); returns its URL."""
    database_drop(name)
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def bench_env(url: str, **extra: str) -> dict[str, str]:
    """The environment for a child process (manage.py, gunicorn) using the bench database."""
    env = dict(os.environ)
    # The embedded default for everything but the database; callers add what they need.
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="hmsportal.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def production_env() -> dict[str, str]:
    """DEBUG off, as in production: no query log, secrets set, plain HTTP on 127.0.0.1."""
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + Fernet.generate_key().decode(),
        "DOCUMENT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "INVOICE_ACCOUNT_NUMBER": "15030000002",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }


def migrate(url: str, **extra: str) -> float:
    """Run `manage.py migrate` against the database in a child process; returns seconds."""
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, MANAGE, "migrate", "--noinput", "-v", "0"],
        env=bench_env(url, **extra),
        cwd=REPO,
        check=True,
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def bench_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """Create and migrate a bench database, yield its URL, drop it afterwards."""
    url = database_create(name)
    try:
        with step(f"migrate {name}"):
            migrate(url)
        yield url
    finally:
        if not keep:
            database_drop(name)


def django_setup(url: str, **extra: str) -> None:
    """Set Django up in this process against the bench database (call once, before imports)."""
    os.environ.update(bench_env(url, **extra))
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        if name not in extra:
            os.environ.pop(name, None)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def psql_connect(url: str) -> Any:
    """A plain psycopg connection (autocommit) for bulk loading with COPY."""
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)


# --- Results for bench/RESULTS.md ---------------------------------------------------------

RESULTS_ENV = "BENCH_RESULTS_FILE"


def record(
    *,
    benchmark: str,
    figure: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float | None,
    target: str,
    met: bool | None,
    ratio: float | None = None,
) -> None:
    """Note one headline figure for bench/run.py's RESULTS.md (a JSON line in the file that
    BENCH_RESULTS_FILE names; nothing when a benchmark runs on its own).

    ratio: value / baseline_value unless given (some figures compare the other way round).
    met: whether the target holds; None when the figure has no target of its own.
    """
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    entry = {
        "benchmark": benchmark,
        "figure": figure,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "target": target,
        "met": met,
        "load": load_average(),
    }
    with open(path, "a", encoding="utf-8") as results:
        results.write(json.dumps(entry) + "\n")


# --- Timing ------------------------------------------------------------------------------


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """Print how long a preparation step took (to stderr, so reports stay clean)."""
    started = time.perf_counter()
    print(f"  … {label}", file=sys.stderr, flush=True)
    yield
    print(f"    {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def best_of(repeat: int, function: Callable[[], Any]) -> float:
    """The fastest of `repeat` runs: the least disturbed by the rest of the machine."""
    return min(timed(function)[0] for _ in range(repeat))


def load_average() -> str:
    """The 1/5/15-minute load averages: figures from a busy machine are not comparable."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([a-z_]+)"?')


def statement_kind(sql: str) -> str:
    """A statement's verb and first table: "SELECT cards_card", "SAVEPOINT" …"""
    head = sql.lstrip()[:4000]
    verb = head.split(None, 1)[0].upper() if head else "?"
    match = _TABLE.search(head)
    return f"{verb} {match.group(1)}" if match else verb


@dataclass
class QueryCounter:
    """Counts the SQL statements a connection executes (connection.execute_wrapper)."""

    count: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    # Seconds spent executing each kind (the database's work, the round trip and the driver).
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        kind = statement_kind(sql)
        self.count += 1
        self.kinds[kind] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[kind] += time.perf_counter() - started


@contextlib.contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Count every statement Django sends on the default connection inside the block."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


@dataclass
class RedisCounter:
    """Counts what this process sends to Redis: round trips (one per packed send, so a
    pipeline or a script is one) and commands by name."""

    round_trips: int = 0
    commands: Counter[str] = field(default_factory=Counter)


@contextlib.contextmanager
def count_redis() -> Iterator[RedisCounter]:
    """Count every Redis command this process sends inside the block, at the connection.

    Counted in redis-py's Connection rather than by the server: the shared Redis has other
    clients, so a server-wide INFO commandstats delta would count theirs too. Every command
    and every pipeline leaves through send_packed_command, whichever cache, session or
    message backend issued it; the command names are read back from the packed bytes.
    """
    from redis.connection import AbstractConnection

    counter = RedisCounter()
    original = AbstractConnection.send_packed_command

    def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
        counter.round_trips += 1
        chunks = [command] if isinstance(command, (bytes, str)) else list(command)
        for name in _redis_command_names(b"".join(_as_bytes(chunk) for chunk in chunks)):
            counter.commands[name] += 1
        original(self, command, check_health)

    AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


def _as_bytes(chunk: Any) -> bytes:
    return chunk.encode() if isinstance(chunk, str) else bytes(chunk)


def _redis_command_names(packed: bytes) -> list[str]:
    """The command names in RESP-encoded requests (*<n> then $<len> <arg> n times)."""
    names: list[str] = []
    position = 0
    while position < len(packed) and packed[position : position + 1] == b"*":
        end = packed.index(b"\r\n", position)
        arguments = int(packed[position + 1 : end])
        position = end + 2
        for index in range(arguments):
            end = packed.index(b"\r\n", position)
            length = int(packed[position + 1 : end])
            if index == 0:
                names.append(packed[end + 2 : end + 2 + length].decode().upper())
            position = end + 2 + length + 2
    return names


# --- Card numbers ------------------------------------------------------------------------


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        if position % 2 == 0:  # doubled: the check digit will sit to the right of it
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def card_numbers(count: int, rng: random.Random) -> list[str]:
    """count distinct 12-digit card numbers as cards/numbers.py makes them (Luhn digit last)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        body = str(rng.randrange(10**10, 10**11))
        numbers.add(body + _luhn_digit(body))
    result = list(numbers)
    rng.shuffle(result)
    return result


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain-text table (right-aligned numbers) for the reports."""
    cells = [list(map(str, header)), *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
