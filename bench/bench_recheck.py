"""Benchmark of the nightly register re-check (`manage.py recheck_cards`) at scale.

Run: .venv/bin/python bench/bench_recheck.py [--profile] [--keep-db]

Data: a fresh PostgreSQL database bench_recheck, migrated; the embedded registry filled with
registry.demo.synthetic_dataset(size=20000) through registry.datasets.registry_dataset_load
(20,000 units, every twentieth a sub-unit, about 100,000 persons and employments, some
bankrupt employers, ended and future employments, cleaning firms of every
Renholdsregisteret status, staffing firms approved or not). One card per employment (the
card type follows the main unit: cleaning for cleaning firms) is COPYed into cards_card in
a shuffled order, so each batch of the re-check meets thousands of employers, as cards
issued over the years do. 1 % of the cards start invalid (with the transition that made
them so), so the re-check also moves cards back to valid.

Measured, first with the first 10,000 cards and then with all 100,000 (the registry stays
the same; before every run the cards, transitions and register lookups are reset):
- `python manage.py recheck_cards` in a child process (DEBUG off): the command's own
  "took" (cards/s) and the wall time including start-up;
- the same cards_recheck_all() in this process, with every SQL statement counted through
  connection.execute_wrapper: queries per batch of 2,000 and per card, and by statement;
- baselines on the same 100,000 rows, best of 3: the ORM reading the rows a re-check needs
  (values_list) and one `UPDATE cards_card SET checked_at = now()`. The re-check is
  reported as a multiple of each.
Targets (issue): at least 2,000 cards/s; queries per card that do not grow with the number
of cards. With --profile, or when the speed target is missed, a cProfile of the in-process
run at 100,000 cards shows where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

DATABASE = "bench_recheck"
ORGANISATIONS = 20_000
SIZES = (10_000, 100_000)
BATCH_SIZE = 2000  # the command's default
TARGET_CARDS_PER_SECOND = 2000
SEED = 4711
SEEDED_INVALID_EVERY = 100
SEED_REASON = "bench: seeded invalid"
CLEANING_CODE = "81.210"

CARD_COLUMNS = (
    "number",
    "card_type_id",
    "state",
    "holder_national_id",
    "holder_first_name",
    "holder_last_name",
    "holder_birth_date",
    "photo",
    "workplace_orgnr",
    "employer_orgnr",
    "employer_name",
    "issuer_name",
    "issued_on",
    "valid_until",
    "reason_codes",
    "pdf",
    "imported",
    "created_at",
    "renewal_pending",
)


def card_rows(
    dataset: dict[str, Any], card_types: dict[str, int], today: datetime.date
) -> list[tuple[Any, ...]]:
    """One card per employment (the first few employments get a second card up to 100,000:
    a renewal waiting beside the card it renews, which the one-live-card rule allows)."""
    rng = random.Random(SEED)
    units = {unit["orgnr"]: unit for unit in dataset["organisations"]}
    persons = {person["id"]: person for person in dataset["persons"]}
    employments = list(dataset["employments"])
    rng.shuffle(employments)
    count = max(SIZES)
    numbers = common.card_numbers(count, rng)
    created_at = datetime.datetime.now(datetime.UTC)
    rows = []
    for index in range(count):
        employment = employments[index % len(employments)]
        unit = units[employment["orgnr"]]
        main = units[unit["parent_orgnr"]] if unit["parent_orgnr"] else unit
        person = persons[employment["person"]]
        card_type = "cleaning" if main["industry_code"] == CLEANING_CODE else "construction"
        issued_on = today - datetime.timedelta(days=rng.randrange(1, 700))
        invalid = index % SEEDED_INVALID_EVERY == SEEDED_INVALID_EVERY // 2
        renewal = index >= len(employments)
        if index >= 2 * len(employments):
            raise SystemExit("the registry dataset has too few employments for the card count")
        rows.append(
            (
                numbers[index],
                card_types[card_type],
                "invalid" if invalid else "active",
                person["id"],
                person["first_name"],
                person["last_name"],
                None,
                "",
                unit["orgnr"],
                main["orgnr"],
                main["name"],
                "Arbeidstilsynet",
                issued_on,
                issued_on + datetime.timedelta(days=730),
                json.dumps(["bench_seed"] if invalid else []),
                "",
                False,
                created_at,
                renewal,
            )
        )
    return rows


def copy_cards(connection: Any, rows: list[tuple[Any, ...]]) -> None:
    columns = ", ".join(CARD_COLUMNS)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY cards_card ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # The transition that made each seeded card invalid: what _state_before_invalid reads.
        cursor.execute(
            "INSERT INTO cards_cardtransition (card_id, from_state, to_state, at, reason) "
            "SELECT c.id, 'active', 'invalid', now() - interval '10 days', %s "
            "FROM cards_card c WHERE c.state = 'invalid' AND NOT EXISTS "
            "(SELECT 1 FROM cards_cardtransition t WHERE t.card_id = c.id)",
            [SEED_REASON],
        )
        cursor.execute("ANALYZE cards_card")
        cursor.execute("ANALYZE cards_cardtransition")


def reset(connection: Any) -> None:
    """Every card back to how it was loaded; no re-check transitions or lookups left."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cards_cardtransition WHERE reason <> %s", [SEED_REASON])
        cursor.execute(
            "UPDATE cards_card SET state = 'active', reason_codes = '[]', checked_at = NULL"
        )
        cursor.execute(
            "UPDATE cards_card c SET state = 'invalid', reason_codes = '[\"bench_seed\"]' "
            "FROM cards_cardtransition t WHERE t.card_id = c.id AND t.reason = %s",
            [SEED_REASON],
        )
        cursor.execute("TRUNCATE registry_registerlookup")
        # The updates leave a dead copy of every row; without this each run would read more.
        cursor.execute("VACUUM ANALYZE cards_card")
        cursor.execute("VACUUM ANALYZE cards_cardtransition")


