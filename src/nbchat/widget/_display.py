"""Publishing a chat: the live view, and a static transcript beside it.

The transcript is a few more outputs with display ids, rewritten as the conversation changes
(:mod:`._static`: only the parts that changed), so a saved notebook shows the conversation on
GitHub or nbviewer. It is not part of the widget's own output: JupyterLab rebuilds a widget
view whenever its output is updated (a flicker, and the old view is never disposed). In a
live notebook the front end's CSS hides the transcript next to a rendered chat (it carries
:data:`STATIC_MARKER`), and nbchat's JupyterLab extension renders nothing for an output of
type ``TRANSCRIPT_MIME`` next to a live chat (no hidden copy re-rendered per turn).
"""

from __future__ import annotations

import typing
from collections.abc import Callable

import anywidget

from ..transcript import count, to_markdown
from ._static import STATIC_MARKER

if typing.TYPE_CHECKING:
    from ..session import Conversation

__all__ = [
    "STATIC_MARKER",
    "WIDGET_VIEW",
    "Bundle",
    "publish",
    "static_markdown",
    "view_bundle",
]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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
    """The whole transcript in one piece (for a host that shows ``_repr_mimebundle_``): a
    one-line head, then the conversation as inert Markdown."""
    messages = conversation.messages
    head = f"**nbchat** · `{conversation.model}` · {count(len(messages), 'message')}"
    # Inert: JupyterLab renders this output trusted, and the text is a model's.
    body = to_markdown(messages, system=conversation.system, inert=True) if messages else ""
    return f"{STATIC_MARKER}\n\n{head}\n\n{body}".rstrip() + "\n"


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
