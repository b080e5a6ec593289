"""Card photos: every uploaded photo is checked and normalised before it is stored.

The rules (issue 9, "photos that print well"):
- JPEG or PNG, told by the file's first bytes, never by its name; at most UPLOAD_MAX_BYTES.
- At least 413 x 531 pixels once turned upright (EXIF orientation): 35 x 45 mm at 300 dpi,
  so the card's photo frame never prints a blown-up photo.
- Cropped to the card's photo frame, 35:45 (the passport photo's ratio), where the person
  placed the crop box, or centred a little above the middle without one.
- Re-encoded as a plain sRGB JPEG with no metadata: no location, no camera, no thumbnail.
- Decompression bombs (a small file that decodes to billions of pixels) are refused from
  the header, before anything is decoded.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from PIL import Image, ImageCms, ImageOps

# The card's photo frame: 35:45, the passport photo's ratio (7:9).
FRAME_RATIO = (7, 9)
# 413 x 531 px is 35 x 45 mm at 300 dpi; the stored photo is at most twice that.
PHOTO_MIN_SIZE = (413, 531)
PHOTO_STORED_MAX_SIZE = (826, 1062)
# A phone photo is 12-50 megapixels; anything far larger is a decompression bomb in disguise.
PHOTO_MAX_PIXELS = 60_000_000
PHOTO_MAX_SIDE = 20_000
# Faces sit in the upper part of a passport-style photo: the default crop is a little
# above centre (0.5 would be the middle).
DEFAULT_CROP_CENTRING = 0.4
PHOTO_JPEG_QUALITY = 88

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ORIENTATION_TAG = 0x0112
# EXIF orientations 5-8 turn the picture a quarter: width and height swap.
TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


class PhotoError(ValueError):
    """The file is not a usable photo."""


# Each rule a photo can break, by a code that may be stored (a bulk order's report keeps the
# code and its numbers, and words them in the reader's language when it is shown).
PHOTO_PROBLEMS: dict[str, Promise] = {
    "not_an_image": gettext_lazy(
        "The photo must be a JPEG or PNG image. The file you chose is not an image or is damaged."
    ),
    "too_many_pixels": gettext_lazy(
        "The photo has too many pixels to be read safely. Use a photo of at most %(megapixels)d megapixels."
    ),
    "too_small": gettext_lazy(
        "The photo is %(width)d × %(height)d pixels. It must be at least %(min_width)d × %(min_height)d pixels."
    ),
    # size: in bytes, shown as "10 MB" in the reader's language.
    "too_large": gettext_lazy("The photo is too large. It can be at most %(size)s."),
}


def photo_problem_text(code: str, params: Mapping[str, Any]) -> str:
    """A photo problem in words, in the active language."""
    shown = dict(params)
    if "size" in shown:
        shown["size"] = filesizeformat(shown["size"])
    return str(PHOTO_PROBLEMS[code]) % shown


class PhotoRejected(PhotoError):
    """The photo breaks a rule: code (PHOTO_PROBLEMS) and params say which, message says it in
    the language active when it was raised."""

    def __init__(self, code: str, /, **params: int) -> None:
        self.code = code
        self.params = params
        self.message = photo_problem_text(code, params)
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class CropBox:
    """Where the person placed the crop: left, top and width as fractions 0..1 of the upright
    photo's width (x, width) and height (y); the height follows from 35:45."""

    x: float
    y: float
    width: float

    @classmethod
    def parse(cls, x: str | None, y: str | None, width: str | None) -> CropBox | None:
        """The box from three form values, or None when any is missing or not a number.

        Values outside 0..1 are clamped here and again against the photo in photo_prepare.
        """
        try:
            values = [float(str(value).strip()[:32]) for value in (x, y, width)]
        except (TypeError, ValueError):
            return None
        if not all(math.isfinite(value) for value in values):
            return None
        x_fraction, y_fraction, width_fraction = (min(max(v, 0.0), 1.0) for v in values)
        if width_fraction <= 0:
            return None
        return cls(x=x_fraction, y=y_fraction, width=width_fraction)


@dataclass(frozen=True, slots=True)
class _Box:
    left: float
    top: float
    width: float
    height: float


