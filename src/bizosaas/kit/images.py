"""Checking uploaded images and making their thumbnails, with Pillow.

An upload is checked before it is decoded: its size in bytes, then its header (format and
dimensions, which Pillow reads without decoding pixels) against a pixel limit, so a
decompression bomb (a few kilobytes that claim 50,000 x 50,000 pixels) is refused before it
can take gigabytes of memory. Only then are the pixels decoded, once, to prove the file is a
whole image and to make the thumbnails (WebP, the longer side at most each size).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
THUMBNAIL_SIZES = (200, 600)


class ImageRefused(ValueError):
    """Not an image in an accepted format (`too_large` False), or one over a limit (True)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes
    extension: str
    """`jpg`, `png`, `webp` or `gif`: the format the bytes really are, whatever the name said."""
    width: int
    height: int
    thumbnails: dict[int, bytes]
    """Longest side -> WebP bytes."""


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    """The upload checked and its thumbnails made; `ImageRefused` otherwise. CPU-bound: call it
    in a worker thread."""
    if len(data) > max_bytes:
        raise ImageRefused(f"The file is over {max_bytes:,} bytes.", too_large=True)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
    except Image.DecompressionBombError as error:
        raise ImageRefused("The image claims far too many pixels.", too_large=True) from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ImageRefused("The file is not an image Pillow can read.") from error
    if image_format not in ACCEPTED_FORMATS:
        raise ImageRefused(
            f"{image_format or 'This'} images are not accepted; use JPEG, PNG, WebP or GIF."
        )
    if width * height > max_pixels:
        raise ImageRefused(
            f"The image has {width * height:,} pixels, over the limit of {max_pixels:,}.",
            too_large=True,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                thumbnails = make_thumbnails(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("The image expands to too many pixels.", too_large=True) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageRefused("The image is damaged or incomplete.") from error
    return CheckedImage(
        data=data,
        extension=ACCEPTED_FORMATS[image_format],
        width=width,
        height=height,
        thumbnails=thumbnails,
    )


def make_thumbnails(image: Image.Image, *, effort: int = 2) -> dict[int, bytes]:
    """WebP thumbnails of a decoded image: longest side -> bytes, for each `THUMBNAIL_SIZES`.
    `effort` is libwebp's method, 0 (fastest) to 6 (smallest files)."""
    return {size: _thumbnail(image, size, effort) for size in THUMBNAIL_SIZES}


def _thumbnail(image: Image.Image, size: int, effort: int) -> bytes:
    copy = image.convert("RGBA" if _has_alpha(image) else "RGB")
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=82, method=effort)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
