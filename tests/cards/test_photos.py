"""Photos that print well: the rules of cards/photos.py on real images made with Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.utils import translation
from PIL import Image

from cards.photos import (
    PHOTO_MIN_SIZE,
    PHOTO_STORED_MAX_SIZE,
    CropBox,
    PhotoRejected,
    crop_frame,
    photo_prepare,
)

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def encoded(image: Image.Image, image_format: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def plain(width: int, height: int, image_format: str = "JPEG") -> bytes:
    return encoded(Image.new("RGB", (width, height), (120, 140, 160)), image_format)


def halves(width: int, height: int) -> bytes:
    """Red on the left half, blue on the right half (a lossless PNG)."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    return encoded(image, "PNG")


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


def near(colour, expected, tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def refusal(data: bytes, **options) -> str:
    with translation.override("nb"), pytest.raises(PhotoRejected) as refused:
        photo_prepare(data, **options)
    return refused.value.message


def test_412_by_531_is_refused_with_both_sizes_named() -> None:
    assert refusal(plain(412, 531)) == (
        "Bildet er 412 × 531 piksler. Det må være minst 413 × 531 piksler."
    )
    assert "200 × 200" in refusal(plain(200, 200, "PNG"))


def test_413_by_531_is_accepted_and_stored_at_that_size() -> None:
    stored = opened(photo_prepare(plain(413, 531)))
    assert stored.size == PHOTO_MIN_SIZE


def test_a_large_photo_is_stored_at_a_bounded_size_in_35_45() -> None:
    stored = opened(photo_prepare(plain(3000, 4000)))
    assert stored.size == PHOTO_STORED_MAX_SIZE
    assert stored.width * 45 == stored.height * 35


def test_the_minimum_counts_after_the_exif_rotation() -> None:
    # 531 x 413 stored sideways with "rotate 90" is 413 x 531 upright: accepted.
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = encoded(Image.new("RGB", (531, 413), "grey"), "JPEG", exif=exif.tobytes())
    assert opened(photo_prepare(sideways)).size == PHOTO_MIN_SIZE
    # Without the rotation the same pixels are too low.
    assert "531 × 413" in refusal(plain(531, 413))


def test_a_png_with_an_exif_rotation_is_upright_and_without_metadata() -> None:
    # Stored sideways: the top of the picture (red) is on the left; EXIF says "rotate 90 CW".
    sideways = Image.new("RGB", (800, 600), BLUE)
    sideways.paste(RED, (0, 0, 400, 600))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N"}  # GPS info
    data = encoded(sideways, "PNG", exif=exif.tobytes())

    stored = opened(photo_prepare(data))

    assert stored.width < stored.height
    assert near(stored.getpixel((stored.width // 2, 5)), RED)
    assert near(stored.getpixel((stored.width // 2, stored.height - 5)), BLUE)
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"PhoneMaker" not in photo_prepare(data)


def test_a_colour_profile_is_applied_not_kept() -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encoded(Image.new("RGB", (500, 700), RED), "JPEG", icc_profile=profile)
    stored = opened(photo_prepare(data))
    assert "icc_profile" not in stored.info
    assert near(stored.getpixel((10, 10)), RED)


def test_a_transparent_png_prints_white_where_it_is_transparent() -> None:
    image = Image.new("RGBA", (500, 700), (0, 0, 0, 0))
    stored = opened(photo_prepare(encoded(image, "PNG")))
    assert near(stored.getpixel((10, 10)), (255, 255, 255))


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, not a picture",
        b"",
        encoded(Image.new("RGB", (600, 800)), "GIF"),
        encoded(Image.new("RGB", (600, 800)), "BMP"),
        plain(600, 800)[:400],  # a JPEG cut short
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,  # a PNG signature and nothing behind it
    ],
    ids=["text", "empty", "gif", "bmp", "truncated-jpeg", "png-signature-only"],
)
def test_files_that_are_not_jpeg_or_png_are_refused(content) -> None:
    assert refusal(content).startswith("Bildet må være en JPEG- eller PNG-fil.")


def _png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 16, 9)  # a few rows of zeros
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # beyond Pillow's own limit: DecompressionBombError on open
        (10_000, 9_000),  # 90 megapixels: Pillow's warning
        (8_000, 8_000),  # 64 megapixels: over our limit
        (30_000, 1_000),  # an absurd side
    ],
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(width, height) -> None:
    bomb = _png_with_declared_size(width, height)
    assert len(bomb) < 100_000
    assert refusal(bomb).startswith("Bildet har for mange piksler")


def test_a_file_over_the_upload_limit_is_refused(settings) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    assert refusal(plain(600, 800)).startswith("Bildet er for stort.")


def test_without_a_box_the_crop_is_centred_across_and_a_little_above_the_middle() -> None:
    assert crop_frame(1000, 1000, None) == pytest.approx((500 - 777.78 / 2, 0, 777.78), abs=0.01)
    left, top, width = crop_frame(700, 1800, None)
    assert (left, width) == (0, 700)
    assert top == pytest.approx((1800 - 900) * 0.4)


def test_the_crop_box_moves_the_crop() -> None:
    # 1400 x 900: red left half, blue right half; the 35:45 box is 700 px wide.
    data = halves(1400, 900)
    left = opened(photo_prepare(data, crop=CropBox(x=0, y=0, width=0.5)))
    right = opened(photo_prepare(data, crop=CropBox(x=0.5, y=0, width=0.5)))
    centred = opened(photo_prepare(data))

    assert near(left.getpixel((left.width // 2, left.height // 2)), RED)
    assert near(right.getpixel((right.width // 2, right.height // 2)), BLUE)
    # The centred crop straddles the middle: red on its left, blue on its right.
    assert near(centred.getpixel((10, centred.height // 2)), RED)
    assert near(centred.getpixel((centred.width - 10, centred.height // 2)), BLUE)


@pytest.mark.parametrize(
    "box",
    [
        CropBox(x=0.9, y=0.9, width=0.5),  # past the right and bottom edges: pushed back in
        CropBox(x=0, y=0, width=0.001),  # smaller than the minimum: grown to it
        CropBox(x=0, y=0, width=1.0),  # taller than the photo: shrunk to fit
    ],
)
def test_a_box_outside_the_photo_is_clamped_into_it(box) -> None:
    data = halves(1400, 900)
    stored = opened(photo_prepare(data, crop=box))
    assert stored.width >= PHOTO_MIN_SIZE[0]
    assert stored.width * 45 == stored.height * 35
    left, top, width = crop_frame(1400, 900, box)
    assert left >= 0 and left + width <= 1400
    assert top >= 0 and top + width * 45 / 35 <= 900 + 1e-6
    assert width >= PHOTO_MIN_SIZE[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("0.25", "0.1", "0.5"), CropBox(0.25, 0.1, 0.5)),
        (("-3", "7", "2"), CropBox(0.0, 1.0, 1.0)),
        (("nan", "0", "0.5"), None),
        (("inf", "0", "0.5"), None),
        (("0.1", "0.1", "0"), None),
        (("", "0", "0.5"), None),
        ((None, None, None), None),
        (("<script>", "0", "1"), None),
        (("1e999", "0", "1"), None),
    ],
)
def test_form_values_become_a_box_or_nothing(values, expected) -> None:
    assert CropBox.parse(*values) == expected


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_a_large_jpeg_decoded_smaller_is_cropped_at_the_same_place(orientation) -> None:
    # 5600 x 3600 upright, red left half and blue right half; JPEG draft mode decodes it at
    # a fraction of its size, and the box must land where the person put it all the same.
    upright = Image.new("RGB", (5600, 3600), RED)
    upright.paste(BLUE, (2800, 0, 5600, 3600))
    exif = Image.Exif()
    exif[0x0112] = orientation
    # Stored as a camera would: turned the other way, with the tag saying how to turn it back.
    stored_as = {
        1: upright,
        6: upright.transpose(Image.Transpose.ROTATE_90),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }[orientation]
    data = encoded(stored_as, "JPEG", exif=exif.tobytes(), quality=90)

    left = opened(photo_prepare(data, crop=CropBox(x=0.0, y=0.0, width=0.5)))
    right = opened(photo_prepare(data, crop=CropBox(x=0.5, y=0.0, width=0.5)))
    edge = opened(photo_prepare(data, crop=CropBox(x=0.25, y=0.0, width=0.5)))

    assert left.size == right.size == PHOTO_STORED_MAX_SIZE
    assert near(left.getpixel((left.width // 2, left.height // 2)), RED)
    assert near(right.getpixel((right.width // 2, right.height // 2)), BLUE)
    # The red-blue border runs down the middle of the box at x = 0.25.
    assert near(edge.getpixel((edge.width // 2 - 20, 50)), RED)
    assert near(edge.getpixel((edge.width // 2 + 20, 50)), BLUE)