def _not_a_photo() -> PhotoRejected:
    return PhotoRejected("not_an_image")


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected("too_many_pixels", megapixels=PHOTO_MAX_PIXELS // 1_000_000)


def _too_small(width: int, height: int) -> PhotoRejected:
    return PhotoRejected(
        "too_small",
        width=width,
        height=height,
        min_width=PHOTO_MIN_SIZE[0],
        min_height=PHOTO_MIN_SIZE[1],
    )


def crop_frame(width: float, height: float, crop: CropBox | None) -> tuple[float, float, float]:
    """The crop (left, top, width in pixels) of an upright photo of width x height pixels.

    The box is kept inside the photo and at least PHOTO_MIN_SIZE; without one, the largest
    35:45 box, centred across and a little above the middle.
    """
    ratio = FRAME_RATIO[1] / FRAME_RATIO[0]
    largest = min(width, height / ratio)
    smallest = min(float(PHOTO_MIN_SIZE[0]), largest)
    if crop is None:
        box_width = largest
        left = (width - box_width) / 2
        top = (height - box_width * ratio) * DEFAULT_CROP_CENTRING
    else:
        box_width = min(max(crop.width * width, smallest), largest)
        left = max(0.0, min(crop.x * width, width - box_width))
        top = max(0.0, min(crop.y * height, height - box_width * ratio))
    return left, top, box_width


def _check_format(data: bytes) -> str:
    if data.startswith(JPEG_MAGIC):
        return "JPEG"
    if data.startswith(PNG_MAGIC):
        return "PNG"
    raise _not_a_photo()


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB; an embedded colour profile (a phone's Display P3) is applied, not
    kept, since the stored JPEG carries no metadata at all."""
    profile = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent parts print white, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    elif image.mode.startswith("I"):
        # 16-bit greyscale PNG: scale to 8 bits rather than clip.
        image = image.point(lambda value: value / 256).convert("L")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(
                image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB"),
                source,
                srgb,
                outputMode="RGB",
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile: the pixels as they are are better than no photo.
    return image.convert("RGB")


def photo_prepare(data: bytes, *, crop: CropBox | None = None) -> bytes:
    """The photo as stored: an upright sRGB JPEG cropped to 35:45, or PhotoRejected."""
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise PhotoRejected("too_large", size=settings.UPLOAD_MAX_BYTES)
    expected_format = _check_format(data)
    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS and refuses at twice that: both are refusals.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[expected_format]) as image:
                upright, box = _decode_upright(image, crop)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except PhotoRejected:
            raise
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as error:
            raise _not_a_photo() from error
    framed = upright.crop(
        (
            round(box.left),
            round(box.top),
            round(box.left + box.width),
            round(box.top + box.height),
        )
    )
    # A whole multiple of 7 x 9 keeps the ratio exact; never more than the stored maximum.
    # (Draft decoding may leave the box a hair under the minimum: that rounds up.)
    scale = min(
        PHOTO_STORED_MAX_SIZE[0] // FRAME_RATIO[0],
        max(PHOTO_MIN_SIZE[0] // FRAME_RATIO[0], math.floor(box.width / FRAME_RATIO[0])),
    )
    size = (FRAME_RATIO[0] * scale, FRAME_RATIO[1] * scale)
    framed = _to_srgb(framed).resize(size, Image.Resampling.LANCZOS)
    # Pillow carries info (EXIF, ICC, XMP, comments) through crop and resize: drop it all.
    framed.info.clear()
    out = io.BytesIO()
    framed.save(out, format="JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _decode_upright(image: Image.Image, crop: CropBox | None) -> tuple[Image.Image, _Box]:
    """The decoded upright photo (possibly decoded smaller, JPEG draft mode) and the crop box
    in its pixels. Dimensions are checked from the header, before anything is decoded."""
    raw_width, raw_height = image.size
    if (
        raw_width * raw_height > PHOTO_MAX_PIXELS
        or raw_width > PHOTO_MAX_SIDE
        or raw_height > PHOTO_MAX_SIDE
    ):
        raise _too_many_pixels()
    try:
        orientation = int(image.getexif().get(ORIENTATION_TAG, 1))
    except (ValueError, TypeError, SyntaxError):
        orientation = 1
    transposed = orientation in TRANSPOSING_ORIENTATIONS
    width, height = (raw_height, raw_width) if transposed else (raw_width, raw_height)
    if width < PHOTO_MIN_SIZE[0] or height < PHOTO_MIN_SIZE[1]:
        raise _too_small(width, height)
    left, top, box_width = crop_frame(width, height, crop)
    if image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale when the crop still gets the stored size: a
        # 50-megapixel phone photo then takes a fraction of the memory and time.
        wanted = min(box_width, float(PHOTO_STORED_MAX_SIZE[0]))
        factor = wanted / box_width
        request = (math.ceil(width * factor), math.ceil(height * factor))
        image.draft("RGB", (request[1], request[0]) if transposed else request)
    image.load()
    upright = ImageOps.exif_transpose(image)
    scale = upright.width / width
    ratio = FRAME_RATIO[1] / FRAME_RATIO[0]
    box = _Box(
        left=left * scale,
        top=top * scale,
        width=box_width * scale,
        height=box_width * ratio * scale,
    )
    return upright, box


def photo_normalise(
    data: bytes, *, name: str = "photo.jpg", crop: CropBox | None = None
) -> ContentFile[bytes]:
    """photo_prepare's JPEG as a ContentFile named name, or PhotoRejected."""
    return ContentFile(photo_prepare(data, crop=crop), name=name)
