"""Images on the wire, as each server's own documentation shows them: the samples the
emulators follow and the tests hold nbchat's requests to.

Sources (read 2026-12 through the project's code index):

- Ollama ``/api/chat``: ``docs/api.md``, "Chat request (with images)" — the user message
  carries ``"images": ["<base64>"]`` beside ``content``: raw base64 of the file, no
  ``data:`` prefix. A model without the ``vision`` capability: 400 ``{"error":
  "<model> does not support vision"}`` (``server/images.go``: ``errCapabilities`` "does not
  support" joined with ``errCapabilityVision`` "vision", as for tools).
- OpenAI Chat Completions: the vision guide and openai-python
  ``types/chat/chat_completion_content_part_image_param.py`` — ``content`` becomes a list
  of parts, ``{"type": "text", "text"}`` and ``{"type": "image_url", "image_url":
  {"url": "data:image/png;base64,…"}}``. A model that cannot see: 400 "Invalid content
  type. image_url is only supported by certain models."
- llama.cpp's ``llama-server`` without ``--mmproj``: a 500 ``server_error``, "image input
  is not supported - hint: if this is unexpected, you may need to provide the mmproj"
  (``tools/server/utils.hpp``). llama-cpp-python's server (the real tier's) says nothing:
  without a clip model its chat template drops the image parts and it answers 200.
- vLLM with a text-only model: 400 "… is not a multimodal model".
"""

from __future__ import annotations

import typing

__all__ = ["OLLAMA_USER_MESSAGE", "OPENAI_USER_MESSAGE", "RED_PIXEL_PNG"]

Json = dict[str, typing.Any]

#: A 1 × 1 red PNG, base64 (what Pillow writes for it).
RED_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)

OLLAMA_USER_MESSAGE: Json = {
    "role": "user",
    "content": "What is in this image?",
    "images": [RED_PIXEL_PNG],
}

OPENAI_USER_MESSAGE: Json = {
    "role": "user",
    "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{RED_PIXEL_PNG}"}},
    ],
}
