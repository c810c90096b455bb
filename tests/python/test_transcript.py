"""Messages as Markdown, static HTML and versioned JSON."""

from __future__ import annotations

import json
import pathlib

import pytest

from nbchat import transcript
from nbchat.errors import InvalidRequest
from nbchat.messages import SCHEMA_VERSION, Message

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
MATH = r"Euler: $e^{i\pi} + 1 = 0$ and \(a^2\)." + "\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n\\[\\sum n\\]"
CODE = "```python\nprint('<b>hi</b>')\n```"

MESSAGES: list[Message] = [
    {"id": "u1", "role": "user", "content": "Show me math & code", "parent": None},
    {
        "id": "a1",
        "role": "assistant",
        "content": f"{MATH}\n\n{CODE}\n\nIt costs $5 and $10.",
        "parent": "u1",
        "reasoning": "Think about *it*.",
        "meta": {
            "model": "ollama:llama3.2:1b",
            "provider": "Ollama",
            "tokens": 42,
            "tokens_per_s": 31.25,
            "elapsed_s": 1.5,
            "ttft_s": 0.2,
            "finish_reason": "stop",
            "stopped": False,
        },
    },
    {"id": "u2", "role": "user", "content": "More", "parent": "a1"},
    {
        "id": "a2",
        "role": "assistant",
        "content": "Partial <script>alert(1)</script>\n```js\nlet x =",
        "parent": "u2",
        "meta": {
            "model": "openai:gpt_4o",
            "tokens": 5,
            "finish_reason": None,
            "stopped": False,
            "error": "Connection lost <mid-stream>.",
            "hint": "Continue the reply.",
        },
    },
]


# -- Markdown ---------------------------------------------------------------------------


def test_markdown_has_role_headings_and_a_meta_line() -> None:
    text = transcript.to_markdown(MESSAGES, system="Be brief.", title="Talk")
    assert text.startswith("# Talk\n\n### System\n\nBe brief.\n\n### User\n\nShow me math & code")
    assert "### Assistant\n\n*ollama:llama3.2:1b · 42 tokens · 31.2 tokens/s*\n\n" in text
    assert text.endswith("\n")


def test_markdown_keeps_math_and_code_verbatim() -> None:
    text = transcript.to_markdown(MESSAGES)
    assert MATH in text
    assert CODE in text
    assert "It costs $5 and $10." in text


def test_markdown_shows_reasoning_collapsed_and_errors_quoted() -> None:
    text = transcript.to_markdown(MESSAGES)
    assert "<details><summary>Reasoning</summary>\n\nThink about *it*.\n\n</details>" in text
    assert (
        "> **Error:** Connection lost \\<mid-stream\\>. — Continue the reply." in text
    )  # a quoted line; Markdown specials in the message are escaped
    assert "*openai:gpt\\_4o · 5 tokens*" in text  # "_" would start emphasis


def test_markdown_closes_a_fence_left_open_by_a_stopped_reply() -> None:
    text = transcript.to_markdown(MESSAGES)
    assert "```js\nlet x =\n```\n\n> **Error:**" in text
    stopped: list[Message] = [
        {"id": "a", "role": "assistant", "content": "~~~~\ncode", "meta": {"stopped": True}}
    ]
    assert transcript.to_markdown(stopped) == "### Assistant\n\n*stopped*\n\n~~~~\ncode\n~~~~\n"


def test_meta_line_says_cut_off_and_stopped() -> None:
    assert transcript.meta_line({"model": "demo", "finish_reason": "length"}) == (
        "demo · cut off (length)"
    )
    assert transcript.meta_line({"tokens": 3, "stopped": True}) == "3 tokens · stopped"
    assert transcript.meta_line({}) == ""


# -- HTML -------------------------------------------------------------------------------


def test_html_is_escaped_and_has_no_script() -> None:
    html = transcript.to_html(MESSAGES, system="S <i>")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "S &lt;i&gt;" in html
    assert html.startswith('<div class="nbchat-transcript"')
    assert html.endswith("</div>")


