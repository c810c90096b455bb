"""A small preview of an image, as a ``data:`` URL of at most :data:`THUMBNAIL_LIMIT` bytes.

Thumbnails are what the ``messages`` trait, the notebook's saved widget state and the
HTML/Markdown exports carry, so a notebook about ten photos stays small. They start at
:data:`THUMBNAIL_SIDE` px on the longest side and shrink (in quality, then in size) until
they fit; a PNG (a plot, a screenshot) stays PNG while that fits, to keep lines crisp.
"""

from __future__ import annotations

import base64
import io
import typing

from ._encode import flat

if typing.TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["THUMBNAIL_LIMIT", "THUMBNAIL_SIDE", "thumbnail"]

THUMBNAIL_LIMIT = 16 * 1024
THUMBNAIL_SIDE = 256

# (longest side, JPEG quality), tried in order until the URL fits.
_STEPS = ((256, 80), (256, 65), (192, 70), (160, 60), (128, 60), (96, 50), (64, 50), (32, 40))


def thumbnail(picture: PILImage.Image, *, lossless_first: bool) -> str:
    """A ``data:`` URL of ``picture`` scaled down, at most :data:`THUMBNAIL_LIMIT` long."""
    from PIL import Image as PILImage

    small = picture.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), PILImage.Resampling.LANCZOS)
    if lossless_first:
        url = _url("image/png", _save(small, "PNG"))
        if len(url) <= THUMBNAIL_LIMIT:
            return url
    opaque = flat(small)
    for side, quality in _STEPS:
        step = opaque.copy()
        step.thumbnail((side, side), PILImage.Resampling.LANCZOS)
        url = _url("image/jpeg", _save(step, "JPEG", quality=quality))
        if len(url) <= THUMBNAIL_LIMIT:
            return url
    return url  # 32 px at quality 40 is a few hundred bytes: never reached in practice


def _save(picture: PILImage.Image, fmt: str, **options: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def _url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
