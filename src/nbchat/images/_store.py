"""The image store: full image bytes, in the kernel, keyed by a hash of their content.

An image part (:class:`~nbchat.messages.ImagePart`) describes an image — size, format, a
thumbnail — and names it by ``id``; its bytes live here, owned by the conversation, never
in widget state. Autosave writes them beside its file and puts them back on load.
"""

from __future__ import annotations

import hashlib
import threading
import typing

from ..errors import InvalidImage
from ..messages import ImagePart
from ._encode import open_image
from ._image import Image, Mime
from ._sniff import sniff
from ._thumbnail import thumbnail

__all__ = ["ImageStore", "MemoryImageStore", "image_id"]


class ImageStore(typing.Protocol):
    def get(self, image_id: str) -> bytes:
        """The image's bytes; :class:`KeyError` if the store does not have it."""
        ...

    def put(self, data: bytes, mime: str) -> ImagePart:
        """Keep ``data`` and describe it; the part's ``id`` is :func:`image_id` of it."""
        ...

    def image(self, image_id: str) -> Image:
        """The image as the store decoded it; :class:`KeyError` if the store does not have it."""
        ...


def image_id(data: bytes) -> str:
    """An image's id: the first 16 hex digits of the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


class MemoryImageStore:
    """Images by id, in memory; :meth:`put` decodes the size and makes the thumbnail.

    The same bytes put twice are kept once (the id is their hash), and described once.
    """

    def __init__(self) -> None:
        self._images: dict[str, tuple[bytes, ImagePart]] = {}
        self._lock = threading.Lock()

    def get(self, image_id: str) -> bytes:
        with self._lock:
            return self._images[image_id][0]

    def image(self, image_id: str) -> Image:
        """The image ``image_id`` as an :class:`Image`; :class:`KeyError` if not here."""
        with self._lock:
            data, part = self._images[image_id]
        return Image(data, typing.cast(Mime, part["mime"]), part["width"], part["height"])

    def put(self, data: bytes, mime: str) -> ImagePart:
        """Keep ``data`` (a PNG or JPEG file; ``mime`` is checked against its bytes)."""
        data = bytes(data)
        key = image_id(data)
        with self._lock:
            known = self._images.get(key)
        if known is not None:
            return dict(known[1])  # type: ignore[return-value]
        sniffed = sniff(data)
        if sniffed not in ("image/png", "image/jpeg"):
            said = f"{len(data):,} bytes said to be {mime}"
            raise InvalidImage(
                f"Cannot keep {said}: they are not a PNG or JPEG file.",
                hint="Turn it into one first: nbchat.images.to_image(...).",
            )
        picture = open_image(data, sniffed, what=f"the {len(data):,} bytes of a {sniffed}")
        width, height = picture.size
        try:
            picture.draft("RGB", (512, 512))  # a JPEG decodes at a fraction of its size
            picture.load()
            preview = thumbnail(picture, lossless_first=sniffed == "image/png")
        except InvalidImage:
            raise
        except Exception as exc:
            raise InvalidImage(f"Cannot read the {sniffed} given: {exc}") from exc
        part: ImagePart = {
            "type": "image",
            "id": key,
            "mime": sniffed,
            "width": width,
            "height": height,
            "thumbnail": preview,
        }
        with self._lock:
            self._images[key] = (data, part)
        return dict(part)  # type: ignore[return-value]

    def add(self, image: Image) -> ImagePart:
        """Keep ``image``: :meth:`put` of its bytes."""
        return self.put(image.data, image.mime)

    def __contains__(self, image_id: object) -> bool:
        with self._lock:
            return image_id in self._images

    def __len__(self) -> int:
        with self._lock:
            return len(self._images)