def test_html_keeps_math_as_tex_and_code_in_pre_blocks() -> None:
    html = transcript.to_html(MESSAGES)
    assert r"$e^{i\pi} + 1 = 0$" in html
    assert "$$\n\\int_0^1 x\\,dx\n$$" in html
    assert (
        '<pre><code class="language-python">print(&#x27;&lt;b&gt;hi&lt;/b&gt;&#x27;)</code></pre>'
        in html
    )
    assert '<pre><code class="language-js">let x =</code></pre>' in html  # unclosed fence
    assert "<blockquote><strong>Error:</strong> Connection lost &lt;mid-stream&gt;." in html
    assert "<details><summary>Reasoning</summary>" in html
    assert "ollama:llama3.2:1b · 42 tokens · 31.2 tokens/s" in html


# -- JSON -------------------------------------------------------------------------------


def test_json_round_trip_is_lossless() -> None:
    text = transcript.dumps(
        MESSAGES,
        model="ollama:llama3.2:1b",
        system="Be brief.",
        options={"temperature": 0.2, "stop": ["\n\n"]},
        base_url="http://user:pass@localhost:11434",
    )
    data = json.loads(text)
    assert (data["format"], data["version"]) == ("nbchat.transcript", 3)
    assert (transcript.VERSION, SCHEMA_VERSION) == (3, 2)
    assert [m["parent"] for m in data["messages"]] == [None, "u1", "a1", "u2"]
    assert data["base_url"] == "http://localhost:11434"  # no credentials saved
    assert "api_key" not in data
    loaded = transcript.loads(text)
    assert loaded.messages == MESSAGES
    assert loaded.model == "ollama:llama3.2:1b"
    assert loaded.system == "Be brief."
    assert loaded.options == {"temperature": 0.2, "stop": ["\n\n"]}
    assert (
        transcript.dumps(
            loaded.messages,
            model=loaded.model,
            system=loaded.system,
            options=loaded.options,
            base_url=loaded.base_url,
        )
        == text
    )


def test_a_version_1_file_reads_as_one_branch() -> None:
    # Written by nbchat before schema 2 (a demo conversation saved with Conversation.save).
    text = (FIXTURES / "transcript-v1.json").read_text(encoding="utf-8")
    assert json.loads(text)["version"] == 1
    loaded = transcript.loads(text)
    ids = [m["id"] for m in loaded.messages]
    assert [m["parent"] for m in loaded.messages] == [None, *ids[:-1]]
    assert [m["role"] for m in loaded.messages] == ["user", "assistant", "user", "assistant"]
    assert loaded.messages[-1]["meta"]["error"] == "The server went away."
    assert (loaded.model, loaded.system, loaded.options) == (
        "demo:script-1",
        "Be brief.",
        {"temperature": 0.2},
    )
    # Saved again, it is a version-3 file with the same messages and their parents.
    again = json.loads(transcript.dumps(loaded.messages, model=loaded.model))
    assert again["version"] == 3
    assert again["messages"] == loaded.messages


def test_a_version_2_message_without_a_parent_follows_the_one_before() -> None:
    data = {
        "format": "nbchat.transcript",
        "version": 2,
        "messages": [
            {"id": "u1", "role": "user", "content": "a", "parent": None},
            {"id": "a1", "role": "assistant", "content": "b"},
            {"id": "u2", "role": "user", "content": "c", "parent": "a1"},
        ],
    }
    loaded = transcript.loads(json.dumps(data))
    assert [m["parent"] for m in loaded.messages] == [None, "u1", "a1"]


def test_parts_of_known_types_are_kept() -> None:
    parts = [
        {"type": "reasoning", "text": "hm"},
        {"type": "tool_call", "id": "c1", "name": "add", "arguments": '{"a": 1}'},
        {"type": "text", "text": "Done."},
    ]
    message: Message = {"id": "a", "role": "assistant", "content": "Done.", "parts": parts}  # type: ignore[typeddict-item]
    loaded = transcript.loads(transcript.dumps([message]))
    assert loaded.messages[0]["parts"] == parts


