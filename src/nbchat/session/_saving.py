"""Writing a conversation out: its JSON, and a file chosen by its name.

:func:`save` writes Markdown for ``.md``, HTML for ``.html``, else the JSON of
:func:`to_json` with the images' bytes beside it (``talk.json.images/<id>.png``). The file
the conversation keeps as it goes (``file=``) is not written over: it is compacted, the
crash-safe way (:mod:`.autosave`). Reading back is :mod:`._setup`'s (``restore``).
"""

from __future__ import annotations

import copy
import os
import pathlib
import typing

from .. import transcript
from ..messages import image_parts_of
from . import autosave

if typing.TYPE_CHECKING:
    from .conversation import Conversation

__all__ = ["save", "to_json"]


def to_json(conversation: Conversation) -> str:
    """Every message of every branch, which branch is on screen, system, model, options."""
    with conversation._lock:  # the fields autosave writes, as one consistent copy
        fields = copy.deepcopy(conversation._snapshot())
    return transcript.dumps(**typing.cast(dict[str, typing.Any], fields))


def save(conversation: Conversation, path: str) -> None:
    """Write ``conversation`` to ``path``, in the format its name says."""
    saver = conversation._autosave
    if (
        saver is not None
        and saver.writing
        and os.path.realpath(path) == os.path.realpath(saver.path)
    ):
        with conversation._lock:
            saver.compact()  # its own file: rewritten the crash-safe way, journal folded in
        return
    lowered = str(path).lower()
    if lowered.endswith((".md", ".markdown")):
        data = conversation.to_markdown()
    elif lowered.endswith((".html", ".htm")):
        data = conversation.to_html()
    else:
        data = conversation.to_json()
        with conversation._lock:
            messages = list(conversation._tree)
        autosave.write_images(pathlib.Path(path), image_parts_of(messages), conversation.images)
    with open(path, "w", encoding="utf-8") as file:
        file.write(data)
