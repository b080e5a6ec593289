"""Run the benchmarks: every bench/bench_*.py in turn, each in its own process.

Usage: .venv/bin/python bench/run.py [NAME ...]    (what `make bench` runs)
       .venv/bin/python bench/run.py recheck       (only bench/bench_recheck.py)
       .venv/bin/python bench/run.py --list

Each benchmark prints its own report (figures as ratios against a baseline measured in the
same run); progress goes to stderr. Each also notes its headline figures (common.record), and
this script writes them, with the machine they were measured on, to bench/RESULTS.md (or
--results PATH). Benchmarks are not tests: pytest never collects them. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from bench.common import load_average  # noqa: E402 (after the path is set)

# Programs a benchmark needs besides Python and the services, and how to install them.
# The CI installs nothing for benchmarks, so say it plainly before anything runs.
NEEDS = {
    "status": [("wrk", "apt-get install wrk  (Debian/Ubuntu; on macOS: brew install wrk)")],
}


def available() -> dict[str, Path]:
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH.glob("bench_*.py"))}


def selected(names: list[str], scripts: dict[str, Path]) -> list[str]:
    if not names:
        return list(scripts)
    chosen = []
    for name in names:
        key = Path(name).stem.removeprefix("bench_")
        if key not in scripts:
            sys.exit(f"No benchmark {name!r}. Available: {', '.join(scripts)}")
        chosen.append(key)
    return chosen


def missing_programs(names: list[str]) -> list[str]:
    problems = []
    for name in names:
        for program, how in NEEDS.get(name, []):
            if shutil.which(program) is None:
                problems.append(
                    f"bench_{name} needs {program}, which is not installed. Install it with:\n"
                    f"    {how}"
                )
    return problems


def machine() -> dict[str, str]:
    """What the figures were measured on: they are only comparable on the same machine."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cores": str(os.cpu_count() or "?"),
        "cpu": model or platform.processor() or "?",
        "memory": memory or "?",
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def results_markdown(
    entries: list[dict[str, Any]],
    outcomes: list[tuple[str, int, float]],
    about: dict[str, str],
    load_before: str,
    load_after: str,
    started_at: datetime.datetime,
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/run.py) on {started_at:%Y-%m-%d %H:%M} UTC. Every "
        "figure is set against a baseline measured in the same run on the same machine; "
        "compare ratios, not absolute figures, between machines.",
        "",
        f"- Machine: {about['cores']} cores ({about['cpu']}), {about['memory']} memory, "
        f"{about['system']}, Python {about['python']}",
        f"- Load average (1 / 5 / 15 min) before: {load_before}; after: {load_after}",
        "",
        "| benchmark | figure | value | baseline | baseline value | ratio | target | met | load |",
        "|---|---|---:|---|---:|---:|---|---|---|",
    ]
    for entry in entries:
        met = {True: "yes", False: "**no**", None: "–"}[entry["met"]]
        ratio = "–" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        lines.append(
            f"| {entry['benchmark']} | {entry['figure']} | "
            f"{_number(entry['value'], entry['unit'])} | {entry['baseline']} | "
            f"{_number(entry['baseline_value'], entry['unit'])} | {ratio} | {entry['target']} "
            f"| {met} | {entry['load'].split(' / ')[0]} |"
        )
    lines += ["", "| benchmark | exit | seconds |", "|---|---|---:|"]
    for name, returncode, seconds in outcomes:
        verdict = "ok" if returncode == 0 else f"failed ({returncode})"
        lines.append(f"| bench_{name}.py | {verdict} | {seconds:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks in bench/.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (recheck, status, pdf …)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    parser.add_argument(
        "--results",
        default=str(BENCH / "RESULTS.md"),
        help="where to write the table of results (default bench/RESULTS.md)",
    )
    options = parser.parse_args()
    scripts = available()
    if options.list:
        print("\n".join(scripts))
        return 0
    names = selected(options.names, scripts)
    problems = missing_programs(names)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    outcomes = []
    started_at = datetime.datetime.now(datetime.UTC)
    load_before = load_average()
    with tempfile.NamedTemporaryFile(prefix="bench-results-", suffix=".jsonl") as collected:
        env = dict(os.environ, BENCH_RESULTS_FILE=collected.name)
        for name in names:
            print(f"\n### bench_{name}.py\n", flush=True)
            started = time.perf_counter()
            # Reports go straight to our stdout; the benchmark's exit code says if it failed.
            returncode = subprocess.run(
                [sys.executable, str(scripts[name])], cwd=REPO, env=env
            ).returncode
            outcomes.append((name, returncode, time.perf_counter() - started))
        entries = [
            json.loads(line) for line in Path(collected.name).read_text().splitlines() if line
        ]
    Path(options.results).write_text(
        results_markdown(entries, outcomes, machine(), load_before, load_average(), started_at)
    )
    print(f"\nresults: {options.results}")
    print("\n### summary")
    for name, returncode, seconds in outcomes:
        verdict = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        print(f"bench_{name}.py: {verdict} in {seconds:.0f} s")
    return 0 if all(returncode == 0 for _, returncode, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
