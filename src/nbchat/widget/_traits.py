"""What a chat's front end draws: the synced traits of :class:`~nbchat.widget.Chat`.

Each trait is one piece of the view's state, with its help text; the model, the leaf on
screen and the status are the kernel's to set (read-only), the look is the user's (theme,
height, compact, placeholder). The messages themselves are not traits: they travel as one
state key each (:mod:`._history`). The commands that change what is drawn are the
:class:`~nbchat.widget.Chat`'s own (:mod:`nbchat.widget`, :mod:`._commands`).
"""

from __future__ import annotations

import pathlib
import re
import typing

import anywidget
import traitlets
from ipywidgets import widget_serialization

from ..images import MAX_SIDE
from . import _runtime
from ._runtime import Runtime

if typing.TYPE_CHECKING:
    from ..session import Conversation

__all__ = ["ChatTraits"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_CSS_LENGTH = re.compile(r"^(auto|none|\d+(\.\d+)?(px|em|rem|vh|%))$")


class ChatTraits(anywidget.AnyWidget):
    """The traits of a chat; their defaults read the conversation the chat shows."""

    _conversation: Conversation
    _initial_leaf: str  # the leaf on screen when the chat was made (the comm's first state)

    # A small loader: the view's code and CSS come once per kernel from the runtime model
    # (see _runtime.py), not once per chat.
    _esm = _STATIC / "loader.js"

    runtime = traitlets.Instance(
        Runtime,
        read_only=True,
        help="The model carrying the view's code and CSS, shared by every chat of the kernel.",
    ).tag(sync=True, **widget_serialization)

    leaf = traitlets.Unicode(
        "",
        read_only=True,
        help='Id of the last message of the branch on screen ("": none). The messages '
        "themselves are synced as one state key each, ``m:<id>``, with ``c:<id>`` listing a "
        "message's children (see :mod:`nbchat.widget._history`).",
    ).tag(sync=True)
    status = traitlets.Enum(
        ("idle", "streaming", "error"),
        "idle",
        read_only=True,
        help='"streaming" while a reply is in flight; "error" when the last one failed.',
    ).tag(sync=True)
    model = traitlets.Unicode(
        "", read_only=True, help='The model, as "provider:name" (e.g. "demo:showcase").'
    ).tag(sync=True)
    theme = traitlets.Enum(
        ("auto", "light", "dark"),
        "auto",
        help='"auto" follows the notebook\'s theme; "light" or "dark" forces one.',
    ).tag(sync=True)
    height = traitlets.Unicode(
        "520px", help='Largest height of the message list, as CSS ("520px", "60vh").'
    ).tag(sync=True)
    compact = traitlets.Bool(False, help="Show only the messages: no input box or toolbar.").tag(
        sync=True
    )
    placeholder = traitlets.Unicode(
        "Send a message (Enter to send, Shift+Enter for a new line)",
        help="Text shown in the empty input box.",
    ).tag(sync=True)
    max_image_side = traitlets.Int(
        MAX_SIDE,
        read_only=True,
        help="Longest side, in pixels, an image is scaled to before it is sent (the "
        "browser scales attached images to it; the conversation scales the rest).",
    ).tag(sync=True)

    @traitlets.default("leaf")
    def _default_leaf(self) -> str:
        return self._initial_leaf

    @traitlets.default("runtime")
    def _default_runtime(self) -> Runtime:
        return _runtime.shared()

    @traitlets.default("model")
    def _default_model(self) -> str:
        return self._conversation.model

    @traitlets.default("max_image_side")
    def _default_max_image_side(self) -> int:
        return self._conversation.max_image_side

    @traitlets.validate("height")
    def _validate_height(self, proposal: dict[str, typing.Any]) -> str:
        value = proposal["value"]
        if not _CSS_LENGTH.match(value):
            raise traitlets.TraitError(
                f"height must be a CSS length like '520px' or '60vh', not {value!r}"
            )
        return str(value)
