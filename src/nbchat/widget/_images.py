"""Images between the widget and the kernel: those a ``submit`` brings, and the full image a
view asks for to show it larger.

A submit's images arrive as the comm message's binary buffers, one per image, described
(``mime``, ``width``, ``height``) in its ``images`` field. The description is only the
browser's word: the bytes go to :meth:`Conversation.prompt
<nbchat.session.Conversation.prompt>`, which reads them again (format, size, scaling) and
refuses what is not a PNG, JPEG, WebP or GIF image with a one-line
:class:`~nbchat.errors.InvalidImage`.
"""

from __future__ import annotations

import typing

from ..errors import InvalidImage
from ..session import Conversation
from ._protocol import ImageMsg

__all__ = ["MAX_BYTES", "MAX_IMAGES", "full_image", "submitted_images"]

#: Images one message may carry: as many as the browser's tray holds (MAX_ATTACHMENTS in
#: js/view/attachments.ts); more is a forged message.
MAX_IMAGES = 10
#: Bytes one image may have on arrival. The browser sends a scaled PNG or JPEG (well under
#: a megabyte at the default size); this only stops a runaway message.
MAX_BYTES = 32 * 1024 * 1024

_HINT = "Attach it again, or pass it from code: chat.ask(text, images=[…])."


def submitted_images(content: dict[str, object], buffers: typing.Sequence[object]) -> list[bytes]:
    """The bytes of each image a ``submit`` carries, in order (none: an empty list)."""
    described = content.get("images")
    if described is None and not buffers:
        return []
    if not isinstance(described, list) or len(described) != len(buffers):
        raise InvalidImage("The message's images did not arrive whole.", hint=_HINT)
    if len(buffers) > MAX_IMAGES:
        raise InvalidImage(
            f"A message can carry at most {MAX_IMAGES} images, not {len(buffers)}.",
            hint="Send them over several messages.",
        )
    out: list[bytes] = []
    for number, buffer in enumerate(buffers, 1):
        if not isinstance(buffer, (bytes, bytearray, memoryview)):
            raise InvalidImage(f"Image {number} did not arrive as bytes.", hint=_HINT)
        data = bytes(buffer)
        if not data:
            raise InvalidImage(f"Image {number} arrived empty.", hint=_HINT)
        if len(data) > MAX_BYTES:
            raise InvalidImage(
                f"Image {number} is too large to take: {len(data):,} bytes.",
                hint=f"Scale it below {MAX_BYTES // (1024 * 1024)} MB first.",
            )
        out.append(data)
    return out


def full_image(conversation: Conversation, content: dict[str, object]) -> tuple[ImageMsg, bytes]:
    """The answer to an ``image`` command and the bytes to send with it (empty: none)."""
    request = content.get("request")
    image_id = content.get("id")
    number = request if isinstance(request, int) and not isinstance(request, bool) else 0
    key = image_id if isinstance(image_id, str) else ""
    try:
        image = conversation.images.image(key)
    except KeyError:
        missing = "This conversation does not have that image (it may have been cleared)."
        return ImageMsg(kind="image", request=number, id=key, error=missing), b""
    return ImageMsg(kind="image", request=number, id=key, mime=image.mime), image.data
