"""The image store as autosave uses it: full image bytes, in the kernel, keyed by id.

Round 2 §1: an image part (:class:`~nbchat.messages.ImagePart`) describes an image; its
bytes live in a store the conversation owns, never in widget state. Issue 11 builds the
real store (decoding, sizes, thumbnails); this module is only the interface autosave
needs — ``get(id) -> bytes`` and ``put(bytes, mime) -> ImagePart`` — and a plain
in-memory store that satisfies it until then.
"""

from __future__ import annotations

import hashlib
import threading
import typing

from ..messages import ImagePart

__all__ = ["ImageStore", "MemoryImageStore", "image_id"]


class ImageStore(typing.Protocol):
    def get(self, image_id: str) -> bytes:
        """The image's bytes; :class:`KeyError` if the store does not have it."""
        ...

    def put(self, data: bytes, mime: str) -> ImagePart:
        """Keep ``data`` and describe it; the part's ``id`` is :func:`image_id` of it."""
        ...


def image_id(data: bytes) -> str:
    """An image's id: the first 16 hex digits of the SHA-256 of its bytes (round 2 §1)."""
    return hashlib.sha256(data).hexdigest()[:16]


class MemoryImageStore:
    """Bytes by id, in memory. Sizes are not decoded (width, height 0): #11's store does."""

    def __init__(self) -> None:
        self._images: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, image_id: str) -> bytes:
        with self._lock:
            return self._images[image_id][0]

    def put(self, data: bytes, mime: str) -> ImagePart:
        key = image_id(data)
        with self._lock:
            self._images[key] = (bytes(data), mime)
        return {"type": "image", "id": key, "mime": mime, "width": 0, "height": 0}

    def __len__(self) -> int:
        with self._lock:
            return len(self._images)
