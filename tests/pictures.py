"""Images for tests, made with Pillow and numpy: plots (flat colours), photos (noise over a
gradient: what a camera gives a compressor), and how to read back what was sent."""

from __future__ import annotations

import base64
import io

import numpy
from PIL import Image as PILImage

__all__ = ["decoded", "encoded", "flat", "from_base64", "photo", "with_exif_rotation"]


def photo(width: int, height: int, *, seed: int = 0) -> numpy.ndarray:
    """An RGB uint8 array that compresses like a photo: a gradient under noise."""
    rng = numpy.random.default_rng(seed)
    y, x = numpy.mgrid[0:height, 0:width]
    base = numpy.stack(
        [x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], -1
    )
    noise = rng.integers(-12, 12, (height, width, 3))  # sensor noise, roughly
    return numpy.clip(base + noise, 0, 255).astype(numpy.uint8)


def flat(width: int, height: int) -> numpy.ndarray:
    """An RGB uint8 array that compresses like a plot: white, with a few coloured bars."""
    pixels = numpy.full((height, width, 3), 255, numpy.uint8)
    for i, colour in enumerate(((31, 119, 180), (255, 127, 14), (44, 160, 44))):
        pixels[
            height // 4 : height - height // 8, (2 * i + 1) * width // 7 : (2 * i + 2) * width // 7
        ] = colour
    return pixels


def encoded(pixels: numpy.ndarray | PILImage.Image, fmt: str, **options: object) -> bytes:
    """``pixels`` as a file of format ``fmt`` ("PNG", "JPEG", "WEBP", "GIF")."""
    picture = pixels if isinstance(pixels, PILImage.Image) else PILImage.fromarray(pixels)
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def with_exif_rotation(pixels: numpy.ndarray, orientation: int) -> bytes:
    """A JPEG whose EXIF says to rotate it (6: 90° clockwise), as phones write them."""
    picture = PILImage.fromarray(pixels)
    exif = picture.getexif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def decoded(data: bytes) -> tuple[str, tuple[int, int]]:
    """What ``data`` really is: Pillow's format name and the size in pixels."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.load()
        return str(picture.format), picture.size


def from_base64(text: str) -> bytes:
    """Strict base64 (a ``data:`` prefix fails)."""
    return base64.b64decode(text, validate=True)
