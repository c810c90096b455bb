"""Decoded pixels → an :class:`~._image.Image` a model can read: scaled, PNG or JPEG.

The choices, and why:

- **Longest side at most** :data:`MAX_SIDE` **(1,568 px)**: the size Anthropic's vision
  guide names as the most a model uses before it scales down itself, and above what
  llava (336/672), qwen2.5-vl and gemma3 (896) look at; more only costs tokens and time.
- **A JPEG stays a JPEG**: it is a photo already, as PNG it would be several times larger.
  Given unscaled and upright, its bytes are sent as they are (no second loss).
- **Everything else tries PNG first** (lossless: plots, screenshots and text stay sharp)
  and keeps it up to :data:`PNG_LIMIT` (512 KiB). A plot or a screenshot at 1,568 px is
  well under that; a photo-like image is not (a 1,568 by 1,176 photo is ~3 MB as PNG and
  ~350 KB as JPEG), and then goes as JPEG at quality :data:`JPEG_QUALITY` (85) — unless
  the JPEG is not smaller after all.
- **WebP and GIF are always re-encoded** (llama.cpp's loader reads neither WebP nor, as a
  still, every GIF); a GIF gives its first frame.
"""

from __future__ import annotations

import io
import typing
import warnings

from ..errors import InvalidImage
from ._image import Image, Mime
from ._sniff import ACCEPTED

if typing.TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["JPEG_QUALITY", "MAX_PIXELS", "MAX_SIDE", "PNG_LIMIT", "from_bytes", "from_pil"]

MAX_SIDE = 1568
PNG_LIMIT = 512 * 1024
JPEG_QUALITY = 85
#: Images with more pixels are refused before decoding: a 20,000 × 20,000 "image" of a few
#: KB would take gigabytes (Pillow's own bomb limit is of the same order).
MAX_PIXELS = 100_000_000

_EXIF_ORIENTATION = 0x0112


def from_bytes(data: bytes, mime: str, *, max_side: int, what: str) -> Image:
    """The image in ``data`` (a file of type ``mime``, sniffed), ready to send."""
    picture = open_image(data, mime, what=what)
    width, height = picture.size
    fits = max(width, height) <= max_side
    if fits and mime in ("image/png", "image/jpeg") and _sendable_as_is(picture, mime, len(data)):
        return Image(bytes(data), typing.cast(Mime, mime), width, height)
    if mime == "image/jpeg" and max(width, height) > max_side:
        # Let the JPEG decoder scale by 1/2, 1/4 or 1/8 as it decodes: a 12-megapixel photo
        # then costs a fraction of a full decode, and the resize below finishes the job.
        picture.draft("RGB", _scaled((width, height), max_side))
    return from_pil(picture, max_side=max_side, photo=mime == "image/jpeg", what=what)


def open_image(data: bytes, mime: str, *, what: str) -> PILImage.Image:
    """``data`` opened (not yet decoded) by Pillow as the sniffed format, and only that."""
    from PIL import Image as PILImage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            picture = PILImage.open(io.BytesIO(data), formats=[ACCEPTED[mime]])
    except PILImage.DecompressionBombError:
        raise InvalidImage(
            f"{what[:1].upper()}{what[1:]} is too large: more than {MAX_PIXELS // 1_000_000} "
            "megapixels.",
            hint=f"Scale it below {MAX_PIXELS // 1_000_000} megapixels first.",
        ) from None
    except Exception as exc:  # Pillow raises many kinds on bad bytes; all mean the same here
        raise InvalidImage(f"Cannot read {what}: {_reason(exc)}.") from exc
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise InvalidImage(
            f"{what[:1].upper()}{what[1:]} is too large: {width}×{height} pixels.",
            hint=f"Scale it below {MAX_PIXELS // 1_000_000} megapixels first.",
        )
    return picture


def from_pil(
    picture: PILImage.Image, *, max_side: int, photo: bool = False, what: str = "the image"
) -> Image:
    """A Pillow image → scaled PNG or JPEG bytes (``photo``: JPEG without trying PNG)."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    try:
        picture.seek(0)  # a GIF's (or an animated PNG's) first frame
        picture.load()
        picture = ImageOps.exif_transpose(picture)
        picture = _plain_mode(picture)
        if max(picture.size) > max_side:
            # reducing_gap: a fast box reduction first, then LANCZOS over the last 3×;
            # Pillow's docs call the result indistinguishable, at a fraction of the time.
            picture = picture.resize(
                _scaled(picture.size, max_side), PILImage.Resampling.LANCZOS, reducing_gap=3.0
            )
    except InvalidImage:
        raise
    except Exception as exc:
        raise InvalidImage(f"Cannot read {what}: {_reason(exc)}.") from exc
    if photo:
        return Image(_jpeg(picture), "image/jpeg", *picture.size)
    png = _png(picture)
    if len(png) <= PNG_LIMIT:
        return Image(png, "image/png", *picture.size)
    jpeg = _jpeg(picture)
    if len(jpeg) < len(png):
        return Image(jpeg, "image/jpeg", *picture.size)
    return Image(png, "image/png", *picture.size)


# What a photo carries about its owner (EXIF: GPS, camera serial; XMP; comments): a file that
# has any is re-encoded without it, so it reaches neither a server nor a saved conversation.
_METADATA = ("exif", "xmp", "XML:com.adobe.xmp", "comment")


def _sendable_as_is(picture: PILImage.Image, mime: str, size: int) -> bool:
    if any(key in picture.info for key in _METADATA) or picture.getexif():
        return False
    if mime == "image/jpeg":
        upright = picture.getexif().get(_EXIF_ORIENTATION, 1) == 1
        return upright and picture.mode in ("L", "RGB")
    animated = getattr(picture, "is_animated", False)  # an APNG: send its first frame only
    return size <= PNG_LIMIT and not animated and picture.mode in ("L", "LA", "RGB", "RGBA", "P")


def _plain_mode(picture: PILImage.Image) -> PILImage.Image:
    """8-bit grey or RGB, with alpha where the image has transparency."""
    if picture.mode in ("L", "LA", "RGB", "RGBA"):
        return picture
    has_alpha = "A" in picture.getbands() or "transparency" in picture.info
    return picture.convert("RGBA" if has_alpha else "RGB")


def _scaled(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _png(picture: PILImage.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _jpeg(picture: PILImage.Image, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    flat(picture).save(out, "JPEG", quality=quality)
    return out.getvalue()


def flat(picture: PILImage.Image) -> PILImage.Image:
    """``picture`` without alpha, on white (JPEG has no transparency)."""
    from PIL import Image as PILImage

    if picture.mode in ("L", "RGB"):
        return picture
    rgba = picture.convert("RGBA")
    white = PILImage.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120] or type(exc).__name__
