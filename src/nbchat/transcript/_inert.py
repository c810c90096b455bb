"""Inert Markdown: text that renders the same but cannot become live HTML anywhere.

JupyterLab renders the Markdown of a notebook output *trusted*: raw HTML in it is not
sanitized (an ``<img onerror>`` runs, ids clobber ``document`` globals), ``javascript:``
links work and images load from anywhere; nbconvert's HTML keeps raw HTML too. The widget
never renders a model's HTML (markdown-it with ``html: false``, then DOMPurify), so the
static transcript must not either. Parsing Markdown here the way every renderer does is
not possible (they disagree about fences, math and containers), so this works the other
way round: every place where HTML, a character reference, an image or a dangerous URL
scheme could start gets a zero-width space that no renderer reads through, except inside
fenced code blocks that every renderer must see as code (kept verbatim, so copied code
stays exact). A fence whose place is in any doubt gets no such exception.
"""

from __future__ import annotations

import re

__all__ = ["inert_markdown"]

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
