"""Messages as Markdown, static HTML and versioned JSON."""

from __future__ import annotations

import json

import pytest

from nbchat import transcript
from nbchat.errors import InvalidRequest
from nbchat.messages import Message

MATH = r"Euler: $e^{i\pi} + 1 = 0$ and \(a^2\)." + "\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n\\[\\sum n\\]"
CODE = "```python\nprint('<b>hi</b>')\n```"

MESSAGES: list[Message] = [
    {"id": "u1", "role": "user", "content": "Show me math & code"},
    {
        "id": "a1",
        "role": "assistant",
        "content": f"{MATH}\n\n{CODE}\n\nIt costs $5 and $10.",
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
    {"id": "u2", "role": "user", "content": "More"},
    {
        "id": "a2",
        "role": "assistant",
        "content": "Partial <script>alert(1)</script>\n```js\nlet x =",
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
    assert (data["format"], data["version"]) == ("nbchat.transcript", 1)
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
    ],
)
def test_loading_something_else_is_a_clear_error(text: str, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        transcript.loads(text)


def test_options_that_are_not_json_are_a_clear_error() -> None:
    with pytest.raises(InvalidRequest, match="JSON"):
        transcript.dumps([], options={"stop": object()})
