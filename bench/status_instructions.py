"""CPU instructions per status lookup, counted by valgrind: the floor, the API and the page.

Requests per second on this VM drift by tens of per cent from one minute to the next, so a
change worth a few per cent cannot be seen in bench_status.py's runs alone. Instructions are
counted, not timed: the same code gives the same count to a fraction of a per cent. Each
endpoint is asked through Django's WSGI handler in a child process under
`valgrind --tool=cachegrind`, once with SHORT and once with LONG lookups after the same
warm-up; the difference over LONG - SHORT lookups is the instructions one lookup costs in the
portal's own process (PostgreSQL, Redis and the HTTP server not included). Reported: the
instructions per lookup, and the floor's count over each endpoint's (what the req/s ratio
of bench_status.py would be if only this process's CPU counted).

    .venv/bin/python bench/status_instructions.py [floor api page]

Not part of `make bench` (a few minutes; needs valgrind: apt-get install valgrind).
"""

from __future__ import annotations

import io
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_status, common

DATABASE = "bench_instructions"
CARDS = 100_000
WARM_UP = 100
SHORT, LONG = 100, 300
PATHS = {"floor": "/bench-floor/{}/", "api": "/api/v1/cards/{}", "page": "/status/{}/"}


def child(endpoint: str, lookups: int, numbers_file: str) -> None:
    """In the child, under valgrind: WARM_UP + `lookups` lookups through the WSGI handler."""
    import django
    from django.core.handlers.wsgi import WSGIHandler

    django.setup()
    handler = WSGIHandler()
    numbers = itertools.cycle(Path(numbers_file).read_text().split())

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: object) -> Any:
        return None

    def lookup() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": PATHS[endpoint].format(next(numbers)),
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        }
        response = handler(environ, start_response)
        b"".join(response)
        response.close()
        if response.status_code != 200:
            raise SystemExit(f"{endpoint}: {response.status_code}")

    for _ in range(WARM_UP + lookups):
        lookup()


def instructions(env: dict[str, str], endpoint: str, lookups: int, numbers_file: Path) -> int:
    result = subprocess.run(
        [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            common.PYTHON, __file__, "--child", endpoint, str(lookups), str(numbers_file),
        ],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in result.stderr.splitlines():
        if "I" in line and "refs:" in line:
            return int(line.rsplit(":", 1)[1].replace(",", "").strip())
    raise RuntimeError(f"valgrind printed no count:\n{result.stderr[-2000:]}")


def main() -> int:
    endpoints = sys.argv[1:] or list(PATHS)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp,
        common.bench_database(DATABASE) as url,
    ):
        workdir = Path(tmp)
        extra = bench_status.server_settings(workdir, f"bench-instructions-{os.getpid()}")
        env = common.bench_env(url, **extra)
        # Hash randomisation changes dict layouts, and with them the count, from run to run.
        env.update(DJANGO_SETTINGS_MODULE="bench.settings", PYTHONHASHSEED="0")
        subprocess.run(
            [common.PYTHON, common.MANAGE, "collectstatic", "--noinput", "-v", "0"],
            env=env, cwd=common.REPO, check=True,
        )  # fmt: skip
        common.django_setup(url, **extra)
        from cards.models import CardType

        card_types = list(CardType.objects.order_by("pk").values_list("pk", flat=True))
        rng = random.Random(bench_status.SEED)
        numbers = common.card_numbers(CARDS, rng)
        bench_status.copy_cards(url, numbers, card_types)
        numbers_file = workdir / "numbers.txt"
        numbers_file.write_text("\n".join(rng.sample(numbers, 1000)) + "\n")
        counts: dict[str, float] = {}
        for endpoint in endpoints:
            with common.step(f"{endpoint}: {SHORT} and {LONG} lookups under valgrind"):
                short = instructions(env, endpoint, SHORT, numbers_file)
                long = instructions(env, endpoint, LONG, numbers_file)
            counts[endpoint] = (long - short) / (LONG - SHORT)
    print("endpoint  instructions per lookup  floor / endpoint")
    for endpoint, count in counts.items():
        ratio = f"{counts['floor'] / count:.3f}" if "floor" in counts else "-"
        print(f"{endpoint:8}  {count:23,.0f}  {ratio:>16}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(main())
