"""Card photos: every uploaded photo is normalised before it is stored.

Normalising (EXIF rotation applied, metadata stripped, RGB JPEG of bounded size) keeps
location data out of storage and keeps card rendering fast.
"""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

PHOTO_MAX_SIZE = (600, 800)
# A phone photo is 12–50 megapixels; anything far larger is a decompression bomb in disguise.
PHOTO_MAX_PIXELS = 60_000_000


class PhotoError(ValueError):
    """The file is not a usable photo."""


def photo_normalise(data: bytes, *, name: str = "photo.jpg") -> ContentFile[bytes]:
    """A clean JPEG of at most 600 × 800 pixels, or PhotoError."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise PhotoError("the image has too many pixels")
            image.draft("RGB", (PHOTO_MAX_SIZE[0] * 2, PHOTO_MAX_SIZE[1] * 2))
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise PhotoError(str(error)) from error
    rgb.thumbnail(PHOTO_MAX_SIZE)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name=name)
