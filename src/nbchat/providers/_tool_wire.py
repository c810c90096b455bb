"""Messages, tools, tool calls and images in each protocol's own shape; refusals of ``tools``.

The session hands providers neutral :class:`~.base.WireMessage`\\ s: a model step that
called tools is an assistant message with ``tool_calls``, then one ``tool`` message per
result, in call order. Each protocol writes them its way (from its own docs):

- Ollama ``/api/chat`` (docs/capabilities/tool-calling.mdx): the assistant message's
  ``tool_calls`` are ``{"type": "function", "function": {"index", "name", "arguments"}}``
  with the arguments as a JSON **object**; a result is ``{"role": "tool", "tool_name",
  "content"}``, matched to its call by order.
- OpenAI Chat Completions: ``tool_calls`` are ``{"id", "type": "function", "function":
  {"name", "arguments"}}`` with the arguments as JSON **text**, and ``"content": ""`` when
  the step said nothing. OpenAI's guide writes null there, but llama-cpp-python's server
  answers null with a 500 validation error and a missing key with an empty stream (its
  chatml-function-calling template reads ``message.content``); OpenAI takes ``""`` (the
  Vercel AI SDK sends it). A result is ``{"role": "tool", "tool_call_id", "content"}``.

A user message's images (Ollama's api.md, "Chat request (with images)"; OpenAI's vision
guide): Ollama takes ``"images": ["<base64>"]`` beside ``content`` (raw base64, no
``data:`` prefix); OpenAI makes ``content`` a list of parts, ``{"type": "text", "text"}``
then one ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"}}`` per
image.

Wire samples: ``tests/servers/tool_samples.py``, ``tests/servers/image_samples.py``.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Sequence

from ..errors import BadRequest, NbchatError, ToolsNotSupported, excerpt
from ..images import Image
from .base import ChatRequest, ToolSpec, WireMessage, WireToolCall

__all__ = [
    "ollama_messages",
    "openai_messages",
    "tool_definitions",
    "tools_refused",
]

Json = dict[str, typing.Any]


def tool_definitions(tools: Sequence[ToolSpec]) -> list[Json]:
    """The ``tools`` field, the same in both protocols."""
    return [
        {
            "type": "function",
            "function": {
                "name": t["name"],
                "description": t["description"],
                "parameters": t["parameters"],
            },
        }
        for t in tools
    ]


def _arguments_object(text: str) -> Json:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        value = None
    # A call whose arguments were not a JSON object got an error as its result; Ollama
    # takes only objects, so it goes back as an empty one.
    return value if isinstance(value, dict) else {}


def ollama_messages(messages: Sequence[WireMessage]) -> list[Json]:
    return _protocol_messages(
        messages, matched_by="tool_name", write_calls=_ollama_calls, write_images=_ollama_images
    )


def openai_messages(messages: Sequence[WireMessage]) -> list[Json]:
    return _protocol_messages(
        messages, matched_by="tool_call_id", write_calls=_openai_calls, write_images=_openai_images
    )


def _protocol_messages(
    messages: Sequence[WireMessage],
    *,
    matched_by: typing.Literal["tool_name", "tool_call_id"],
    write_calls: Callable[[Json, list[WireToolCall]], None],
    write_images: Callable[[Json, list[Image]], None],
) -> list[Json]:
    """``messages`` in one protocol's shape: a result keeps the key ``matched_by`` that pairs
    it with its call; ``write_calls`` writes a step's calls into its message, and
    ``write_images`` a question's images."""
    out: list[Json] = []
    for message in messages:
        role = message["role"]
        if role == "tool":
            out.append(
                {
                    "role": "tool",
                    matched_by: message.get(matched_by, ""),
                    "content": message["content"],
                }
            )
            continue
        one: Json = {k: v for k, v in message.items() if k not in _NOT_COPIED}
        images = message.get("images")
        if images:
            write_images(one, images)
        calls = message.get("tool_calls")
        if calls:
            write_calls(one, calls)
        out.append(one)
    return out


_NOT_COPIED = frozenset({"tool_calls", "tool_call_id", "tool_name", "images"})


def _ollama_images(one: Json, images: list[Image]) -> None:
    one["images"] = [image.base64() for image in images]


def _openai_images(one: Json, images: list[Image]) -> None:
    text = [{"type": "text", "text": one["content"]}] if one["content"] else []
    one["content"] = text + [
        {"type": "image_url", "image_url": {"url": image.data_url()}} for image in images
    ]


def _ollama_calls(one: Json, calls: list[WireToolCall]) -> None:
    if not one.get("content"):
        del one["content"]  # as Ollama's docs write a step that only calls tools
    one["tool_calls"] = [
        {
            "type": "function",
            "function": {
                "index": index,
                "name": call["name"],
                "arguments": _arguments_object(call["arguments"]),
            },
        }
        for index, call in enumerate(calls)
    ]


def _openai_calls(one: Json, calls: list[WireToolCall]) -> None:
    one["content"] = one["content"] or ""  # not null: see the docstring
    one["tool_calls"] = [
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": call["arguments"] or "{}"},
        }
        for call in calls
    ]


_OLLAMA_REFUSAL = re.compile(r"does not support tools", re.IGNORECASE)
_TOOL_WORD = re.compile(r"\btool", re.IGNORECASE)


def tools_refused(error: NbchatError, request: ChatRequest, *, ollama: bool) -> NbchatError:
    """``error`` as :class:`~nbchat.errors.ToolsNotSupported` when it is the server saying
    no to the request's tools (else ``error`` itself): one line, and what to do."""
    if (
        not request.tools
        or not isinstance(error, BadRequest)
        or isinstance(error, ToolsNotSupported)
    ):
        return error
    said = error.message
    if ollama and _OLLAMA_REFUSAL.search(said):
        message = f"The model {request.model} does not support tools (Ollama said so)."
        hint = (
            "Pick a tool-capable model (ollama.com/search?c=tools: qwen3, llama3.1, "
            "mistral…), or chat without tools."
        )
    elif not ollama and _TOOL_WORD.search(said):
        message = f"The server refused the tools: {excerpt(said, 200)}"
        hint = (
            "Pick a model and server that call tools (llama.cpp's server needs --jinja; "
            "vLLM --enable-auto-tool-choice and a --tool-call-parser), or chat without tools."
        )
    else:
        return error
    refused = ToolsNotSupported(
        message,
        hint=hint,
        provider=error.provider,
        base_url=error.base_url,
        model=error.model,
        status=error.status,
        partial=error.partial,
    )
    refused.__cause__ = error
    return refused