def run_command(url: str, environment: dict[str, str]) -> dict[str, Any]:
    """`manage.py recheck_cards` in a child process: its summary, own timing and wall time."""
    started = time.perf_counter()
    result = subprocess.run(
        [common.PYTHON, common.MANAGE, "recheck_cards", "--batch-size", str(BATCH_SIZE)],
        env=common.bench_env(url, **environment),
        cwd=common.REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"recheck_cards failed ({result.returncode}):\n{result.stderr[-4000:]}")

    def number(label: str) -> float:
        match = re.search(rf"{label}: ([\d.]+)", result.stdout)
        if match is None:
            raise RuntimeError(f"recheck_cards printed no {label!r}:\n{result.stdout}")
        return float(match.group(1))

    return {
        "checked": int(number("cards checked")),
        "became_invalid": int(number("became invalid")),
        "became_valid": int(number("became valid again")),
        "failed_lookups": int(number("failed lookups")),
        "ended": int(number("ended, employment over in Aa-registeret")),
        "took": number("took"),
        "wall": wall,
    }


def child_measure(*, profile_path: str | None) -> dict[str, Any]:
    """In the child: cards_recheck_all() with every SQL statement counted and timed by kind."""
    from cards import services
    from registry.models import RegisterLookup

    original = services.cards_recheck
    per_batch: list[int] = []
    profiler = cProfile.Profile() if profile_path else None
    with common.count_queries() as counter:

        def counted(**kwargs: Any) -> Any:
            # +1: the SELECT of the batch itself, made by cards_recheck_all before the call.
            before = counter.count
            summary = original(**kwargs)
            per_batch.append(counter.count - before + 1)
            return summary

        services.cards_recheck = counted  # type: ignore[assignment]
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            summary = services.cards_recheck_all(batch_size=BATCH_SIZE)
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
        finally:
            services.cards_recheck = original  # type: ignore[assignment]
    if profiler is not None and profile_path:
        profiler.dump_stats(profile_path)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "checked": summary.checked,
        "became_valid": summary.became_valid,
        "queries": counter.count,
        "kinds": dict(counter.kinds),
        "kind_seconds": dict(counter.seconds),
        "per_batch": per_batch,
        "lookups": RegisterLookup.objects.count(),
    }


