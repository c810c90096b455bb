"""What an image is once nbchat has it: PNG or JPEG bytes and their size in pixels."""

from __future__ import annotations

import base64
import dataclasses
import typing

__all__ = ["Image", "Mime"]

#: The two formats nbchat sends: every vision server reads both (llama.cpp's loader cannot
#: read WebP, and GIF is a still first frame anyway).
Mime = typing.Literal["image/png", "image/jpeg"]


@dataclasses.dataclass(frozen=True)
class Image:
    """An image ready to send: ``data`` is a whole PNG or JPEG file, ``width`` by ``height``."""

    data: bytes = dataclasses.field(repr=False)
    mime: Mime
    width: int
    height: int

    @property
    def format(self) -> str:
        """``"PNG"`` or ``"JPEG"``: how a person names the format."""
        return self.mime.removeprefix("image/").upper()

    def base64(self) -> str:
        """The bytes as base64 text, no prefix (Ollama's ``images`` field)."""
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """A ``data:`` URL of the image (OpenAI's ``image_url``)."""
        return f"data:{self.mime};base64,{self.base64()}"

    def describe(self) -> str:
        """``"640x480 PNG"`` (with a multiplication sign): how transcripts and the demo
        name the image."""
        return f"{self.width}×{self.height} {self.format}"

    def __repr__(self) -> str:
        return f"<Image {self.describe()}, {len(self.data):,} bytes>"
