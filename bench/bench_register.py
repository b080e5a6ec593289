"""Benchmark of the employer's card register page at 5,000 cards, against a bare page of the
same layout, in milliseconds and in SQL statements.

Run: .venv/bin/python bench/bench_register.py [--requests 40]

Set-up: a fresh PostgreSQL database (bench_register), migrated, with one employer and three
sub-units in the embedded registry, its managing director as the logged-in user, and cards
bulk-created for that employer: 500 first, then 4,500 more (5,000). The cards are spread as a
large employer's are: most active, some invalid (with reason codes), expired and revoked,
both card types, valid-until dates over two years (about one in eleven expiring within 60
days), on the main unit and the sub-units.

Measured at 500 and at 5,000 cards, each --requests times, interleaved so all see the same
machine, through Django's test Client in this process (the full middleware stack, with the
settings of bench/settings.py, whose urls add the bare page):
- filter: /orders/<orgnr>/cards/?status=valid&expiring=on&sort=valid_until
- deep page: /orders/<orgnr>/cards/?sort=name&page=10 (page 10 of the whole register)
- search: /orders/<orgnr>/cards/?q=Hansen&sort=-valid_until
- bare: /bench-register-bare/, the same base template, heading and table-stack table with 50
  fixed rows, rendered from a template in the same process, no query of its own.

Reported: median and p90 ms, the ratio against the bare page, and the SQL statements per
request (counted with connection.execute_wrapper), which must be the same at 500 and 5,000
cards; then PostgreSQL's plan of the filtered page's query at 5,000 cards.
"""

from __future__ import annotations

import argparse
import datetime
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    bench_database,
    card_numbers,
    count_queries,
    django_setup,
    load_average,
    median,
    production_env,
    record,
    step,
    table,
)

EMPLOYER = "914778271"
OWNER = "15108695088"
SUB_UNITS = ["973861883", "974760673", "971526920"]
FIRST_NAMES = ["Ola", "Kari", "Per", "Anne", "Jonas", "Ingrid", "Ali", "Maja", "Lars", "Nora"]
LAST_NAMES = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Berg"]
PAGES = {
    "filter": "status=valid&expiring=on&sort=valid_until",
    "deep page": "sort=name&page=10",
    "search": "q=Hansen&sort=-valid_until",
}


def dataset() -> dict:
    def unit(orgnr: str, parent: str | None, name: str) -> dict:
        return {
            "orgnr": orgnr,
            "parent_orgnr": parent,
            "name": name,
            "form": "BEDR" if parent else "AS",
            "registered_on": "2010-05-01",
            "deleted_on": None,
            "bankrupt": False,
            "under_liquidation": False,
            "vat_registered": parent is None,
            "cleaning_approved": None,
            "staffing_approved": None,
            "industry_code": "41.200",
            "address": {"street": "Kaigata 1", "postcode": "5003", "city": "Bergen"},
            "roles": [] if parent else [{"person": OWNER, "role": "DAGL"}],
        }

    return {
        "organisations": [
            unit(EMPLOYER, None, "Benkbygg AS"),
            *[
                unit(orgnr, EMPLOYER, f"Benkbygg AS avd. {index}")
                for index, orgnr in enumerate(SUB_UNITS)
            ],
        ],
        "persons": [
            {
                "id": OWNER,
                "first_name": "Kari",
                "last_name": "Benk",
                "birth_date": None,
                "d_number_active": True,
                "permit_until": None,
            }
        ],
        "employments": [],
    }


def cards_add(count: int, *, start: int, numbers: list[str], rng: random.Random) -> None:
    """count cards for the employer, bulk-created (the register reads them; nothing else)."""
    from django.utils import timezone

    from cards.models import Card, CardType

    types = list(CardType.objects.filter(code__in=["construction", "cleaning"]))
    today = timezone.localdate()
    reasons = [["employment_ended"], ["person_id_inactive"], ["employer_not_vat_registered"]]
    cards = []
    for index in range(start, start + count):
        roll = rng.random()
        valid_until = today + datetime.timedelta(days=rng.randrange(-60, 730))
        state = Card.State.ACTIVE
        codes: list[str] = []
        if roll < 0.05:
            state, codes = Card.State.INVALID, rng.choice(reasons)
        elif roll < 0.10:
            state = Card.State.REVOKED
        elif valid_until < today:
            state = Card.State.EXPIRED
        cards.append(
            Card(
                number=numbers[index],
                card_type=types[index % len(types)],
                state=state,
                reason_codes=codes,
                # Identity numbers are never shown by the register; any unique 11 digits do.
                holder_national_id=f"{10_000_000_000 + index:011d}",
                holder_first_name=rng.choice(FIRST_NAMES),
                holder_last_name=rng.choice(LAST_NAMES),
                holder_birth_date=datetime.date(1960, 1, 1)
                + datetime.timedelta(days=rng.randrange(15000)),
                workplace_orgnr=rng.choice([EMPLOYER, *SUB_UNITS]),
                employer_orgnr=EMPLOYER,
                employer_name="Benkbygg AS",
                issuer_name="Arbeidstilsynet",
                issued_on=valid_until - datetime.timedelta(days=730),
                valid_until=valid_until,
            )
        )
    Card.objects.bulk_create(cards, batch_size=1000)


