"""Benchmark of the nightly re-check fanned out over Celery workers, through the http adapters.

Run: .venv/bin/python bench/bench_recheck_http.py [--cards 100000] [--keep-db]

Register stand-ins: one process on 127.0.0.1 (this script's --stand-in mode) answers
Enhetsregisteret's /enheter/{orgnr}, Folkeregisteret's /personer/{id} and Skatteetaten's
employment question in their documented shapes, each after LATENCY (20 ms), with at most
CAP requests in flight per register: one more gets HTTP 429 with Retry-After (seconds;
Folkeregisteret's in milliseconds). It answers from the registry this script makes: every
person in it is alive and employed by their card's employer, every employer an active main
unit, so the night is one where nothing changed. Every request and every 429 is counted.

Workers share register answers through the Redis cache (REGISTER_CACHE_SECONDS), as in
production, so an employer is asked once a night, not once a chunk; the cache is emptied
before each run. Data: a fresh PostgreSQL database bench_recheck_http, migrated; --cards cards (one per
person, construction cards, 2,000 employers) COPYed into cards_card in a shuffled order.

Measured: the whole run as the nightly task starts it (cards.rechecks.recheck_run_start,
its chunks sent through the outbox and a Celery group over Redis) with 1 real `celery
worker` process and then with 2, from the start to the run's FINISHED state: cards per
second, requests per card (counted at the stand-ins), 429s, and the speed-up of the second
worker. Before each run the cards' checks and lookups are reset, so both runs do the same.
Baseline: the stand-ins' own capacity, the requests per second a plain client achieves
against one register with CAP requests in flight. Projection: the rate with 4 workers,
taking each worker past the first to add what the second added, and the time for
1,000,000 cards at that rate.
Targets (issue 12): 1,000,000 cards within 1 hour with 4 workers; at most 1.2 requests per
card on a quiet night; a second worker adding at least 0.8 of the first's throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.bench_recheck import CARD_COLUMNS

DATABASE = "bench_recheck_http"
QUEUE = "bench_recheck_http"
DEFAULT_CARDS = 100_000
EMPLOYERS = 2_000
LATENCY = 0.020
CAP = 32
# Per worker process (REGISTER_MAX_CONCURRENT_REQUESTS, its default): two workers stay
# within CAP, four reach it.
BOUND = 8
CHUNK_CARDS = 2000
SEED = 4712
TARGET_HOURS_FOR_A_MILLION = 1.0
TARGET_REQUESTS_PER_CARD = 1.2
TARGET_SECOND_WORKER = 0.8
WORKER_COUNTS = (1, 2)
PROJECTED_WORKERS = 4

ENHETSREGISTERET = "/enhetsregisteret/api"
FOLKEREGISTERET = "/folkeregisteret/api"
ARBEIDSFORHOLD = "/arbeidsforhold/api"
# Retry-After the stand-ins send with a 429: Folkeregisteret says milliseconds (REGISTERS.md).
RETRY_AFTER = {ENHETSREGISTERET: "1", FOLKEREGISTERET: "250", ARBEIDSFORHOLD: "1"}


# --- The register stand-ins (run in their own process) -----------------------------------


def stand_in_main(port_file: str, latency: float, cap: int) -> int:
    from tests.registry.servers import enhet, freg_person

    lock = threading.Lock()
    slots = {prefix: threading.BoundedSemaphore(cap) for prefix in RETRY_AFTER}
    counts = {prefix: {"requests": 0, "throttled": 0} for prefix in RETRY_AFTER}

    def answer(path: str) -> tuple[int, dict[str, str], Any]:
        prefix = next((p for p in RETRY_AFTER if path.startswith(p + "/")), None)
        if prefix is None:
            return 404, {}, {"error": "Not Found"}
        with lock:
            counts[prefix]["requests"] += 1
        if not slots[prefix].acquire(blocking=False):
            with lock:
                counts[prefix]["throttled"] += 1
            return 429, {"Retry-After": RETRY_AFTER[prefix]}, {"kode": "429", "melding": "Too many"}
        try:
            time.sleep(latency)
        finally:
            slots[prefix].release()
        key = path.rsplit("/", 1)[-1]
        if prefix == ENHETSREGISTERET:
            return 200, {}, enhet(key)
        if prefix == FOLKEREGISTERET:
            return 200, {}, freg_person(key)
        return 200, {}, {"aktiv": "JA", "perioder": [{"startdato": "2015-01-01"}]}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a register's API behind a proxy
        # Headers and body leave in two writes: with Nagle's algorithm the body waits for
        # the client's delayed ACK (40 ms), which would double the latency measured.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/_stats":
                with lock:
                    status, headers, body = 200, {}, json.loads(json.dumps(counts))
            elif path == "/_reset":
                with lock:
                    for entry in counts.values():
                        entry.update(requests=0, throttled=0)
                status, headers, body = 200, {}, {}
            else:
                status, headers, body = answer(path)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


def stand_ins_start(workdir: Path, latency: float, cap: int) -> tuple[subprocess.Popen, str]:
    port_file = workdir / "stand-in.port"
    process = subprocess.Popen(
        [
            common.PYTHON,
            __file__,
            "--stand-in",
            str(port_file),
            "--latency",
            str(latency),
            "--cap",
            str(cap),
        ],
        cwd=common.REPO,
        env=dict(os.environ, PYTHONPATH=str(common.REPO)),
    )
    for _ in range(100):
        if port_file.exists() and port_file.read_text():
            return process, f"http://127.0.0.1:{port_file.read_text()}"
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the register stand-ins did not start")


def stand_in_get(origin: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(origin + path, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def stand_in_capacity(origin: str, cap: int, seconds: float = 3.0) -> float:
    """Requests per second a plain client gets from one register with cap requests in flight."""
    import requests

    stop = time.monotonic() + seconds
    done = [0] * cap

    def client(index: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            session.get(f"{origin}{ARBEIDSFORHOLD}/capacity/{index}", timeout=10)
            done[index] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cap) as pool:
        list(pool.map(client, range(cap)))
    return sum(done) / (time.perf_counter() - started)


# --- Data ---------------------------------------------------------------------------------


@contextlib.contextmanager
def own_redis() -> Iterator[str]:
    """A redis-server on a free port for this run (its URL without a database number)."""
    import shutil
    import socket

    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def registry_people(count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """count distinct valid fødselsnummer and EMPLOYERS valid organisation numbers."""
    from registry.identifiers import national_id_with_check_digits, orgnr_with_check_digit

    employers: list[str] = []
    base = 91_000_000
    while len(employers) < EMPLOYERS:
        number = orgnr_with_check_digit(f"{base:08d}")
        base += 1
        if number:
            employers.append(number)
    people: set[str] = set()
    start = datetime.date(1960, 1, 1)
    while len(people) < count:
        born = start + datetime.timedelta(days=rng.randrange(0, 40 * 365))
        first_nine = f"{born:%d%m%y}{rng.randrange(0, 500):03d}"
        number = national_id_with_check_digits(first_nine)
        if number:
            people.add(number)
    return sorted(people), employers


def load_cards(url: str, count: int) -> None:
    from cards.models import CardType

    rng = random.Random(SEED)
    people, employers = registry_people(count, rng)
    rng.shuffle(people)
    card_type = CardType.objects.get(code="construction").pk
    numbers = common.card_numbers(count, rng)
    today = datetime.datetime.now(datetime.UTC).date()
    created_at = datetime.datetime.now(datetime.UTC)
    connection = common.psql_connect(url)
    try:
        with connection.cursor() as cursor:
            columns = ", ".join(CARD_COLUMNS)
            with cursor.copy(f"COPY cards_card ({columns}) FROM STDIN") as copy:
                for index, person in enumerate(people):
                    employer = employers[index % len(employers)]
                    issued_on = today - datetime.timedelta(days=rng.randrange(1, 700))
                    copy.write_row(
                        (
                            numbers[index],
                            card_type,
                            "active",
                            person,
                            "Kari",
                            "Nordmann",
                            None,
                            "",
                            employer,
                            employer,
                            "BYGG OG RENHOLD AS",
                            "Arbeidstilsynet",
                            issued_on,
                            issued_on + datetime.timedelta(days=730),
                            "[]",
                            "",
                            False,
                            created_at,
                            False,
                        )
                    )
            cursor.execute("ANALYZE cards_card")
    finally:
        connection.close()


def reset(url: str) -> None:
    """Every card unchecked again, no record of checks or lookups: each run does the same."""
    connection = common.psql_connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cards_card SET checked_at = NULL")
            cursor.execute("TRUNCATE cards_cardcheck, registry_registerlookup")
            cursor.execute("DELETE FROM cards_recheckchunk")
            cursor.execute("DELETE FROM cards_recheckrun")
            cursor.execute("VACUUM ANALYZE cards_card")
    finally:
        connection.close()


# --- Workers and runs ---------------------------------------------------------------------


def workers_start(count: int, url: str, environment: dict[str, str]) -> list[subprocess.Popen]:
    processes = []
    for index in range(count):
        processes.append(
            subprocess.Popen(
                [
                    common.PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "hmsportal",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "--queues",
                    QUEUE,
                    "--hostname",
                    f"bench{index}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=common.REPO,
                env=common.bench_env(url, **environment),
            )
        )
    return processes


def workers_wait(count: int) -> None:
    from hmsportal.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len([r for r in replies if any(name.startswith("bench") for name in r)]) >= count:
            return
    raise SystemExit(f"{count} celery workers did not start")


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(url: str, origin: str, environment: dict[str, str], workers: int) -> dict[str, Any]:
    from django.core.cache import cache
    from django.db import connections

    from cards.models import RecheckRun
    from cards.rechecks import recheck_run_start
    from hmsportal.celery import app

    reset(url)
    # Nothing from the run before: every question of the night reaches a register once.
    cache.clear()
    stand_in_get(origin, "/_reset")
    app.control.purge()
    processes = workers_start(workers, url, environment)
    try:
        workers_wait(workers)
        started = time.perf_counter()
        run = recheck_run_start()
        while True:
            time.sleep(0.25)
            run.refresh_from_db()
            if run.state != RecheckRun.State.RUNNING:
                break
        seconds = time.perf_counter() - started
    finally:
        workers_stop(processes)
        connections.close_all()
    stats = stand_in_get(origin, "/_stats")
    requests = sum(entry["requests"] - entry["throttled"] for entry in stats.values())
    throttled = sum(entry["throttled"] for entry in stats.values())
    return {
        "workers": workers,
        "seconds": seconds,
        "cards": run.total_cards,
        "checked": run.cards_checked,
        "became_invalid": run.became_invalid,
        "failed_lookups": run.failed_lookups,
        "chunks": run.chunks_total,
        "requests": requests,
        "throttled": throttled,
        "per_register": stats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=DEFAULT_CARDS)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--stand-in", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds per request")
    parser.add_argument("--cap", type=int, default=CAP, help="requests in flight per register")
    parser.add_argument("--bound", type=int, default=BOUND, help="requests in flight per worker")
    options = parser.parse_args()
    if options.stand_in:
        return stand_in_main(options.stand_in, options.latency, options.cap)
    import tempfile

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-recheck-http-") as workdir,
        common.bench_database(DATABASE, keep=options.keep_db) as url,
        own_redis() as redis_url,
    ):
        # Broker and cache in a Redis of the benchmark's own: a shared one may be flushed by
        # someone else's tests, taking queued chunks with it (the beat's resume would send
        # them again, but only after CHUNK_LEASE).
        broker, cache = f"{redis_url}/0", f"{redis_url}/1"
        stand_ins, origin = stand_ins_start(Path(workdir), options.latency, options.cap)
        try:
            environment = {
                **common.production_env(),
                "CELERY_BROKER_URL": broker,
                # As in production: register answers shared by every worker for
                # REGISTER_CACHE_SECONDS (an employer is asked once, not once per chunk).
                "REDIS_URL": cache,
                "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
                "REGISTRY_BACKEND": "http",
                "ENHETSREGISTERET_URL": origin + ENHETSREGISTERET,
                "FOLKEREGISTERET_URL": origin + FOLKEREGISTERET,
                "FOLKEREGISTERET_TOKEN": "bench",
                "ARBEIDSFORHOLD_URL": origin + ARBEIDSFORHOLD,
                "ARBEIDSFORHOLD_TOKEN": "bench",
                "REGISTER_MAX_CONCURRENT_REQUESTS": str(options.bound),
                "RECHECK_CHUNK_CARDS": str(CHUNK_CARDS),
            }
            common.django_setup(url, **environment)
            with common.step(f"COPY {options.cards:,} cards"):
                from django.db import connections

                load_cards(url, options.cards)
                connections.close_all()
            with common.step("stand-in capacity (plain client, one register, at the cap)"):
                capacity = stand_in_capacity(origin, options.cap)
            results = []
            for workers in WORKER_COUNTS:
                with common.step(f"re-check of {options.cards:,} cards with {workers} worker(s)"):
                    results.append(measure(url, origin, environment, workers))
        finally:
            stand_ins.send_signal(signal.SIGTERM)
            try:
                stand_ins.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stand_ins.kill()
    print(report(results, capacity, options, time.perf_counter() - started))
    return 0


def report(
    results: list[dict[str, Any]], capacity: float, options: argparse.Namespace, wall: float
) -> str:
    one, two = results[0], results[1]
    rate_one = one["cards"] / one["seconds"]
    rate_two = two["cards"] / two["seconds"]
    added = (rate_two - rate_one) / rate_one
    projected_rate = rate_one + (PROJECTED_WORKERS - 1) * (rate_two - rate_one)
    hours = 1_000_000 / projected_rate / 3600 if projected_rate > 0 else float("inf")
    per_card = two["requests"] / max(1, two["cards"])
    lines = [
        "== recheck_http: the night's re-check through the http adapters, Celery workers ==",
        f"{options.cards:,} cards of {EMPLOYERS:,} employers; stand-ins: {options.latency * 1000:.0f}"
        f" ms a request, {options.cap} in flight per register, 429 past it; "
        f"{options.bound} requests in flight per worker process; chunks of {CHUNK_CARDS:,}",
        f"stand-in capacity, plain client at the cap: {capacity:,.0f} requests/s per register "
        f"(latency-bound: {options.cap / options.latency:,.0f}; less means the CPU is short)",
        f"latency-bound rate of one worker: {options.bound / options.latency:,.0f} requests/s; "
        f"load average at the end {common.load_average()} on {os.cpu_count()} CPUs",
        "",
    ]
    rows = [
        (
            str(result["workers"]),
            f"{result['seconds']:.1f}",
            f"{result['cards'] / result['seconds']:,.0f}",
            f"{result['requests'] / max(1, result['cards']):.2f}",
            f"{result['requests'] / result['seconds']:,.0f}",
            str(result["throttled"]),
            str(result["failed_lookups"]),
            str(result["became_invalid"]),
        )
        for result in results
    ]
    lines.append(
        common.table(
            rows,
            (
                "workers",
                "seconds",
                "cards/s",
                "requests/card",
                "requests/s",
                "429s",
                "unchecked",
                "invalid",
            ),
        )
    )
    lines += [
        "",
        f"second worker adds {added:.2f} of the first's throughput "
        f"(target at least {TARGET_SECOND_WORKER})",
        f"projected with {PROJECTED_WORKERS} workers: {projected_rate:,.0f} cards/s, 1,000,000 "
        f"cards in {hours * 60:.0f} min (target at most {TARGET_HOURS_FOR_A_MILLION * 60:.0f} min)",
        f"requests per card on this quiet night: {per_card:.2f} "
        f"(target at most {TARGET_REQUESTS_PER_CARD})",
        f"wall time of the benchmark: {wall:.0f} s",
    ]
    name = "recheck_http"
    common.record(
        benchmark=name,
        figure=f"cards/s, 1 worker, {options.cards:,} cards",
        value=rate_one,
        unit="cards/s",
        baseline="stand-in capacity per register (requests/s)",
        baseline_value=capacity,
        target="",
        met=None,
    )
    common.record(
        benchmark=name,
        figure=f"cards/s, 2 workers, {options.cards:,} cards",
        value=rate_two,
        unit="cards/s",
        baseline="1 worker",
        baseline_value=rate_one,
        target="",
        met=None,
    )
    common.record(
        benchmark=name,
        figure="throughput the second worker adds",
        value=added,
        unit="× first worker",
        baseline="first worker",
        baseline_value=1.0,
        target=f">= {TARGET_SECOND_WORKER}",
        met=added >= TARGET_SECOND_WORKER,
        ratio=added,
    )
    common.record(
        benchmark=name,
        figure=f"1,000,000 cards with {PROJECTED_WORKERS} workers (projected)",
        value=hours * 60,
        unit="min",
        baseline="target",
        baseline_value=TARGET_HOURS_FOR_A_MILLION * 60,
        target=f"<= {TARGET_HOURS_FOR_A_MILLION * 60:.0f} min",
        met=hours <= TARGET_HOURS_FOR_A_MILLION,
    )
    common.record(
        benchmark=name,
        figure="register requests per card, quiet night",
        value=per_card,
        unit="requests/card",
        baseline="target",
        baseline_value=TARGET_REQUESTS_PER_CARD,
        target=f"<= {TARGET_REQUESTS_PER_CARD}",
        met=per_card <= TARGET_REQUESTS_PER_CARD,
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
