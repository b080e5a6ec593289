"""Run the benchmarks: every bench/bench_*.py in turn, each in its own process.

Usage: .venv/bin/python bench/run.py [NAME ...]    (what `make bench` runs)
       .venv/bin/python bench/run.py recheck       (only bench/bench_recheck.py)
       .venv/bin/python bench/run.py --list

Each benchmark prints its own report (figures as ratios against a baseline measured in the
same run); progress goes to stderr. Benchmarks are not tests: pytest never collects them.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

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


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks in bench/.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (recheck, status, pdf …)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
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
    for name in names:
        print(f"\n### bench_{name}.py\n", flush=True)
        started = time.perf_counter()
        # Reports go straight to our stdout; the benchmark's own exit code says if it failed.
        returncode = subprocess.run([sys.executable, str(scripts[name])], cwd=REPO).returncode
        outcomes.append((name, returncode, time.perf_counter() - started))
    print("\n### summary")
    for name, returncode, seconds in outcomes:
        verdict = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        print(f"bench_{name}.py: {verdict} in {seconds:.0f} s")
    return 0 if all(returncode == 0 for _, returncode, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
