"""Benchmark of the card PDF (cards/pdf.py) against a bare WeasyPrint render of the same HTML.

Run: .venv/bin/python bench/bench_pdf.py [--cards 500] [--repeat 15]

The parent process builds a throw-away SQLite database and media folder in a temporary
directory: migrations (with the seed card types and designs) and N cards, each with a photo
of its own, stored encrypted (a noisy 1200 x 1600 portrait normalised by cards/photos.py to
600 x 800, as uploads are; about 20 kB once downscaled for print); half construction, half cleaning, half issued in 2019 and half
in 2024, so both designs and both palettes are in the batch.

Every measurement runs in a fresh child process pinned to one CPU (taskset), so each starts
cold and its memory is its own. Memory is the child's peak RSS,
resource.getrusage(RUSAGE_SELF).ru_maxrss read when it finishes: it includes the
interpreter, Django, WeasyPrint and the loaded cards (the "idle" line is a child that does
all that and renders nothing). Times are wall clock and process CPU time; on a shared
machine CPU time is the steadier figure.

Rows:
- ours: cards.pdf.render_cards_pdf(cards), everything included: design lookup, photo
  decryption and downscaling, QR codes (PNG), template, one render with the cached
  stylesheets, font configuration and trimmed user-agent stylesheet.
- bare: HTML(string=...).write_pdf() of the same document (built beforehand, not timed)
  made self-contained: card.css inline, images as data: URIs, nothing cached, WeasyPrint's
  default user-agent stylesheet and URL fetcher.
- ours-svg-qr: as ours, but each QR code inline SVG (qrcode's SvgPathImage) instead of PNG.

Single card: median (and minimum) of --repeat warm renders after one cold render, as a
long-running worker sees them. Batch: one cold render of all N cards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

SCENARIOS = ("ours", "bare", "ours-svg-qr")


@dataclass
class Measurement:
    """What one child process reports: (wall ms, CPU ms) per render and its peak RSS."""

    cold: tuple[float, float] = (0.0, 0.0)
    runs: list[tuple[float, float]] = field(default_factory=list)
    pdf_kb: int = 0
    maxrss_mb: float = 0.0


def django_setup(workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hmsportal.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["HMSPORTAL_VAR_DIR"] = str(workdir)
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def portrait(colour: str) -> bytes:
    """A 1200 x 1600 JPEG with sensor-like noise, so it compresses like a real photo."""
    import io

    from PIL import Image

    from tests.cards.factories import photo_jpeg

    base = Image.open(io.BytesIO(photo_jpeg(1200, 1600, colour)))
    noise = Image.effect_noise((1200, 1600), 80).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.3).save(out, format="JPEG", quality=92)
    return out.getvalue()


def unique_photo(stored: bytes, index: int) -> bytes:
    """The stored photo with a mark of its own, re-encoded as cards/photos.py would."""
    import io

    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(stored))
    ImageDraw.Draw(image).rectangle(
        (10, 10, 60, 60), fill=(index % 256, (index * 7) % 256, (index * 13) % 256)
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def build_fixture(workdir: Path, count: int) -> None:
    """The database and the stored photos every child reads."""
    import datetime

    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from cards.photos import photo_normalise
    from tests.cards.factories import CardFactory, CardTypeFactory

    call_command("migrate", verbosity=0)
    construction = CardTypeFactory(construction=True)
    cleaning = CardTypeFactory(cleaning=True)
    colours = ["#4a7fb5", "#7b9e4a", "#b5674a", "#6a4ab5", "#4ab5a3", "#b5a34a"]
    photos = [photo_normalise(portrait(colour)).read() for colour in colours]
    for index in range(count):
        # Every card its own photo, as in a real batch (WeasyPrint embeds a repeated image
        # once, which would flatter both time and memory).
        photo = unique_photo(photos[index % len(photos)], index)
        issued_on = datetime.date(2019, 5, 2) if index % 4 < 2 else datetime.date(2024, 9, 16)
        CardFactory(
            card_type=construction if index % 2 == 0 else cleaning,
            issued_on=issued_on,
            valid_until=issued_on + datetime.timedelta(days=730),
            photo=ContentFile(photo, name="photo.jpg"),
        )


def bare_html(document: str) -> str:
    """The document with its stylesheet inline, for a render that caches nothing."""
    from cards.pdf import _assets_dir, font_face_css

    css = font_face_css() + (_assets_dir() / "card.css").read_text()
    return document.replace("</head>", f"<style>{css}</style></head>", 1)


def bare_render(document: str) -> bytes:
    from weasyprint import HTML

    from cards.pdf import _assets_dir

    pdf: bytes = HTML(string=document, base_url=_assets_dir().as_uri() + "/").write_pdf()
    return pdf


def timed(render: Callable[[], bytes]) -> tuple[tuple[float, float], bytes]:
    """(wall ms, CPU ms) of one render, and the PDF."""
    wall, cpu = time.perf_counter(), time.process_time()
    pdf = render()
    return ((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000), pdf


def child(scenario: str, size: int, repeat: int) -> Measurement:
    from cards.models import Card
    from cards.pdf import cards_document, render_cards_pdf, render_document_pdf

    cards = list(Card.objects.order_by("pk")[:size])
    renders: dict[str, Callable[[], bytes]] = {
        "ours": lambda: render_cards_pdf(cards),
        "ours-svg-qr": lambda: render_document_pdf(cards_document(cards, qr_format="svg")),
    }
    if scenario == "bare":
        document = bare_html(cards_document(cards).self_contained_html())
        renders["bare"] = lambda: bare_render(document)
    measurement = Measurement()
    if scenario != "idle":
        render = renders[scenario]
        measurement.cold, pdf = timed(render)
        measurement.runs = [timed(render)[0] for _ in range(repeat)]
        measurement.pdf_kb = round(len(pdf) / 1024)
    measurement.maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return measurement


def run_child(workdir: Path, scenario: str, size: int, repeat: int) -> Measurement:
    command = [sys.executable, __file__, "--child", scenario, "--workdir", str(workdir)]
    command += ["--size", str(size), "--repeat", str(repeat)]
    if Path("/usr/bin/taskset").exists():
        command = ["/usr/bin/taskset", "-c", "0", *command]
    completed = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    reported = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(
        cold=(reported["cold"][0], reported["cold"][1]),
        runs=[(wall, cpu) for wall, cpu in reported["runs"]],
        pdf_kb=reported["pdf_kb"],
        maxrss_mb=reported["maxrss_mb"],
    )


def report(
    n: int, repeat: int, idle: Measurement, results: dict[str, tuple[Measurement, Measurement]]
) -> None:
    print(f"\nidle child (set up, {n} cards loaded, nothing rendered): {idle.maxrss_mb:.0f} MB")
    print(f"1 card: median / min of {repeat} warm renders; batch: one cold render of {n} cards")
    print(
        f"{'':12}|{'1 card wall':>12}{'CPU':>7}{'min CPU':>8}{'cold':>7}{'RSS':>6}"
        f" |{'batch wall':>11}{'CPU':>8}{'CPU/card':>9}{'peak RSS':>9}{'PDF':>8}"
    )
    figures: dict[str, tuple[float, float, float, float]] = {}
    for scenario, (single, batch) in results.items():
        wall = statistics.median(run[0] for run in single.runs)
        cpu = statistics.median(run[1] for run in single.runs)
        lowest = min(run[1] for run in single.runs)
        figures[scenario] = (wall, cpu, batch.cold[0], batch.cold[1])
        print(
            f"{scenario:12}|{wall:10.1f}ms{cpu:5.1f}ms{lowest:6.1f}ms{single.cold[0]:5.0f}ms"
            f"{single.maxrss_mb:4.0f}MB |{batch.cold[0] / 1000:9.2f} s{batch.cold[1] / 1000:6.2f} s"
            f"{batch.cold[1] / n:7.1f}ms{batch.maxrss_mb:7.0f}MB{batch.pdf_kb:6}kB"
        )
    print("\nratio to bare (below 1 = faster), wall / CPU:")
    bare = figures["bare"]
    for scenario in SCENARIOS:
        if scenario != "bare":
            mine = figures[scenario]
            print(
                f"  {scenario:12} 1 card {mine[0] / bare[0]:5.2f} / {mine[1] / bare[1]:5.2f}"
                f"   batch {mine[2] / bare[2]:5.2f} / {mine[3] / bare[3]:5.2f}"
            )
    peaks = {scenario: batch.maxrss_mb for scenario, (_, batch) in results.items()}
    print(f"  peak RSS of the batch, ours / bare: {peaks['ours'] / peaks['bare']:5.2f}")
    ours = figures["ours"]
    record(
        benchmark="pdf",
        figure="one card's PDF, warm, median CPU",
        value=ours[1],
        unit="ms",
        baseline="bare WeasyPrint render of the same HTML",
        baseline_value=bare[1],
        target="–",
        met=None,
    )
    record(
        benchmark="pdf",
        figure=f"print batch of {n} cards, cold, CPU",
        value=ours[3] / 1000,
        unit="s",
        baseline="bare WeasyPrint render of the same HTML",
        baseline_value=bare[3] / 1000,
        target="–",
        met=None,
    )
    record(
        benchmark="pdf",
        figure=f"print batch of {n} cards, peak RSS",
        value=peaks["ours"],
        unit="MB",
        baseline="bare WeasyPrint render of the same HTML",
        baseline_value=peaks["bare"],
        target="–",
        met=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.child:
        django_setup(Path(arguments.workdir))
        print(json.dumps(asdict(child(arguments.child, arguments.size, arguments.repeat))))
        return

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        workdir = Path(tmp)
        django_setup(workdir)
        started = time.perf_counter()
        build_fixture(workdir, arguments.cards)
        print(f"fixture: {arguments.cards} cards in {time.perf_counter() - started:.1f} s")
        print(f"load average before the runs: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        idle = run_child(workdir, "idle", arguments.cards, 0)
        results = {
            scenario: (
                run_child(workdir, scenario, 1, arguments.repeat),
                run_child(workdir, scenario, arguments.cards, 0),
            )
            for scenario in SCENARIOS
        }
        print(f"load average after the runs: {os.getloadavg()[0]:.2f}")
    report(arguments.cards, arguments.repeat, idle, results)


if __name__ == "__main__":
    main()
