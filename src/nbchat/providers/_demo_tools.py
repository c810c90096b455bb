"""``demo:tools``: an offline model that calls the tools it is given, to show the loop.

It is no model: it calls the tools whose names the prompt mentions (else the first one),
with arguments read from the prompt by their schema (a `backticked` word, a Capitalised
word, a number, an enum value the prompt names), and once the results are back it
repeats them. Enough to try tools, approval and the cards with no server at all.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Sequence

from .base import ChatRequest, Finish, TextDelta, ToolCall, ToolSpec, Usage, WireMessage

__all__ = ["tools_reply"]

_BACKTICKED = re.compile(r"`([^`\n]+)`")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zà-ÿ]+(?:\s[A-Z][a-zà-ÿ]+)*)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def tools_reply(request: ChatRequest, tokenize: typing.Callable[[str], list[str]]) -> list[object]:
    """The items of the demo's reply to ``request``: calls, or text about the results."""
    messages = list(request.messages)
    if not request.tools:
        text = (
            "The *demo:tools* model calls the functions a chat offers "
            "(`nbchat.Chat('demo:tools', tools=[…])`); this one offers none."
        )
        return _text(text, tokenize)
    if messages and messages[-1]["role"] == "tool":
        return _text(_summary(messages), tokenize)
    prompt = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    chosen = [t for t in request.tools if re.search(rf"\b{re.escape(t['name'])}\b", prompt)]
    chosen = chosen or list(request.tools[:1])
    names = ", ".join(f"`{t['name']}`" for t in chosen)
    items: list[object] = [TextDelta(t) for t in tokenize(f"Let me ask {names}.\n\n")]
    for index, tool in enumerate(chosen):
        arguments = json.dumps(_arguments(tool, prompt), ensure_ascii=False)
        items.append(ToolCall(index=index, name=tool["name"], arguments=arguments, id=None))
    items += [Usage(completion_tokens=len(items)), Finish("tool_calls")]
    return items


def _text(text: str, tokenize: typing.Callable[[str], list[str]]) -> list[object]:
    pieces: list[object] = [TextDelta(t) for t in tokenize(text)]
    return [*pieces, Usage(completion_tokens=len(pieces)), Finish("stop")]


def _summary(messages: Sequence[WireMessage]) -> str:
    results: list[WireMessage] = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.insert(0, message)
    lines = []
    for result in results:
        content = " ".join(result["content"].split())
        if len(content) > 300:
            content = content[:299] + "…"
        lines.append(f"- **{result.get('tool_name', 'tool')}** answered: `{content}`")
    return (
        "Here is what the tools said:\n\n"
        + "\n".join(lines)
        + "\n\n*(The offline demo model repeats tool results; a real model would use them.)*"
    )


def _arguments(tool: ToolSpec, prompt: str) -> dict[str, typing.Any]:
    properties: dict[str, typing.Any] = tool["parameters"].get("properties", {})
    required = set(tool["parameters"].get("required", []))
    out: dict[str, typing.Any] = {}
    for name, schema in properties.items():
        if name not in required:
            continue
        out[name] = _value(schema, prompt, tool["name"])
    return out


def _value(schema: dict[str, typing.Any], prompt: str, tool: str) -> object:
    if "enum" in schema:
        for choice in schema["enum"]:
            if isinstance(choice, str) and re.search(rf"\b{re.escape(choice)}\b", prompt):
                return choice
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        found = _NUMBER.search(prompt)
        value = float(found.group()) if found else 1
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    backticked = _BACKTICKED.search(prompt)
    if backticked:
        return backticked.group(1)
    words = [w for w in _CAPITALISED.findall(prompt) if w != tool]
    if words:
        return words[-1]
    plain = re.findall(r"[\w-]+", prompt)
    return plain[-1] if plain else ""