def measure(client, requests: int) -> dict[str, tuple[list[float], set[int], int]]:
    """Per page: the times in seconds, the statement counts seen, and the rows shown."""
    urls = {name: f"/orders/{EMPLOYER}/cards/?{query}" for name, query in PAGES.items()}
    urls["bare"] = "/bench-register-bare/"
    results: dict[str, tuple[list[float], set[int], int]] = {}
    for name, url in urls.items():  # warm-up: templates, translations, prepared statements
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        results[name] = ([], set(), response.content.decode().count("<tr>") - 1)
    for _ in range(requests):
        for name, url in urls.items():
            with count_queries() as counter:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
            assert response.status_code == 200
            results[name][0].append(elapsed)
            results[name][1].add(counter.count)
    return results


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    options = parser.parse_args()
    rng = random.Random(10)
    static_root = tempfile.mkdtemp(prefix="bench-register-static-")
    try:
        return _run(options, rng, static_root)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)


def _run(options: argparse.Namespace, rng: random.Random, static_root: str) -> int:
    rows = []
    statements: dict[str, dict[int, set[int]]] = {}
    timings: dict[str, tuple[float, float]] = {}
    with bench_database("bench_register") as url:
        # DEBUG off, as in production: no query log; the static files' manifest is needed.
        django_setup(
            url,
            DJANGO_SETTINGS_MODULE="bench.settings",
            STATIC_ROOT=static_root,
            **production_env(),
        )
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from cards import selectors as card_selectors
        from hmsportal.models import User
        from registry.datasets import registry_dataset_load

        with step("collectstatic"):
            call_command("collectstatic", interactive=False, verbosity=0)
        with step("registry and employer"):
            registry_dataset_load(dataset=dataset())
            kari = User.objects.create(
                username="bench-kari",
                national_id=OWNER,
                full_name="Kari Benk",
                email="kari@benk.example",
                email_confirmed_at=timezone.now(),
            )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(kari)
        numbers = card_numbers(5000, rng)
        done = 0
        for size in (500, 5000):
            with step(f"{size - done} cards"):
                cards_add(size - done, start=done, numbers=numbers, rng=rng)
                done = size
                from django.db import connection

                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE cards_card")
            with step(f"{options.requests} requests of each page at {size} cards"):
                results = measure(client, options.requests)
            bare = median(results["bare"][0])
            for name, (times, counts, shown) in results.items():
                if size == 5000 and name != "bare":
                    timings[name] = (median(times) * 1000, bare * 1000)
                statements.setdefault(name, {})[size] = counts
                rows.append(
                    [
                        f"{size:,}",
                        name,
                        shown,
                        f"{median(times) * 1000:.1f}",
                        f"{p90(times) * 1000:.1f}",
                        f"{median(times) / bare:.2f}",
                        "/".join(str(c) for c in sorted(counts)),
                    ]
                )
        wanted = card_selectors.RegisterFilter(status="valid", expiring=True, sort="valid_until")
        plan = card_selectors.card_register(
            employer_orgnr=EMPLOYER, wanted=wanted, today=timezone.localdate()
        )[:50].explain(analyze=True)
    print(
        table(
            rows,
            ["cards", "page", "rows", "median ms", "p90 ms", "/bare", "statements"],
        )
    )
    flat = all(
        len(by_size[500] | by_size[5000]) == 1
        for name, by_size in statements.items()
        if name != "bare"
    )
    print(
        "\ntarget: statements per request the same at 500 and 5,000 cards: "
        + ("met" if flat else "NOT met")
    )
    print("\nPostgreSQL's plan of the filtered page (LIMIT 50) at 5,000 cards:")
    print(plan)
    print(f"\nrequests per page and size: {options.requests}; load average {load_average()}")
    for name, by_size in statements.items():
        if name == "bare":
            continue
        record(
            benchmark="register",
            figure=f"{name}: SQL statements per request at 5,000 cards",
            value=float(max(by_size[5000])),
            unit="",
            baseline="the same page at 500 cards",
            baseline_value=float(max(by_size[500])),
            target="flat in the number of cards",
            met=by_size[500] == by_size[5000] and len(by_size[5000]) == 1,
        )
    for name, (ms, bare_ms) in timings.items():
        record(
            benchmark="register",
            figure=f"{name} at 5,000 cards, median",
            value=ms,
            unit="ms",
            baseline="bare page of the same layout",
            baseline_value=bare_ms,
            target="–",
            met=None,
        )
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
