"""Valid files stay attached when the order form comes back with an error (issue 9, point 3),
and the photo is cropped where the person placed the box."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cards.models import CardType
from hmsportal.storage import read_document
from orders.models import OrderLine, UploadStash
from orders.stash import STASH_LIFETIME, stash_get, stash_purge_expired, stash_put
from orders.tasks import purge_upload_stash
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db

ORDER_URL = f"/orders/{EMPLOYER}/new/"
RED = (220, 30, 30)
BLUE = (30, 30, 220)


@pytest.fixture
def owner(client):
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def _photo(content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile("ola.jpg", content or jpeg(), content_type="image/jpeg")


def _id_document() -> SimpleUploadedFile:
    return SimpleUploadedFile("pass.pdf", b"%PDF-1.4\n%scan\n", content_type="application/pdf")


def _form(**overrides):
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": _photo(),
        "id_document": _id_document(),
        "identity_checked": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _hidden(body: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', body)
    assert found is not None, name
    return found.group(1)


def _halves() -> bytes:
    """1400 x 900: red left half, blue right half (lossless)."""
    image = Image.new("RGB", (1400, 900), RED)
    image.paste(BLUE, (700, 0, 1400, 900))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _middle(line: OrderLine) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(read_document(line.photo))).convert("RGB")
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def _near(colour, expected) -> bool:
    return all(abs(a - b) <= 30 for a, b in zip(colour, expected, strict=True))


def test_a_form_without_the_id_document_keeps_the_photo_for_the_second_try(
    client, owner, settings
) -> None:
    first = client.post(ORDER_URL, _form(id_document=None))
    body = first.content.decode()
    assert "Last opp en kopi av den ansattes legitimasjon." in body
    assert "Bildet du valgte, er fortsatt lagt ved" in body
    key = _hidden(body, "photo_stash")
    assert f'src="/orders/kept/{key}/photo/"' in body
    # Kept encrypted, on the person's account only.
    kept = UploadStash.objects.get()
    assert kept.owner == owner and kept.kind == UploadStash.Kind.PHOTO
    stored = Path(settings.MEDIA_ROOT, "private", kept.file.name).read_bytes()
    assert b"JFIF" not in stored

    # The second POST has no photo file, only the key: the order is placed with the photo.
    second = client.post(ORDER_URL, _form(photo=None, photo_stash=key))
    assert second.status_code == 302
    line = OrderLine.objects.get()
    assert read_document(line.photo) == read_document(kept.file)
    # Used up: the kept file is gone.
    assert UploadStash.objects.count() == 0


def test_a_kept_id_document_is_used_when_the_photo_comes_later(client, owner) -> None:
    first = client.post(ORDER_URL, _form(photo=None))
    body = first.content.decode()
    assert "Filen du valgte, pass.pdf, er fortsatt lagt ved." in body
    key = _hidden(body, "id_document_stash")

    assert client.post(ORDER_URL, _form(id_document=None, id_document_stash=key)).status_code == 302
    line = OrderLine.objects.get()
    assert line.id_document.name.endswith(".pdf")
    assert read_document(line.id_document) == b"%PDF-1.4\n%scan\n"


def test_an_invalid_file_is_not_kept(client, owner) -> None:
    client.post(ORDER_URL, _form(photo=_photo(b"not a picture"), id_document=None))
    assert UploadStash.objects.count() == 0


def test_another_users_key_is_ignored(client, owner) -> None:
    stranger = UserFactory(username="ola", national_id=None, full_name="Ola Fremmed")
    assert stranger != owner
    key = stash_put(owner=stranger, kind=UploadStash.Kind.PHOTO, content=jpeg(), name="x.jpg")

    response = client.post(ORDER_URL, _form(photo=None, photo_stash=key))

    assert response.status_code == 200
    assert "Last opp et bilde av den ansatte." in response.content.decode()
    assert OrderLine.objects.count() == 0
    # Nor can the preview be read by anyone but its owner.
    assert client.get(f"/orders/kept/{key}/photo/").status_code == 404


@pytest.mark.parametrize(
    "key", ["", "not-a-key", "00000000-0000-0000-0000-000000000000", "../../etc/passwd", "x" * 500]
)
def test_a_tampered_key_is_ignored(client, owner, key) -> None:
    response = client.post(ORDER_URL, _form(photo=None, photo_stash=key))
    assert response.status_code == 200
    assert "Last opp et bilde av den ansatte." in response.content.decode()
    assert client.get(f"/orders/kept/{key or 'x'}/photo/").status_code == 404


def test_a_key_of_the_wrong_kind_is_ignored(client, owner) -> None:
    key = stash_put(
        owner=owner,
        kind=UploadStash.Kind.ID_DOCUMENT,
        content=jpeg(),
        name="scan.jpg",
        content_type="image/jpeg",
    )
    response = client.post(ORDER_URL, _form(photo=None, photo_stash=key))
    assert "Last opp et bilde av den ansatte." in response.content.decode()


def test_the_owner_sees_the_kept_photo_decrypted_and_not_cached(client, owner) -> None:
    key = stash_put(owner=owner, kind=UploadStash.Kind.PHOTO, content=jpeg(), name="ola.jpg")
    response = client.get(f"/orders/kept/{key}/photo/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == jpeg()
    assert "no-store" in response["Cache-Control"]
    client.logout()
    assert client.get(f"/orders/kept/{key}/photo/").status_code == 302  # to the login


def test_an_expired_stash_is_gone(owner, settings, django_capture_on_commit_callbacks) -> None:
    key = stash_put(owner=owner, kind=UploadStash.Kind.PHOTO, content=jpeg(), name="ola.jpg")
    fresh = stash_put(owner=owner, kind=UploadStash.Kind.PHOTO, content=jpeg(), name="new.jpg")
    old = UploadStash.objects.get(key=key)
    UploadStash.objects.filter(key=key).update(
        created_at=timezone.now() - STASH_LIFETIME - timedelta(seconds=1)
    )
    path = Path(settings.MEDIA_ROOT, "private", old.file.name)
    assert path.exists()

    # Expired: not handed out even before the purge has run.
    assert stash_get(owner=owner, kind=UploadStash.Kind.PHOTO, key=key) is None
    assert stash_get(owner=owner, kind=UploadStash.Kind.PHOTO, key=fresh) is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_upload_stash.delay().get() == 1
    assert not path.exists()
    assert list(UploadStash.objects.values_list("original_name", flat=True)) == ["new.jpg"]
    # An hour later the fresh one goes too.
    with django_capture_on_commit_callbacks(execute=True):
        assert stash_purge_expired(now=timezone.now() + STASH_LIFETIME) == 1
    assert UploadStash.objects.count() == 0


def test_the_purge_is_on_the_beat_schedule() -> None:
    from hmsportal.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "orders.purge_upload_stash" in tasks


@pytest.mark.parametrize(("x", "expected"), [("0", RED), ("0.5", BLUE)])
def test_the_crop_box_from_the_form_moves_the_printed_photo(client, owner, x, expected) -> None:
    photo = SimpleUploadedFile("halves.png", _halves(), content_type="image/png")
    response = client.post(ORDER_URL, _form(photo=photo, crop_x=x, crop_y="0", crop_width="0.5"))
    assert response.status_code == 302
    line = OrderLine.objects.get()
    assert _near(_middle(line), expected)
    stored = Image.open(io.BytesIO(read_document(line.photo)))
    assert stored.format == "JPEG"
    assert stored.width * 45 == stored.height * 35


@pytest.mark.parametrize(
    ("x", "y", "width"),
    [
        ("5", "-7", "99"),
        ("nan", "inf", "-inf"),
        ("<script>", "0", "0.5"),
        ("1e999", "0", "0"),
        ("0.1" * 1000, "0", "0.5"),
    ],
)
def test_out_of_range_box_values_are_clamped_or_ignored_never_a_500(
    client, owner, x, y, width
) -> None:
    photo = SimpleUploadedFile("halves.png", _halves(), content_type="image/png")
    response = client.post(ORDER_URL, _form(photo=photo, crop_x=x, crop_y=y, crop_width=width))
    assert response.status_code == 302
    stored = Image.open(io.BytesIO(read_document(OrderLine.objects.get().photo)))
    assert stored.width * 45 == stored.height * 35
    assert stored.width >= 413


def test_a_small_photo_is_refused_with_both_sizes(client, owner) -> None:
    small = io.BytesIO()
    Image.new("RGB", (412, 531), "grey").save(small, format="JPEG")
    response = client.post(ORDER_URL, _form(photo=_photo(small.getvalue())))
    assert response.status_code == 200
    assert (
        "Bildet er 412 × 531 piksler. Det må være minst 413 × 531 piksler."
        in response.content.decode()
    )
    assert OrderLine.objects.count() == 0
    # The ID document was fine: it stays attached while another photo is chosen.
    assert list(UploadStash.objects.values_list("kind", flat=True)) == ["id_document"]


def test_the_photo_field_asks_for_jpeg_or_png(client, owner) -> None:
    body = client.get(ORDER_URL).content.decode()
    assert 'accept="image/jpeg,image/png"' in body
    assert re.search(r'<script src="/static/js/photo-crop[^"]*\.js" defer></script>', body)
    # No inline style attributes on the page's form (a strict CSP comes later).
    form = re.search(r"<form method=\"post\" enctype.*?</form>", body, re.S)
    assert form is not None and "style=" not in form.group(0)
