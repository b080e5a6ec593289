"""Benchmark of a bulk order's check (issue 10, Measure (a)): a ZIP of 500 employees with
12-megapixel photos, validated row by row by orders.bulk.bulk_upload_validate.

Run: .venv/bin/python bench/bench_bulk.py [--rows 500] [--photos 6]

Set-up: a fresh PostgreSQL database (bench_bulk), migrated, with an employer and --rows
employees in the embedded registry, and an employer who has confirmed her e-mail address.
--photos distinct noisy 4000 x 3000 JPEGs (a gradient plus random noise, so they do not
compress to nothing: about the size of a phone photo) are made once and put in the ZIP under
every employee's identity number, with a one-page PDF as each ID copy. The ZIP is a file on
disk (stored, not deflated: JPEGs do not compress), as an upload would be.

Measured in the same run, in this process:
- validate: bulk_upload_validate on the ZIP: every row's register checks (employment, live
  card, open order, card type), the photo rules (photo_prepare: draft-mode decode, crop to
  35:45, resize, re-encode) and both files stored encrypted, the report row saved;
- draft: the baseline, opening the same ZIP and decoding every photo with Pillow's draft mode
  at the size photo_prepare asks for (the least any check of the photos can cost);
- full: decoding photos at full size, on --full-sample photos only (it is slow), scaled to
  --rows: what a check without draft mode would cost at least.

Reported: seconds for each, validate / draft, and validate against the target of 60 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_order import EMPLOYER, dataset
from common import bench_database, django_setup, load_average, record, step, table

TARGET_SECONDS = 60.0
SIZE = (4000, 3000)


def noisy_jpeg(seed: int) -> bytes:
    """A 12-megapixel JPEG of a gradient with noise: it compresses like a photo, not a flat."""
    import random

    from PIL import Image, ImageChops

    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize(SIZE).rotate(rng.choice([0, 90, 180, 270]))
    base = Image.merge(
        "RGB",
        [
            gradient.point(lambda v, k=k: int(v * k) + 40)
            for k in (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
        ],
    )
    noise = Image.effect_noise(SIZE, rng.uniform(18, 28)).convert("RGB")
    image = ImageChops.blend(base, noise, 0.25)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def id_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def build_zip(path: Path, people: list[str], photos: list[bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        rows = ["national_id,card_type"] + [f"{number},construction" for number in people]
        archive.writestr("orders.csv", "\n".join(rows) + "\n")
        for index, number in enumerate(people):
            archive.writestr(f"{number}.jpg", photos[index % len(photos)])
            archive.writestr(f"{number}-id.pdf", id_pdf())


def decode_all(path: Path, *, draft: bool, limit: int | None = None) -> int:
    """Open the ZIP and decode its photos (draft: at the size photo_prepare wants)."""
    from PIL import Image

    from cards.photos import PHOTO_STORED_MAX_SIZE

    decoded = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".jpg"):
                continue
            with Image.open(io.BytesIO(archive.read(info))) as image:
                if draft:
                    # The 35:45 box of a 4000 x 3000 photo is 2333 wide; photo_prepare asks
                    # for the scale that still gives the stored width.
                    factor = PHOTO_STORED_MAX_SIZE[0] / (image.height * 7 / 9)
                    image.draft("RGB", (int(image.width * factor), int(image.height * factor)))
                image.load()
            decoded += 1
            if limit is not None and decoded >= limit:
                break
    return decoded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--full-sample", type=int, default=25)
    options = parser.parse_args()
    with bench_database("bench_bulk") as url, tempfile.TemporaryDirectory() as folder:
        django_setup(url)
        from django.conf import settings
        from django.utils import timezone

        from hmsportal.models import User
        from orders.bulk import bulk_upload_validate
        from orders.models import BulkUpload, BulkUploadRow
        from registry.datasets import registry_dataset_load

        settings.MEDIA_ROOT = Path(folder) / "media"
        with step("registry and employer"):
            people_dataset = dataset(options.rows, timezone.localdate())
            registry_dataset_load(dataset=people_dataset)
            people = [person["id"] for person in people_dataset["persons"]]
            kari = User.objects.create(
                username="bench-kari",
                national_id="15108695088",
                full_name="Kari Benk",
                email="kari@benk.example",
                email_confirmed_at=timezone.now(),
            )
        with step(f"{options.photos} noisy {SIZE[0]}x{SIZE[1]} JPEGs"):
            photos = [noisy_jpeg(seed) for seed in range(options.photos)]
        archive_path = Path(folder) / "orders.zip"
        with step(f"ZIP of {options.rows} rows"):
            build_zip(archive_path, people, photos)
        zip_mb = archive_path.stat().st_size / 1024**2
        photo_mb = sum(len(p) for p in photos) / len(photos) / 1024**2

        started = time.perf_counter()
        decode_all(archive_path, draft=True)
        draft_seconds = time.perf_counter() - started

        started = time.perf_counter()
        sampled = decode_all(archive_path, draft=False, limit=options.full_sample)
        full_seconds = (time.perf_counter() - started) / sampled * options.rows

        upload = BulkUpload.objects.create(
            owner=kari, employer_orgnr=EMPLOYER, progress_total=options.rows
        )
        started = time.perf_counter()
        with archive_path.open("rb") as archive:
            upload = bulk_upload_validate(upload_id=upload.pk, archive=archive)
        validate_seconds = time.perf_counter() - started
        ok = upload.rows.filter(outcome=BulkUploadRow.Outcome.OK).count()
        if upload.state != BulkUpload.State.READY or ok != options.rows:
            errors = list(upload.rows.exclude(outcome="ok").values_list("problems", flat=True)[:3])
            print(f"FAILED: state {upload.state}, {ok} of {options.rows} ok: {errors}")
            return 1

    print(f"\nbench_bulk: validating a bulk ZIP of {options.rows} employees")
    print(
        f"ZIP {zip_mb:.0f} MiB; photos {SIZE[0]}x{SIZE[1]}, {photo_mb:.1f} MiB each "
        f"({options.photos} distinct)"
    )
    print(
        table(
            [
                ["validate (bulk_upload_validate)", f"{validate_seconds:.1f}"],
                ["baseline: unzip + draft-mode decode", f"{draft_seconds:.1f}"],
                [
                    f"full-size decode (from {sampled} photos, scaled)",
                    f"{full_seconds:.1f}",
                ],
            ],
            ["", "seconds"],
        )
    )
    print(f"validate / draft-mode decode: {validate_seconds / draft_seconds:.2f}")
    print(f"per row: {1000 * validate_seconds / options.rows:.0f} ms")
    verdict = "met" if validate_seconds < TARGET_SECONDS else "MISSED"
    print(f"target: under {TARGET_SECONDS:.0f} s: {verdict} ({validate_seconds:.1f} s)")
    print(f"load average: {load_average()}")
    record(
        benchmark="bulk",
        figure=f"validate a ZIP of {options.rows} employees ({SIZE[0]}x{SIZE[1]} photos)",
        value=validate_seconds,
        unit="s",
        baseline="unzip + draft-mode decode of the same ZIP",
        baseline_value=draft_seconds,
        target=f"< {TARGET_SECONDS:.0f} s",
        met=validate_seconds < TARGET_SECONDS,
    )
    return 0 if validate_seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
