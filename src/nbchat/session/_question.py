"""A question: its images taken in, the message recorded, and what the model reads of it.

A question's images are turned into images a model can read (:func:`~nbchat.images.to_image`,
scaled to the conversation's ``max_image_side``), kept in its image store by id, and described
in the message (an image part). Each request then sends the images of the question it answers
and, of the past ones, the ``max_history_images`` most recent — those whose bytes the store
has (a restored file's missing images are not sent).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence

from ..images import Image, ImageStore, MemoryImageStore, to_image
from ..messages import ImagePart, Message, Part, image_parts, new_id
from ..providers.base import WireMessage

__all__ = [
    "image_of",
    "images_to_resend",
    "listed",
    "question",
    "take_images",
]


def listed(images: object) -> list[object]:
    """The images given, as a list: one image may come without one."""
    if images is None:
        return []
    if isinstance(images, (str, bytes, bytearray, os.PathLike)) or not isinstance(images, Sequence):
        return [images]
    return list(images)


def take_images(
    store: MemoryImageStore, images: Sequence[object], max_side: int
) -> list[ImagePart]:
    """``images`` turned into images, kept in the store, described (before anything
    is sent: one refused input refuses the message)."""
    made = [to_image(given, max_side=max_side) for given in images]
    return [store.add(image) for image in made]


def question(
    ask: str,
    images: list[ImagePart],
    parent: str | None,
    taken: Collection[str],
    store: ImageStore,
) -> tuple[Message, WireMessage]:
    """The question ``ask`` with ``images``, after ``parent``: the user message recorded
    (a new id, not one of ``taken``) and what the model reads of it."""
    user: Message = {"id": new_id(taken), "role": "user", "content": ask, "parent": parent}
    if images:
        parts: list[Part] = [{"type": "text", "text": ask}] if ask else []
        user["parts"] = [*parts, *images]
    asked: WireMessage = {"role": "user", "content": ask}
    sent = [i for i in (image_of(store, p) for p in images) if i is not None]
    if sent:
        asked["images"] = sent
    return user, asked


def image_of(store: ImageStore, part: ImagePart) -> Image | None:
    """The image ``part`` names, as the store decoded it (``None``: its bytes are missing)."""
    try:
        return store.image(part["id"])
    except KeyError:
        return None


def images_to_resend(
    store: ImageStore, history: list[Message], limit: int | None
) -> dict[str, Image]:
    """The images sent, by id: those of the question being answered (when it ends
    ``history``), and of the past ones the ``limit`` most recent (all with ``None``) —
    those whose bytes the store has (a file's missing ones are not)."""
    send: dict[str, Image] = {}
    past = history
    if history and history[-1]["role"] == "user":
        # The question this turn answers (a regenerate, a resume): not a past one.
        for part in image_parts(history[-1]):
            image = image_of(store, part)
            if image is not None:
                send[part["id"]] = image
        past = history[:-1]
    counted = 0
    for message in reversed(past):
        if message["role"] != "user":
            continue
        for part in reversed(image_parts(message)):
            if limit is not None and counted >= limit:
                return send
            image = image_of(store, part)
            if image is not None:
                send.setdefault(part["id"], image)
                counted += 1
    return send
