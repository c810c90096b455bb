"""Images in a conversation: what a user may give, the bytes sent, and where they are kept.

>>> from nbchat.images import to_image
>>> image = to_image(fig)            # a path, bytes, PIL image, figure, array, data: URL
>>> image.mime, image.width, image.height
('image/png', 640, 480)

:func:`to_image` makes an :class:`Image` (PNG or JPEG bytes, longest side at most
``max_side``) or refuses the input with :class:`~nbchat.errors.InvalidImage`. A
conversation keeps its images' bytes in a :class:`MemoryImageStore`, and its messages
describe them with image parts that carry a small thumbnail.
"""

from __future__ import annotations

from ._convert import ImageInput, to_image
from ._encode import JPEG_QUALITY, MAX_SIDE, PNG_LIMIT
from ._image import Image, Mime
from ._store import ImageStore, MemoryImageStore, image_id
from ._thumbnail import THUMBNAIL_LIMIT, THUMBNAIL_SIDE

__all__ = [
    "JPEG_QUALITY",
    "MAX_SIDE",
    "PNG_LIMIT",
    "THUMBNAIL_LIMIT",
    "THUMBNAIL_SIDE",
    "Image",
    "ImageInput",
    "ImageStore",
    "MemoryImageStore",
    "Mime",
    "image_id",
    "to_image",
]
