"""The commands a chat's front end sends, each to what it does.

``hello``/``resync`` (a view greets: notices, then a snapshot of the reply in flight),
``submit``, ``regenerate``, ``continue`` and ``edit`` (a turn, run by :mod:`._turns`),
``stop``, ``approve`` (a tool card's answer), ``switch`` (another version), ``image`` (an
image's full bytes), ``export`` and ``clear``. Every field is checked: a message from the
browser is input like any other. A refusal is shown in the chat as one line
(``Chat._refuse``); a bug is logged for us, and the user reads one line too.
"""

from __future__ import annotations

import logging
import typing

from ..errors import ConversationBusy, InvalidRequest, NbchatError
from ..tools import Decision
from ._channel import idle_snapshot
from ._export import exported
from ._images import full_image, submitted_images
from ._protocol import ClientMessage
from ._turns import BUG_HINT

if typing.TYPE_CHECKING:
    from . import Chat

__all__ = ["handle"]

_log = logging.getLogger(__name__)  # nbchat.widget holds its NullHandler


def handle(chat: Chat, content: object, buffers: object) -> None:
    """Do what the front end's message ``content`` asks of ``chat`` (with its ``buffers``)."""
    if not isinstance(content, dict):
        return
    msg = typing.cast(ClientMessage, content)
    kind = msg.get("kind")
    try:
        if kind in ("hello", "resync"):
            chat._turns.front_end = True
            _answer_hello(chat)
        elif kind == "approve":
            _approve(chat, content)
        elif kind == "stop":
            chat.stop()
        elif kind == "submit":
            text = _text_field(content)
            images = submitted_images(content, buffers if isinstance(buffers, list) else [])
            prompt = chat._conversation.prompt
            chat._turns.start_from_ui(lambda: prompt(text, images=images or None), prompt=text)
        elif kind == "image":
            answer, data = full_image(chat._conversation, content)
            chat.send(dict(answer), buffers=[data] if data else None)
        elif kind == "regenerate":
            reply = _id_field(content)
            chat._turns.start_from_ui(lambda: chat._conversation.regenerate(reply))
        elif kind == "continue":
            chat._turns.start_from_ui(chat._conversation.resume)
        elif kind == "edit":
            text, question = _text_field(content), _id_field(content)
            chat._turns.start_from_ui(lambda: chat._conversation.edit(text, question), prompt=text)
        elif kind == "switch":
            target = _id_field(content)
            if target is None:
                raise InvalidRequest("Switch to which message?")
            chat.select(target)
        elif kind == "export":
            chat._send_custom(exported(chat._conversation, content))
        elif kind == "clear":
            _clear(chat)
        else:
            _log.debug("nbchat: ignoring unknown front-end message %r", kind)
    except NbchatError as exc:
        chat._refuse(exc)
    except Exception:  # a bug: log it for us, show one line to the user
        _log.exception("nbchat: front-end command %r failed", kind)
        chat._refuse(NbchatError("Something went wrong in nbchat.", hint=BUG_HINT))


def _approve(chat: Chat, content: dict[str, object]) -> None:
    call_id, reason = content.get("call_id"), content.get("reason")
    if not isinstance(call_id, str):
        return
    decision = Decision(
        allow=content.get("allow") is True,
        reason=reason.strip()[:500] if isinstance(reason, str) else "",
        always=content.get("always") is True,
    )
    chat._turns.approve(call_id, decision)


def _answer_hello(chat: Chat) -> None:
    # Notices kept since the chat was made are shown to the first view that greets.
    chat._send_notices()
    channel = chat._turns.channel
    if channel is not None:
        channel.request_snapshot()
    else:
        chat._send_custom(idle_snapshot())


def _clear(chat: Chat) -> None:
    if chat._turns.current is not None:
        raise ConversationBusy("A reply is still streaming.", hint="Press Stop first.")
    chat._conversation.clear()
    chat._publish_committed(status="idle")
    chat._refresh_static()
    chat._send_notices()


def _id_field(content: dict[str, object]) -> str | None:
    value = content.get("id")
    return value if isinstance(value, str) and value else None


def _text_field(content: dict[str, object]) -> str:
    text = content.get("text")
    if not isinstance(text, str):
        raise InvalidRequest("The message has no text.", hint="Type something, then send it.")
    return text