def test_json_keeps_unicode_readable() -> None:
    text = transcript.dumps([{"id": "1", "role": "user", "content": "café 中文 🎉"}])
    assert "café 中文 🎉" in text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "invalid JSON"),
        ("[]", "Not an nbchat transcript"),
        ('{"format": "other"}', "Not an nbchat transcript"),
        ('{"format": "nbchat.transcript", "version": 99, "messages": []}', "version 99"),
        ('{"format": "nbchat.transcript", "version": 1}', "messages"),
        (
            '{"format": "nbchat.transcript", "version": 1, "messages": [{"id": "1"}]}',
            "messages\\[0\\]",
        ),
        (
            '{"format": "nbchat.transcript", "version": 1,'
            ' "messages": [{"id": "1", "role": "tool", "content": ""}]}',
            "role",
        ),
        (
            '{"format": "nbchat.transcript", "version": 2,'
            ' "messages": [{"id": "1", "role": "user", "content": "", "parent": 7}]}',
            "messages\\[0\\] has a 'parent' that is not a message id",
        ),
        (
            '{"format": "nbchat.transcript", "version": 2,'
            ' "messages": [{"id": "1", "role": "user", "content": "", "parts": {}}]}',
            "messages\\[0\\] has 'parts' that is not a list",
        ),
        (
            '{"format": "nbchat.transcript", "version": 2, "messages":'
            ' [{"id": "1", "role": "user", "content": "", "parts": [{"type": "video"}]}]}',
            "messages\\[0\\].parts\\[0\\] has type 'video'",
        ),
        (
            '{"format": "nbchat.transcript", "version": 2, "messages":'
            ' [{"id": "1", "role": "user", "content": "", "parts": [{"type": "text"}]}]}',
            "\\('text'\\) needs str 'text'",
        ),
        ('{"format": "nbchat.transcript", "version": 4, "messages": []}', "version 4"),
    ],
)
def test_loading_something_else_is_a_clear_error(text: str, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        transcript.loads(text)


IMAGE = {"type": "image", "id": "0123456789abcdef", "mime": "image/png", "width": 4, "height": 3}


@pytest.mark.parametrize(
    ("changed", "words"),
    [
        # A mime reaches the static transcript, which JupyterLab renders as trusted Markdown.
        ({"mime": "image/<img src=x onerror=alert(1)>"}, "an image of type"),
        ({"mime": "image/svg+xml"}, "an image of type"),
        # An id names the image's file beside a saved conversation.
        ({"id": "../../etc/passwd"}, "not 16 hex digits"),
        ({"id": "/home/u/secret"}, "not 16 hex digits"),
        ({"width": -1}, "negative size"),
        ({"thumbnail": "https://example.com/x.png"}, "thumbnail that is not"),
        ({"thumbnail": "data:image/svg+xml;base64,PHN2Zz4="}, "thumbnail that is not"),
    ],
)
def test_a_hostile_image_part_in_a_file_is_refused(changed: dict[str, object], words: str) -> None:
    part = {**IMAGE, **changed}
    message = {"id": "1", "role": "user", "content": "", "parts": [part]}
    text = json.dumps({"format": "nbchat.transcript", "version": 3, "messages": [message]})
    with pytest.raises(InvalidRequest, match=words):
        transcript.loads(text)


def test_an_image_part_as_nbchat_writes_it_loads() -> None:
    part = {**IMAGE, "thumbnail": "data:image/png;base64,iVBORw0KGgo="}
    message = {"id": "1", "role": "user", "content": "", "parts": [part]}
    text = json.dumps({"format": "nbchat.transcript", "version": 3, "messages": [message]})
    assert transcript.loads(text).messages[0]["parts"] == [part]


def test_options_that_are_not_json_are_a_clear_error() -> None:
    with pytest.raises(InvalidRequest, match="JSON"):
        transcript.dumps([], options={"stop": object()})
