"""Messages ↔ documents: Markdown and HTML exports, and the JSON save format.

- :func:`to_markdown` reads well on GitHub: a heading per role, a ``model · tokens`` line
  under each reply, content verbatim (math and code intact), errors as a quoted line.
  ``inert=True`` (for notebook outputs, which JupyterLab renders *trusted*) passes the text
  through :func:`inert_markdown` so that model output cannot become live HTML there.
- :func:`to_html` is the static fallback for places without the widget's JavaScript
  (nbviewer, nbconvert, GitHub): everything escaped, no script, math left as TeX source.
- An image shows as a placeholder line naming its size and format (``[image: 1024x768
  PNG]``, with a multiplication sign; the brackets escaped, so that no link definition in
  a reply can turn it into a link); with ``thumbnails=True`` (exports) its thumbnail is
  embedded as a ``data:`` URL. Nothing ever points at a remote image.
- A reply that called tools shows each call compactly where it happened, one line:
  name, arguments, how it ended and the start of its result (:func:`tool_line`); the
  JSON keeps everything (arguments, results, tracebacks).
- :func:`dumps` / :func:`loads` are the JSON format, versioned, lossless for messages,
  system prompt, model, base URL and options. It has no field for a key.

  Versions: 1 (nbchat 0.1: one list, no ``parent``) reads as one branch, each message's
  parent the one before it; 2 added the message schema's ``parent`` and ``parts``
  (:data:`nbchat.messages.SCHEMA_VERSION`); 3 holds a whole tree: every message of every
  branch in the order they were made, ``leaf`` (the last message on screen) and
  ``active`` (which child each fork shows), plus what an autosaved file's journal needs
  (``journal``: see :mod:`nbchat.session.autosave`). A version-2 file reads as a tree
  whose visible branch ends at its last message.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import typing
from collections.abc import Iterable, Mapping, Sequence

from .errors import InvalidRequest, redact_userinfo
from .messages import (
    SCHEMA_VERSION,
    ImagePart,
    Message,
    MessageMeta,
    Part,
    ToolCallPart,
    ToolResultPart,
    check_parent,
    check_parts,
    linked,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "Transcript",
    "count",
    "dumps",
    "image_label",
    "inert_markdown",
    "loads",
    "meta_line",
    "to_html",
    "to_markdown",
    "tool_line",
]

FORMAT = "nbchat.transcript"
#: The version written: the message schema's fields (:data:`SCHEMA_VERSION`) in a tree.
VERSION = 3
assert SCHEMA_VERSION <= VERSION

_ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


# ---------------------------------------------------------------------------------------
# JSON


@dataclasses.dataclass
class Transcript:
    """What a saved conversation holds."""

    messages: list[Message]
    model: str | None = None
    system: str | None = None
    options: dict[str, object] = dataclasses.field(default_factory=dict)
    base_url: str | None = None
    leaf: str | None = None  # the last message on screen (None: the last message)
    active: dict[str, str] = dataclasses.field(default_factory=dict)  # fork -> child shown
    extra: dict[str, object] = dataclasses.field(default_factory=dict)  # e.g. "journal"


def dumps(
    messages: Sequence[Message],
    *,
    model: str | None = None,
    system: str | None = None,
    options: Mapping[str, object] | None = None,
    base_url: str | None = None,
    leaf: str | None = None,
    active: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
    indent: int | None = 1,
) -> str:
    """The JSON text of a conversation (there is no field for a key).

    ``messages`` in the order they were made (each after its parent); ``leaf`` and
    ``active`` say which branch is on screen; ``extra`` adds top-level fields.
    """
    data: dict[str, object] = {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "base_url": _public_url(base_url),
        "system": system,
        "options": dict(options or {}),
        "leaf": leaf,
        "active": dict(active or {}),
        **(extra or {}),
        "messages": list(messages),
    }
    try:
        return json.dumps(data, ensure_ascii=False, indent=indent)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"The conversation cannot be saved as JSON: {exc}.",
            hint="Options must be JSON values (numbers, strings, lists).",
        ) from None


def loads(text: str | bytes) -> Transcript:
    """Read JSON written by :func:`dumps`; raises :class:`InvalidRequest` if it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(
            f"Not an nbchat transcript: invalid JSON ({exc}).", hint="Load a file saved by nbchat."
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidRequest(
            "Not an nbchat transcript (no 'format': 'nbchat.transcript').",
            hint="Load a file saved by nbchat.",
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidRequest(f"Transcript version {version!r} is not valid.")
    if version > VERSION:
        raise InvalidRequest(
            f"This transcript is version {version}; this nbchat reads up to {VERSION}.",
            hint="Upgrade: pip install -U jupyter-nbchat.",
        )
    raw = data.get("messages")
    if not isinstance(raw, list):
        raise InvalidRequest("The transcript has no 'messages' list.")
    messages = linked([_check_message(i, m) for i, m in enumerate(raw)], keep_given=True)
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("The transcript's 'options' is not an object.")
    active = data.get("active") or {}
    if not isinstance(active, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in active.items()
    ):
        raise InvalidRequest("The transcript's 'active' is not an object of message ids.")
    known = {"format", "version", "model", "base_url", "system", "options", "leaf", "active"}
    return Transcript(
        messages=messages,
        model=_optional_str(data, "model"),
        system=_optional_str(data, "system"),
        options=options,
        base_url=_optional_str(data, "base_url"),
        leaf=_optional_str(data, "leaf"),
        active=active,
        extra={k: v for k, v in data.items() if k not in known and k != "messages"},
    )


def _optional_str(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"The transcript's {key!r} is not a string.")
    return value


def _check_message(index: int, value: object) -> Message:
    where = f"messages[{index}]"
    if not isinstance(value, dict):
        raise InvalidRequest(f"Transcript {where} is not an object.")
    if not isinstance(value.get("id"), str) or not isinstance(value.get("content"), str):
        raise InvalidRequest(f"Transcript {where} needs string 'id' and 'content'.")
    if value.get("role") not in _ROLE_TITLES:
        raise InvalidRequest(f"Transcript {where} has role {value.get('role')!r}.")
    if "meta" in value and not isinstance(value["meta"], dict):
        raise InvalidRequest(f"Transcript {where} has a 'meta' that is not an object.")
    check_parent(f"Transcript {where}", value.get("parent"))
    if "parts" in value:
        check_parts(f"Transcript {where}", value["parts"])
    return typing.cast(Message, value)


def _public_url(url: str | None) -> str | None:
    """The URL without user:password (a credential must not be saved)."""
    if not url:
        return None
    return redact_userinfo(url, mask="")


# ---------------------------------------------------------------------------------------
# Markdown


def to_markdown(
    messages: Iterable[Message],
    *,
    system: str | None = None,
    title: str | None = None,
    inert: bool = False,
    thumbnails: bool = False,
) -> str:
    """A Markdown transcript: role headings, a model · tokens line, content verbatim.

    ``inert=True`` writes the texts through :func:`inert_markdown` (for notebook outputs).
    Images are placeholder lines, or with ``thumbnails`` their embedded thumbnails.
    """

    def body(text: str) -> str:
        closed = _close_fences(text)
        return inert_markdown(closed) if inert else closed

    blocks: list[str] = []
    if title:
        blocks.append(f"# {inert_markdown(title) if inert else title}")
    if system:
        blocks.append(f"### System\n\n{body(system)}")
    for message in messages:
        role = message.get("role", "user")
        parts = [f"### {_ROLE_TITLES.get(role, role.title())}"]
        meta = message.get("meta") or {}
        line = meta_line(meta) if role == "assistant" else ""
        if line:
            parts.append(f"*{_escape_markdown(line)}*")
        reasoning = message.get("reasoning")
        if reasoning:
            parts.append(
                f"<details><summary>Reasoning</summary>\n\n{body(reasoning)}\n\n</details>"
            )
        tool_parts = _with_tools(message)
        if tool_parts is not None:
            for kind, value in tool_parts:
                if kind == "text":
                    parts.append(body(value))
                else:
                    line = "> 🔧 " + _code_span(value)
                    parts.append(inert_markdown(line) if inert else line)
        elif message["content"]:
            parts.append(body(message["content"]))
        for image in _images(message):
            label = image_label(image)
            shown = _thumbnail(image) if thumbnails else None
            parts.append(f"![{label}]({shown})" if shown else f"\\[{label}\\]")
        error = meta.get("error")
        if error:
            hint = meta.get("hint")
            quoted = f"**Error:** {error}" + (f" — {hint}" if hint else "")
            parts.append("> " + _escape_markdown(quoted, keep_bold=True).replace("\n", " "))
        blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks) + "\n"


def image_label(part: ImagePart) -> str:
    """``"image: 1024x768 PNG"`` (a multiplication sign): an image as a transcript names it."""
    kind = str(part["mime"]).rpartition("/")[2].upper() or "?"
    return f"image: {part['width']}×{part['height']} {kind}"


# Only a thumbnail nbchat could have made is embedded: a file's could say anything.
_THUMBNAIL = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}")


