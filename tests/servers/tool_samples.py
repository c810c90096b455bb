"""Tool calling on the wire, as each server's own documentation shows it: the samples the
emulators follow and the tests hold nbchat's requests to.

Sources (read 2026-11 through the project's code index; see protocols.md for the rest):

- Ollama ``/api/chat``: ``docs/capabilities/tool-calling.mdx`` (ollama/ollama) — the
  request's ``tools``; the follow-up request with the assistant message's ``tool_calls``
  (``{"type": "function", "function": {"index", "name", "arguments": {object}}}``) and one
  ``{"role": "tool", "tool_name", "content"}`` per result, in call order. The streamed
  call is ``api/types.go``'s ``ToolCall`` (``{"id", "function": {"index", "name",
  "arguments"}}``, whole in one line, ids since v0.12.10), as research/protocols.md §1.5
  and §3.2 record it. A model without the ``tools`` capability: 400 ``{"error":
  "registry.ollama.ai/library/<model> does not support tools"}`` (server ``CheckCapabilities``).
- OpenAI Chat Completions: openai-python ``types/chat/chat_completion_chunk.py``
  (``delta.tool_calls[i]``: ``index``, then ``id``/``type``/``function.name`` first and
  ``function.arguments`` as text fragments; ``finish_reason: "tool_calls"``),
  ``chat_completion_assistant_message_param.py`` (``content`` may be null when
  ``tool_calls`` is given; each call ``{"id", "type": "function", "function": {"name",
  "arguments": str}}``) and ``chat_completion_tool_message_param.py`` (``{"role":
  "tool", "content", "tool_call_id"}``). The streamed sample is protocols.md §3.7 (a
  recorded OpenAI stream).
- A refusal of ``tools`` by an OpenAI-compatible server varies; vLLM's (without
  ``--enable-auto-tool-choice``) is the one quoted in its issues, the generic one is
  illustrative (``param: "tools"``).
"""

from __future__ import annotations

import typing

__all__ = [
    "OLLAMA_FOLLOW_UP",
    "OLLAMA_STREAMED_CALL",
    "OPENAI_FOLLOW_UP",
    "OPENAI_STREAMED_CALL",
    "TOOL_DEFINITION",
]

Json = dict[str, typing.Any]

#: The ``tools`` field, the same in both protocols.
TOOL_DEFINITION: Json = {
    "type": "function",
    "function": {
        "name": "get_temperature",
        "description": "Get the current temperature for a city",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string", "description": "The name of the city"}},
        },
    },
}

#: Ollama streams a call whole, in one NDJSON line (then a ``done`` line).
OLLAMA_STREAMED_CALL = (
    '{"model":"qwen3","created_at":"2026-08-21T18:00:00.3Z","message":{"role":"assistant",'
    '"content":"","tool_calls":[{"id":"call_cy3xwkra","function":{"index":0,'
    '"name":"get_temperature","arguments":{"city":"New York"}}}]},"done":false}\n'
)

#: The follow-up request's messages (docs/capabilities/tool-calling.mdx, "single tool").
OLLAMA_FOLLOW_UP: list[Json] = [
    {"role": "user", "content": "What is the temperature in New York?"},
    {
        "role": "assistant",
        "tool_calls": [
            {
                "type": "function",
                "function": {
                    "index": 0,
                    "name": "get_temperature",
                    "arguments": {"city": "New York"},
                },
            }
        ],
    },
    {"role": "tool", "tool_name": "get_temperature", "content": "22°C"},
]

#: OpenAI's first two events of a call: the head (id, name, empty arguments), then a
#: fragment of the arguments' text; the finish chunk says ``"tool_calls"``.
OPENAI_STREAMED_CALL = (
    'data: {"id":"chatcmpl-BIqITiyCGCjDeajdE8K0NWx18VRsO","object":"chat.completion.chunk",'
    '"created":1743830633,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":'
    '"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Qib2xfCV1qpazcvBOLg3wCNL",'
    '"type":"function","function":{"name":"print","arguments":""}}],"refusal":null},'
    '"logprobs":null,"finish_reason":null}]}\n\n'
    'data: {"id":"chatcmpl-BIqITiyCGCjDeajdE8K0NWx18VRsO","object":"chat.completion.chunk",'
    '"created":1743830633,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":'
    '{"tool_calls":[{"index":0,"function":{"arguments":"{\\""}}]},"logprobs":null,'
    '"finish_reason":null}]}\n\n'
)

#: The follow-up request's messages in OpenAI's shape. OpenAI's guide writes the assistant
#: message with ``"content": null``; nbchat sends ``""``, which OpenAI takes too and
#: llama-cpp-python's server needs (see nbchat.providers._tool_wire).
OPENAI_FOLLOW_UP: list[Json] = [
    {"role": "user", "content": "What is the temperature in New York?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_Qib2xfCV1qpazcvBOLg3wCNL",
                "type": "function",
                "function": {"name": "get_temperature", "arguments": '{"city": "New York"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_Qib2xfCV1qpazcvBOLg3wCNL", "content": "22°C"},
]
