"""Publishing a chat: the live view, and a static transcript beside it.

The transcript is a second output with a display id, rewritten after every turn, so a saved
notebook shows the conversation on GitHub or nbviewer. It is not part of the widget's own
output: JupyterLab rebuilds a widget view whenever its output is updated (a flicker, and the
old view is never disposed). In a live notebook the front end's CSS hides the transcript next
to a rendered chat (it carries :data:`STATIC_MARKER`). The transcript output also carries
:data:`TRANSCRIPT_MIME`, for which nbchat's JupyterLab extension registers a renderer: it
renders nothing next to a live chat (no hidden copy re-rendered per turn) and the output's own
Markdown elsewhere; hosts without the extension (nbconvert, GitHub) show the Markdown.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

import anywidget

from ..transcript import count, to_markdown

if typing.TYPE_CHECKING:
    from ..session import Conversation

__all__ = [
    "STATIC_MARKER",
    "TRANSCRIPT_MIME",
    "WIDGET_VIEW",
    "Bundle",
    "publish",
    "static_markdown",
    "transcript_bundle",
    "view_bundle",
]

#: Opens the static transcript output; the front end hides such an output when a live chat
#: is rendered in the same cell (the transcript is for readers without widget JavaScript).
STATIC_MARKER = '<div class="nbchat-static"></div>'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The transcript output's own type; its payload is only a version, the text is its Markdown.
TRANSCRIPT_MIME = "application/vnd.nbchat.transcript+json"


Bundle = dict[str, object]


def view_bundle(widget: anywidget.AnyWidget) -> tuple[Bundle, Bundle]:
    """The live view's output and its metadata: anywidget's own repr of ``widget``.

    Built on anywidget's repr rather than by hand, because that repr also carries what a
    host needs to draw the view: in Colab, the metadata that loads Colab's custom widget
    manager (without it the view does not render there). Once the comm is closed, only
    the text is left.
    """
    if widget.comm is not None:
        shown = anywidget.AnyWidget._repr_mimebundle_(widget)
        if shown is not None:
            data, metadata = shown
            return dict(data), dict(metadata)
    return {"text/plain": repr(widget)}, {}


def static_markdown(conversation: Conversation) -> str:
    """The transcript output: a one-line head, then the conversation as inert Markdown."""
    messages = conversation.messages
    head = f"**nbchat** · `{conversation.model}` · {count(len(messages), 'message')}"
    # Inert: JupyterLab renders this output trusted, and the text is a model's.
    body = to_markdown(messages, system=conversation.system, inert=True) if messages else ""
    return f"{STATIC_MARKER}\n\n{head}\n\n{body}".rstrip() + "\n"


def transcript_bundle(conversation: Conversation) -> Bundle:
    """The transcript output: :func:`static_markdown`, marked :data:`TRANSCRIPT_MIME`."""
    return {TRANSCRIPT_MIME: {"version": 1}, "text/markdown": static_markdown(conversation)}


def publish(
    bundle: Bundle,
    metadata: Bundle | None = None,
    *,
    display_id: str | None = None,
    update: bool = False,
) -> None:
    """Display ``bundle`` raw (or update the output with ``display_id``)."""
    from IPython import display as ipd

    show = typing.cast(Callable[..., None], ipd.update_display if update else ipd.display)
    show(bundle, raw=True, metadata=metadata or None, display_id=display_id)
