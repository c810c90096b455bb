"""Which image format some bytes are, by their first bytes (never by a file's name)."""

from __future__ import annotations

import re

__all__ = ["ACCEPTED", "is_svg", "sniff"]

#: Pillow's format names for what nbchat accepts, by MIME type.
ACCEPTED = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}

_SVG = re.compile(
    rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+svg|<svg)", re.I | re.S
)


def sniff(data: bytes) -> str | None:
    """The MIME type of ``data`` when it is a PNG, JPEG, WebP or GIF file, else ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def is_svg(data: bytes) -> bool:
    """Whether ``data`` reads as an SVG document (refused: it is a document, not pixels)."""
    return bool(_SVG.match(data[:4096]))