def _thumbnail(part: ImagePart) -> str | None:
    url = part.get("thumbnail")
    return url if isinstance(url, str) and _THUMBNAIL.fullmatch(url) else None


def _images(message: Message) -> list[ImagePart]:
    return [p for p in message.get("parts") or () if p["type"] == "image"]


_SUMMARY = 160  # characters of arguments and of a result in a transcript's tool line


def tool_line(call: ToolCallPart, result: ToolResultPart | None) -> str:
    """``weather({"city": "Paris"}) → done in 0.3 s: {"temp": 21}``, on one line."""
    arguments = _clip(call["arguments"] or "{}")
    head = f"{call['name']}({arguments})"
    if result is None:
        return f"{head} → not run"
    status = str(result.get("status") or "done")
    elapsed = result.get("elapsed_s")
    if isinstance(elapsed, int | float) and status in ("done", "failed"):
        status += f" in {elapsed:.1f} s"
    return f"{head} → {status}: {_clip(result['content'])}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY else text[: _SUMMARY - 1] + "…"


def _with_tools(message: Message) -> list[tuple[str, str]] | None:
    """A reply's body in order as ("text", text) and ("tool", tool line), if it called
    tools; else ``None``."""
    parts: list[Part] = message.get("parts") or []
    if not any(p["type"] == "tool_call" for p in parts):
        return None
    results = {p["call_id"]: p for p in parts if p["type"] == "tool_result"}
    out: list[tuple[str, str]] = []
    for part in parts:
        if part["type"] == "text" and part["text"]:
            out.append(("text", part["text"]))
        elif part["type"] == "tool_call":
            out.append(("tool", tool_line(part, results.get(part["id"]))))
    return out


