"""What a user may give as an image, and :func:`to_image`, which turns it into one.

Accepted: a path (``str`` or :class:`os.PathLike`), the bytes of a file, a ``data:`` URL,
a Pillow image, a matplotlib figure (drawn as PNG at its own DPI), a numpy array (shape
``(h, w)``, ``(h, w, 3)`` or ``(h, w, 4)``; ``uint8``, or floats in [0, 1]) and an
:class:`~._image.Image`.
Pillow, matplotlib and numpy are recognised without being imported: an object can only
be one of theirs if its library is loaded already.

Everything else is refused with one line naming what was given, before anything is sent:
SVG (a document, which could fetch or run things, not pixels), ``http(s)`` URLs (nbchat
never fetches an image: keys and images never meet), and anything unreadable.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import pathlib
import re
import sys
import typing
import urllib.parse

from ..errors import InvalidImage
from ._encode import MAX_SIDE, from_bytes, from_pil
from ._image import Image
from ._sniff import ACCEPTED, is_svg, sniff

if typing.TYPE_CHECKING:
    import numpy
    from matplotlib.figure import Figure
    from PIL import Image as PILImage

__all__ = ["ImageInput", "to_image"]

#: What :func:`to_image` takes (``str``: a path or a ``data:`` URL).
ImageInput: typing.TypeAlias = typing.Union[
    str,
    "os.PathLike[str]",
    bytes,
    "PILImage.Image",
    "Figure",
    "numpy.ndarray[typing.Any, typing.Any]",
    Image,
]

_HINT = "Give a PNG, JPEG, WebP or GIF: a path, bytes, a PIL image, a figure or an array."
_DATA_URL = re.compile(r"data:([^,;]*)((?:;[^,;]*)*),(.*)", re.S)


def to_image(obj: object, *, max_side: int = MAX_SIDE) -> Image:
    """``obj`` as an :class:`Image`: PNG or JPEG, longest side at most ``max_side``.

    Raises :class:`~nbchat.errors.InvalidImage` for anything that is not an image.
    """
    if not isinstance(max_side, int) or isinstance(max_side, bool) or max_side < 16:
        raise InvalidImage(
            f"max_image_side must be a whole number of pixels from 16, not {max_side!r}.",
            hint=f"The default is {MAX_SIDE}.",
        )
    if isinstance(obj, Image):
        if max(obj.width, obj.height) <= max_side:
            return obj
        return from_bytes(obj.data, obj.mime, max_side=max_side, what=repr(obj))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        return _from_file_bytes(data, max_side, what=f"the {len(data):,} bytes given")
    if isinstance(obj, str) and obj.lstrip()[:5].lower() == "data:":
        return _from_data_url(obj.strip(), max_side)
    if isinstance(obj, (str, os.PathLike)):
        return _from_path(obj, max_side)
    if _is_instance(obj, "PIL.Image", "Image"):
        return from_pil(typing.cast("PILImage.Image", obj), max_side=max_side, what="the PIL image")
    if _is_instance(obj, "matplotlib.figure", "Figure"):
        return _from_figure(typing.cast("Figure", obj), max_side)
    if _is_instance(obj, "numpy", "ndarray"):
        return _from_array(obj, max_side)
    raise InvalidImage(f"Cannot use {_named(obj)} as an image.", hint=_HINT)


def _is_instance(obj: object, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    kind = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(kind, type) and isinstance(obj, kind)


def _named(obj: object) -> str:
    shown = repr(obj)
    shown = shown if len(shown) <= 60 else shown[:57] + "…"
    return f"a {type(obj).__name__} ({shown})"


def _from_file_bytes(data: bytes, max_side: int, *, what: str) -> Image:
    mime = sniff(data)
    if mime is None:
        if is_svg(data):
            raise InvalidImage(
                f"{what[:1].upper()}{what[1:]} are an SVG document: SVG is not accepted.",
                hint="Export it as PNG first (with cairosvg, or the program that made it).",
            )
        start = data[:8]
        raise InvalidImage(
            f"{what[:1].upper()}{what[1:]} are not a PNG, JPEG, WebP or GIF image "
            f"(they start {start!r}).",
            hint=_HINT,
        )
    return from_bytes(data, mime, max_side=max_side, what=what)


def _from_path(path: str | os.PathLike[str], max_side: int) -> Image:
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InvalidImage(f"Cannot use {_named(path)} as an image path.", hint=_HINT)
    scheme = urllib.parse.urlsplit(text.strip()).scheme.lower()
    # A network path (//host/…, or Windows' \\server\share) is a remote fetch too.
    if scheme in ("http", "https", "ftp", "file") or text.strip().startswith(("//", "\\\\")):
        raise InvalidImage(
            f"The image {text.strip()[:80]!r} is a URL: nbchat never fetches images.",
            hint="Download it and pass the file (or its bytes).",
        )
    where = pathlib.Path(text).expanduser()
    try:
        data = where.read_bytes()
    except FileNotFoundError:
        raise InvalidImage(f"There is no image file {text!r}.", hint=_HINT) from None
    except OSError as exc:
        raise InvalidImage(f"Cannot read the image file {text!r}: {exc.strerror}.") from None
    shown = text if len(text) <= 80 else "…" + text[-79:]
    return _from_file_bytes(data, max_side, what=f"the file {shown!r}'s bytes")


def _from_data_url(url: str, max_side: int) -> Image:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise InvalidImage(f"The data: URL {url[:40]!r}… is malformed.", hint=_HINT)
    mime, params, payload = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if "svg" in mime:
        raise InvalidImage(
            f"The data: URL holds {mime}: SVG is not accepted.", hint="Export it as PNG first."
        )
    if mime and mime not in ACCEPTED:
        raise InvalidImage(f"The data: URL holds {mime}, not an image nbchat reads.", hint=_HINT)
    try:
        if ";base64" in params:
            data = base64.b64decode("".join(payload.split()), validate=True)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise InvalidImage("The data: URL's base64 is broken.", hint=_HINT) from None
    return _from_file_bytes(data, max_side, what=f"the data: URL's {len(data):,} bytes")


def _from_figure(figure: Figure, max_side: int) -> Image:
    out = io.BytesIO()
    try:
        figure.savefig(out, format="png", dpi="figure")
    except Exception as exc:  # a figure that cannot draw itself (bad data, a backend error)
        raise InvalidImage(f"The figure could not be drawn: {exc}".strip()) from exc
    return from_bytes(out.getvalue(), "image/png", max_side=max_side, what="the figure")


def _from_array(array: typing.Any, max_side: int) -> Image:
    import numpy
    from PIL import Image as PILImage

    shape, dtype = tuple(array.shape), array.dtype
    what = f"a numpy array of shape {shape} and dtype {dtype}"
    channels = shape[2] if len(shape) == 3 else 1
    if not (len(shape) == 2 or (len(shape) == 3 and channels in (3, 4))) or 0 in shape:
        raise InvalidImage(
            f"Cannot use {what} as an image.", hint="Use H×W (grey), H×W×3 (RGB) or H×W×4 (RGBA)."
        )
    if dtype == numpy.uint8:
        pixels = array
    elif numpy.issubdtype(dtype, numpy.floating):
        if not numpy.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise InvalidImage(
                f"Cannot use {what} as an image: its values are not all in [0, 1].",
                hint="Scale floats to [0, 1], or pass uint8 (0–255).",
            )
        pixels = (array * 255.0 + 0.5).astype(numpy.uint8)
    else:
        raise InvalidImage(
            f"Cannot use {what} as an image.", hint="Use uint8 (0–255) or floats in [0, 1]."
        )
    # uint8 H×W, H×W×3, H×W×4 are read as L, RGB, RGBA.
    picture = PILImage.fromarray(numpy.ascontiguousarray(pixels))
    return from_pil(picture, max_side=max_side, what="the array")
