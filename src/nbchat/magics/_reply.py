"""A magic's reply on its way into the cell: streamed in a view, or as plain text.

In a kernel the reply streams into the session's compact chat view, which the static
transcript of the exchange replaces when it ends (:mod:`._output`); in a terminal, or with
``-f text``, it is written to stdout as it comes. Either way an interrupt stops the turn
and keeps the partial reply, and a failure is returned for the magic to raise.
"""

from __future__ import annotations

import sys
import typing

from ..errors import NbchatError
from . import _output
from ._grammar import Command
from ._session import MagicSession

if typing.TYPE_CHECKING:
    from ..session import Conversation
    from ._output import ExchangeView

__all__ = ["as_text", "in_widget"]


def in_widget(
    session: MagicSession, conversation: Conversation, prompt: str, command: Command, start: int
) -> tuple[bool, NbchatError | None]:
    """Ask ``prompt`` in ``session``'s view, showing the messages from ``start`` on:
    (interrupted, the failure if any)."""
    view = _view_for(session, conversation)
    view.show_from(start)
    from ..widget import _display

    live, metadata = _display.view_bundle(view)
    live["text/plain"] = f"nbchat: {conversation.model} is replying…"
    handle = _output.show_live(live, metadata)
    interrupted, error = False, None
    try:
        view.ask(prompt, **command.options)
    except KeyboardInterrupt:
        interrupted = True
        turn = conversation.current
        if turn is not None:  # an interrupt the widget did not get to: stop it here
            turn.stop()
    except NbchatError as exc:
        error = exc
    finally:
        # The static transcript replaces the live view: it is what a saved notebook shows.
        _output.update(
            handle, _output.static_bundle(_output.exchange(conversation.messages, start))
        )
    return interrupted, error


def _view_for(session: MagicSession, conversation: Conversation) -> ExchangeView:
    """The session's widget for ``conversation``: one for all its cells.

    Each cell's live view is replaced by its transcript when the reply ends, so one
    widget serves every cell; a new one per cell would send the front-end bundle (about
    1 MB) again each time, and nbclient would save that many widget states.
    """
    view = session.view
    if view is None or view.conversation is not conversation or view.comm is None:
        if view is not None:
            view.close()
        view = session.view = _output.exchange_view(conversation)
    return view


def as_text(
    conversation: Conversation, prompt: str, command: Command
) -> tuple[bool, NbchatError | None]:
    """Ask ``prompt``, writing the reply to stdout as it comes: (interrupted, the failure
    if any)."""
    from ..providers.base import TextDelta
    from ..session import ToolUpdate

    turn = conversation.prompt(prompt, **command.options)
    interrupted, error = False, None
    try:
        for event in turn:
            if isinstance(event, TextDelta):
                sys.stdout.write(event.text)
            elif isinstance(event, ToolUpdate) and event.result is not None:
                sys.stdout.write(_output.tool_line(event.call, event.result) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        interrupted = True
    except NbchatError as exc:
        error = exc
    interrupted = interrupted or turn.status == "stopped"
    sys.stdout.write("\n[stopped]\n" if interrupted else "\n")
    sys.stdout.flush()
    return interrupted, error
