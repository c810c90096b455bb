"""One recorded message → the neutral wire messages a model reads.

A reply that called tools is one message whose ``parts`` hold every step in order
(``[text, tool_call, tool_call, tool_result, tool_result, text]``). A model reads it as
the steps it took: an assistant message with the step's text and its calls, then one
``tool`` message per result (in call order), then the next step. Providers write those
in their protocol's shape (:mod:`nbchat.providers._tool_wire`).

A call without a result (a file saved by hand, a reply cut at the wrong moment) gets
one saying it was not run: both protocols reject a call left unanswered.

A user message's image parts go with its text as ``images``: the conversation says
which ones (``image``: an image part → the image to send, or ``None`` to leave it out —
past the history's limit, or its bytes are missing).

A branch reads as its messages in order after the system prompt (:func:`wire_history`),
less the exchanges in which the model said nothing (a server that was down): those stay
on screen but are not sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import InvalidRequest
from ..images import Image
from ..messages import ImagePart, Message, Part, ToolCallPart, ToolResultPart, image_parts
from ..providers.base import WireMessage, WireToolCall

__all__ = [
    "NOT_RUN",
    "check_has_question",
    "has_tool_parts",
    "wire_history",
    "wire_messages",
]

NOT_RUN = "The call was not run."


def has_tool_parts(message: Message) -> bool:
    return any(p["type"] in ("tool_call", "tool_result") for p in message.get("parts", ()))


def wire_messages(
    message: Message, image: Callable[[ImagePart], Image | None] = lambda part: None
) -> list[WireMessage]:
    """What the model reads of ``message``: itself (with the images ``image`` gives),
    or its steps when it called tools."""
    if message["role"] != "assistant" or not has_tool_parts(message):
        one: WireMessage = {"role": message["role"], "content": message["content"]}
        if message["role"] == "user":
            images = [i for i in map(image, image_parts(message)) if i is not None]
            if images:
                one["images"] = images
        return [one]
    return steps(message.get("parts", []))


def steps(parts: list[Part]) -> list[WireMessage]:
    """The wire messages of a reply's ``parts``: text and calls, then results, per step."""
    out: list[WireMessage] = []
    text: list[str] = []
    calls: list[ToolCallPart] = []
    results: dict[str, ToolResultPart] = {}
    for part in parts:
        if part["type"] == "tool_result":
            results[part["call_id"]] = part

    def close_step() -> None:
        if not text and not calls:
            return
        message: WireMessage = {"role": "assistant", "content": "".join(text)}
        if calls:
            message["tool_calls"] = [
                WireToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in calls
            ]
        out.append(message)
        for call in calls:
            result = results.get(call["id"])
            out.append(
                {
                    "role": "tool",
                    "content": result["content"] if result is not None else NOT_RUN,
                    "tool_call_id": call["id"],
                    "tool_name": call["name"],
                }
            )
        text.clear()
        calls.clear()

    answered = False  # a result of this step's calls came: the step's calls are all in
    for part in parts:
        if part["type"] == "text":
            if calls:  # text after calls belongs to the next step
                close_step()
            text.append(part["text"])
        elif part["type"] == "tool_call":
            if answered:
                close_step()
                answered = False
            calls.append(part)
        elif part["type"] == "tool_result":
            answered = answered or any(c["id"] == part["call_id"] for c in calls)
        # results go after their step's calls; reasoning is not sent back
    close_step()
    return out


def wire_history(
    system: str | None, history: list[Message], send: Mapping[str, Image]
) -> list[WireMessage]:
    """What the model reads of the branch ``history``: the system prompt, then each
    message with the images of ``send`` (by id) — less the exchanges that said nothing."""
    wire: list[WireMessage] = []
    if system:
        wire.append({"role": "system", "content": system})
    for index, message in enumerate(history):
        if message["role"] == "assistant" and _said_nothing(message):
            continue  # nothing the model said; drop its question too (below)
        if (
            message["role"] == "user"
            and index + 1 < len(history)
            and history[index + 1]["role"] == "assistant"
            and _said_nothing(history[index + 1])
        ):
            continue
        # A reply that called tools: its steps. A question: its text and images.
        wire.extend(wire_messages(message, lambda part: send.get(part["id"])))
    return wire


def check_has_question(wire: list[WireMessage]) -> None:
    if not any(m["role"] == "user" for m in wire):
        raise InvalidRequest("There is no question to answer.", hint="Ask something first.")


def _said_nothing(message: Message) -> bool:
    return not message["content"] and not has_tool_parts(message)