def child_baselines(repeat: int = 3) -> dict[str, float]:
    """In the child: the floor a re-check cannot go below, on the same rows."""
    from django.db import connection

    from cards.models import Card

    def scan() -> int:
        return len(
            list(
                Card.objects.filter(state__in=Card.CHECKED_STATES).values_list(
                    "pk", "number", "state", "holder_national_id", "workplace_orgnr", "valid_until"
                )
            )
        )

    def update() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cards_card SET checked_at = now()")

    return {"scan": common.best_of(repeat, scan), "update": common.best_of(repeat, update)}


def run_child(url: str, environment: dict[str, str], *arguments: str) -> dict[str, Any]:
    """Run this script's --child mode in a fresh process (nothing of the loading in memory)."""
    result = subprocess.run(
        [common.PYTHON, __file__, "--child", *arguments],
        env=common.bench_env(url, **environment),
        cwd=common.REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def child_main(mode: str, profile_path: str | None) -> int:
    common.django_setup(os.environ["DATABASE_URL"])  # the rest comes from the parent
    if mode == "measure":
        answer: dict[str, Any] = child_measure(profile_path=profile_path)
    else:
        answer = child_baselines()
    print(json.dumps(answer))
    return 0


def profile_report(path: str, lines: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    # Keep the tables, not pstats' preamble.
    return "\n".join(
        line
        for line in out.getvalue().splitlines()
        if line.strip() and "function calls" not in line and "due to restriction" not in line
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="always profile the 100,000 run")
    parser.add_argument("--keep-db", action="store_true", help="do not drop bench_recheck")
    parser.add_argument("--child", choices=("measure", "baselines"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        return child_main(options.child, options.profile_to)
    environment = common.production_env()
    started = time.perf_counter()
    profile_text = ""
    with (
        common.bench_database(DATABASE, keep=options.keep_db) as url,
        tempfile.TemporaryDirectory(prefix="bench-recheck-") as workdir,
    ):
        common.django_setup(url, **environment)
        from django.db import connections
        from django.utils import timezone

        from cards.models import CardType
        from registry.datasets import registry_dataset_load
        from registry.demo import synthetic_dataset

        today = timezone.localdate()
        with common.step(f"registry: synthetic_dataset(size={ORGANISATIONS}) + load"):
            dataset = synthetic_dataset(today, size=ORGANISATIONS)
            registry_dataset_load(dataset=dataset)
        registry_size = {name: len(entries) for name, entries in dataset.items()}
        card_types = dict(CardType.objects.values_list("code", "pk"))
        connections.close_all()
        rows = card_rows(dataset, card_types, today)
        del dataset
        connection = common.psql_connect(url)
        results: list[dict[str, Any]] = []
        loaded = 0
        try:
            for size in SIZES:
                with common.step(f"COPY cards up to {size}"):
                    copy_cards(connection, rows[loaded:size])
                    loaded = size
                reset(connection)
                with common.step(f"recheck_cards, {size} cards, child process"):
                    command = run_command(url, environment)
                with common.step(f"recheck_cards again, {size} cards (nothing changes)"):
                    again = run_command(url, environment)
                reset(connection)
                with common.step(f"cards_recheck_all, {size} cards, counting queries"):
                    counted = run_child(url, environment, "measure")
                results.append(
                    {"size": size, "command": command, "again": again, "counted": counted}
                )
            reset(connection)
            with common.step("baselines"):
                base = run_child(url, environment, "baselines")
            largest = results[-1]
            speed = largest["size"] / largest["command"]["took"]
            if options.profile or speed < TARGET_CARDS_PER_SECOND:
                reset(connection)
                with common.step("cProfile of cards_recheck_all"):
                    path = str(Path(workdir) / "recheck.prof")
                    run_child(url, environment, "measure", "--profile-to", path)
                    profile_text = profile_report(path)
        finally:
            connection.close()
            connections.close_all()
    print(report(results, base, profile_text, registry_size, time.perf_counter() - started))
    return 0


def report(
    results: list[dict[str, Any]],
    base: dict[str, float],
    profile_text: str,
    registry_size: dict[str, int],
    wall: float,
) -> str:
    lines = [
        "== recheck: `manage.py recheck_cards` on PostgreSQL (embedded registry) ==",
        f"registry: {registry_size['organisations']:,} units, {registry_size['persons']:,} "
        f"persons, {registry_size['employments']:,} employments; batch size {BATCH_SIZE}; "
        "DEBUG off",
        "",
        "first run: 1 % of the cards start invalid, about 16 % become invalid or end (revoked:",
        "Aa-registeret shows the employment ended); again: the same",
        "command right after, when nothing changes (a quiet night)",
        "",
    ]
    rows = []
    for result in results:
        size, command, again, counted = (
            result["size"],
            result["command"],
            result["again"],
            result["counted"],
        )
        per_batch = counted["per_batch"]
        rows.append(
            (
                f"{size:,}",
                f"{command['took']:.1f}",
                f"{size / command['took']:,.0f}",
                f"{size / again['took']:,.0f}",
                f"{command['wall']:.1f}",
                f"{len(per_batch)}",
                f"{counted['queries']:,}",
                f"{min(per_batch)}/{sorted(per_batch)[len(per_batch) // 2]}/{max(per_batch)}",
                f"{counted['queries'] / size:.4f}",
                f"{counted['lookups'] / size:.2f}",
            )
        )
    lines.append(
        common.table(
            rows,
            (
                "cards",
                "took s",
                "cards/s",
                "again cards/s",
                "wall s",
                "batches",
                "queries",
                "q/batch min/med/max",
                "q/card",
                "lookups/card",
            ),
        )
    )
    lines.append("")
    for result in results:
        command = result["command"]
        lines.append(
            f"{result['size']:,} cards: checked {command['checked']:,}, became invalid "
            f"{command['became_invalid']:,}, ended {command['ended']:,}, "
            f"became valid again {command['became_valid']:,}, "
            f"failed lookups {command['failed_lookups']:,}"
        )
    largest = results[-1]
    size = largest["size"]
    took = largest["command"]["took"]
    counted = largest["counted"]
    lines += [
        "",
        f"baseline, best of 3 on {size:,} cards: ORM values_list scan {base['scan']:.2f} s; "
        f"UPDATE checked_at of every card {base['update']:.2f} s",
        f"re-check / scan: {took / base['scan']:.0f}x   re-check / update: "
        f"{took / base['update']:.1f}x",
        "",
        f"statements at {size:,} cards (counted run: {counted['seconds']:.1f} s wall, "
        f"{counted['cpu_seconds']:.1f} s CPU in the Django process, "
        f"{sum(counted['kind_seconds'].values()):.1f} s executing SQL):",
    ]
    kinds = Counter(counted["kinds"])
    lines.append(
        common.table(
            [
                (
                    kind,
                    f"{count:,}",
                    f"{count / size:.4f}",
                    f"{counted['kind_seconds'].get(kind, 0.0):.1f}",
                )
                for kind, count in kinds.most_common()
            ],
            ("statement", "count", "per card", "seconds"),
        )
    )
    speed = size / took
    small, large = (r["counted"]["queries"] / r["size"] for r in (results[0], largest))
    common.record(
        benchmark="recheck",
        figure=f"nightly re-check of {size:,} cards (embedded registry)",
        value=speed,
        unit="cards/s",
        baseline="UPDATE checked_at of every card",
        baseline_value=size / base["update"],
        target=f">= {TARGET_CARDS_PER_SECOND:,} cards/s",
        met=speed >= TARGET_CARDS_PER_SECOND,
    )
    common.record(
        benchmark="recheck",
        figure=f"SQL statements per card at {size:,} cards",
        value=large,
        unit="",
        baseline=f"the same at {results[0]['size']:,} cards",
        baseline_value=small,
        target="does not grow with the cards (<= 1.1x)",
        met=large <= small * 1.1,
    )
    lines += [
        "",
        f"target >= {TARGET_CARDS_PER_SECOND:,} cards/s: {speed:,.0f} cards/s -> "
        + ("met" if speed >= TARGET_CARDS_PER_SECOND else "MISSED"),
        f"target: queries per card do not grow with the cards: {small:.4f} at "
        f"{results[0]['size']:,}, {large:.4f} at {size:,} -> "
        + ("met" if large <= small * 1.1 else "MISSED"),
        f"(benchmark wall time {wall:.0f} s; load average {common.load_average()})",
    ]
    if profile_text:
        lines += ["", f"cProfile of cards_recheck_all at {size:,} cards:", profile_text]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