def _code_span(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def meta_line(meta: MessageMeta) -> str:
    """``ollama:llama3.2 · 123 tokens · 45.6 tokens/s · stopped`` for a reply's meta."""
    parts: list[str] = []
    if meta.get("model"):
        parts.append(str(meta["model"]))
    if isinstance(meta.get("tokens"), int):
        parts.append(f"{meta['tokens']} tokens")
    rate = meta.get("tokens_per_s")
    if isinstance(rate, (int, float)):
        parts.append(f"{rate:.1f} tokens/s")
    if meta.get("stopped"):
        parts.append("stopped")
    elif meta.get("finish_reason") == "length":
        parts.append("cut off (length)")
    return " · ".join(parts)


def count(n: int, noun: str) -> str:
    """``1 message``, ``2 messages``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _escape_markdown(text: str, *, keep_bold: bool = False) -> str:
    out = re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)
    if keep_bold:
        out = out.replace(r"\*\*Error:\*\*", "**Error:**", 1)
    return out


# ---------------------------------------------------------------------------------------
# Inert Markdown
#
# JupyterLab renders the Markdown of a notebook output *trusted*: raw HTML in it is not
# sanitized (an ``<img onerror>`` runs, ids clobber ``document`` globals), ``javascript:``
# links work and images load from anywhere; nbconvert's HTML keeps raw HTML too. The widget
# never renders a model's HTML (markdown-it with ``html: false``, then DOMPurify), so the
# static transcript must not either. Parsing Markdown here the way every renderer does is
# not possible (they disagree about fences, math and containers), so this works the other
# way round: every place where HTML, a character reference, an image or a dangerous URL
# scheme could start gets a zero-width space that no renderer reads through, except inside
# fenced code blocks that every renderer must see as code (kept verbatim, so copied code
# stays exact). A fence whose place is in any doubt gets no such exception.

_ZWSP = "\u200b"
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # a tag, a comment, a declaration, an autolink
_REFERENCE_START = re.compile(r"&(?=#|[A-Za-z][A-Za-z0-9]*;)")  # &#106; &lt; &amp;
_IMAGE_START = re.compile(r"!(?=\[)")
_UNSAFE_SCHEME = re.compile(r"(?i)\b(?:javascript|vbscript|data|file)(?=:\S)")
_COLUMN0_FENCE = re.compile(r"(?:(`{3,})[^`]*|(~{3,}).*)$")
_ANY_FENCE = re.compile(r"[ \t>*+\-\d.)]*(?:`{3,}|~{3,})")
# Block math (nbconvert reads it before fences) and link definitions (whose titles span
# lines) can swallow a fence line; after one, no fence is certain.
_SWALLOWS_FENCES = re.compile(r"\$\$|\\\[|\\begin\{|^ {0,3}\[[^\]]*\]:")


def inert_markdown(text: str) -> str:
    """``text`` as Markdown that renders the same but cannot become live HTML anywhere.

    Outside certain code blocks, ``<`` before a tag character, ``&`` before a character
    reference, ``!`` before ``[`` and the colon of ``javascript:``/``vbscript:``/``data:``/
    ``file:`` get a zero-width space after them: the text reads the same, but no renderer
    sees a tag, an entity, an image or a script URL. Math and code stay TeX and code.
    """
    lines = text.split("\n")
    keep = _certain_code(lines)
    return "\n".join(line if i in keep else _defuse(line) for i, line in enumerate(lines))


def _defuse(line: str) -> str:
    line = _TAG_START.sub("<" + _ZWSP, line)
    line = _REFERENCE_START.sub("&" + _ZWSP, line)
    line = _IMAGE_START.sub("!" + _ZWSP, line)
    return _UNSAFE_SCHEME.sub(lambda m: m.group(0) + _ZWSP, line)


def _certain_code(lines: list[str]) -> set[int]:
    """Indices of the lines of fenced code blocks that every renderer reads as code.

    Certain means: opened at column 0 (so no container or indentation can hold it), closed
    by a plain fence (``` ```~ ``` closes in marked but not in CommonMark), and nothing before
    it that could swallow its opening line. At the first doubt, nothing after is certain.
    """
    keep: set[int] = set()
    block: list[int] = []
    opener = ""
    doubtful = False
    for index, line in enumerate(lines):
        if not opener:
            match = _COLUMN0_FENCE.match(line)
            if match and not doubtful:
                opener, block = match.group(1) or match.group(2), [index]
            elif match or _ANY_FENCE.match(line):
                return keep
            elif _SWALLOWS_FENCES.search(line):
                doubtful = True
            continue
        block.append(index)
        stripped = line.lstrip(" ")
        run = len(stripped) - len(stripped.lstrip(opener[0]))
        if len(line) - len(stripped) > 3 or run < len(opener):
            continue  # code (a shorter run closes nothing anywhere)
        if stripped[run:].strip(" \t"):
            return keep  # a fence with something after it: renderers disagree
        keep.update(block)
        opener = ""
    return keep  # a fence left open is not kept: more Markdown may follow it


def _close_fences(text: str) -> str:
    """Close a code fence left open (a stopped reply) so it cannot swallow what follows."""
    opener: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        fence = match.group(1)
        if opener is None:
            opener = fence
        elif (
            fence[0] == opener[0]
            and len(fence) >= len(opener)
            and not line.strip()[len(fence) :].strip()
        ):
            opener = None
    if opener is None:
        return text
    return text + ("" if text.endswith("\n") else "\n") + opener[0] * len(opener)


# ---------------------------------------------------------------------------------------
# HTML


def to_html(
    messages: Iterable[Message],
    *,
    system: str | None = None,
    title: str | None = None,
    thumbnails: bool = False,
) -> str:
    """A static HTML transcript: escaped, no script, math left as TeX source; images as
    placeholders, or with ``thumbnails`` their embedded thumbnails."""
    out = ['<div class="nbchat-transcript" style="font-family: sans-serif; max-width: 52em">']
    if title:
        out.append(f"<h2>{html.escape(title)}</h2>")
    if system:
        out.append("<h3>System</h3>")
        out.append(_html_body(system))
    for message in messages:
        role = message.get("role", "user")
        out.append(f"<h3>{html.escape(_ROLE_TITLES.get(role, role.title()))}</h3>")
        meta = message.get("meta") or {}
        line = meta_line(meta) if role == "assistant" else ""
        if line:
            out.append(f"<p><small><em>{html.escape(line)}</em></small></p>")
        reasoning = message.get("reasoning")
        if reasoning:
            out.append(f"<details><summary>Reasoning</summary>{_html_body(reasoning)}</details>")
        tool_parts = _with_tools(message)
        if tool_parts is not None:
            for kind, value in tool_parts:
                if kind == "text":
                    out.append(_html_body(value))
                else:
                    out.append(f'<p class="nbchat-tool">🔧 <code>{html.escape(value)}</code></p>')
        elif message["content"]:
            out.append(_html_body(message["content"]))
        for image in _images(message):
            label = html.escape(image_label(image))
            shown = _thumbnail(image) if thumbnails else None
            out.append(
                f'<p><img src="{shown}" alt="{label}" title="{label}"></p>'
                if shown
                else f"<p>[{label}]</p>"
            )
        if meta.get("error"):
            hint = meta.get("hint")
            text = html.escape(str(meta["error"])) + (f" — {html.escape(hint)}" if hint else "")
            out.append(f"<blockquote><strong>Error:</strong> {text}</blockquote>")
    out.append("</div>")
    return "\n".join(out)


def _html_body(text: str) -> str:
    """Fenced code as ``<pre><code>``, the rest as pre-wrapped paragraphs (all escaped)."""
    out: list[str] = []
    prose: list[str] = []
    code: list[str] = []
    opener: str | None = None
    language = ""

    def flush_prose() -> None:
        joined = "\n".join(prose).strip("\n")
        prose.clear()
        for paragraph in re.split(r"\n{2,}", joined):
            if paragraph.strip():
                out.append(f'<p style="white-space: pre-wrap">{html.escape(paragraph)}</p>')

    for line in text.split("\n"):
        match = _FENCE.match(line)
        if opener is None and match:
            flush_prose()
            opener = match.group(1)
            language = line.strip()[len(opener) :].strip().split(" ")[0]
        elif opener is not None and match and match.group(1)[0] == opener[0]:
            out.append(_html_code(code, language))
            code.clear()
            opener = None
        elif opener is not None:
            code.append(line)
        else:
            prose.append(line)
    if opener is not None:
        out.append(_html_code(code, language))
    flush_prose()
    return "\n".join(out)


def _html_code(lines: list[str], language: str) -> str:
    cls = f' class="language-{html.escape(language)}"' if language else ""
    return f"<pre><code{cls}>{html.escape(chr(10).join(lines))}</code></pre>"
