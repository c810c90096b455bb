"""A function's docstring → its summary and one description per parameter.

Reads the three styles people write: Google (``Args:`` / ``Arguments:`` / ``Parameters:``
with ``name (type): text``), NumPy (``Parameters`` underlined with dashes, ``name : type``
then indented text) and Sphinx (``:param name: text``). The summary is what comes before
the first section; sections after the parameters (``Returns``, ``Raises``…) are left out,
since the model needs what a tool does and what to pass, not what it returns.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

__all__ = ["Docstring", "parse_docstring"]


@dataclasses.dataclass(frozen=True)
class Docstring:
    summary: str
    params: dict[str, str]


_GOOGLE_PARAMS = re.compile(
    r"^(args|arguments|parameters|params|keyword args|kwargs|attributes):\s*$", re.I
)
_GOOGLE_SECTION = re.compile(
    r"^(returns?|yields?|raises?|examples?|notes?|see also|warnings?|todo|"
    r"references?|other parameters)\s*:\s*$",
    re.I,
)
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)\s*(\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)\s*(:.*)?$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\*{0,2}[A-Za-z_]\w*)\s*:\s*(.*)$")
_SPHINX_FIELD = re.compile(r"^:(\w+)")


def parse_docstring(doc: str | None) -> Docstring:
    """The summary and parameter descriptions of ``doc`` (cleaned of its indentation)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if _NUMPY_UNDERLINE.match(nxt) and stripped:
            title = stripped.lower()
            index = _numpy_section(lines, index + 2, params if title in _NUMPY_PARAMS else None)
            continue
        if _GOOGLE_PARAMS.match(stripped):
            index = _google_section(lines, index + 1, params)
            continue
        if _GOOGLE_SECTION.match(stripped):
            index = _google_section(lines, index + 1, None)
            continue
        if _SPHINX_FIELD.match(stripped):
            index = _sphinx_field(lines, index, params)
            continue
        if not params:  # text after the sections is not the summary
            summary.append(line)
        index += 1
    return Docstring(_paragraphs(summary), params)


_NUMPY_PARAMS = {"parameters", "params", "arguments", "args", "other parameters", "attributes"}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_section(lines: list[str], index: int, params: dict[str, str] | None) -> int:
    """Items indented under a ``Args:`` heading; returns the index after the section."""
    base: int | None = None
    name: str | None = None
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        indent = _indent(line)
        if base is None:
            if indent == 0:
                return index  # an empty section
            base = indent
        if indent < base:
            return index
        if indent == base:
            match = _GOOGLE_ITEM.match(line.strip())
            name = match.group(1).lstrip("*") if match else None
            if params is not None and match and name:
                params[name] = match.group(3).strip()
        elif params is not None and name is not None:  # a continuation line
            params[name] = f"{params[name]} {line.strip()}".strip()
        index += 1
    return index


def _numpy_section(lines: list[str], index: int, params: dict[str, str] | None) -> int:
    """``name : type`` lines at the section's indentation, text indented under each."""
    name: str | None = None
    while index < len(lines):
        line = lines[index]
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and _NUMPY_UNDERLINE.match(nxt):
            return index  # the next section
        if not line.strip():
            index += 1
            continue
        if _indent(line) == 0:
            match = _NUMPY_ITEM.match(line.strip())
            name = match.group(1).lstrip("*") if match else None
            if params is not None and name:
                params.setdefault(name, "")
        elif params is not None and name is not None:
            params[name] = f"{params[name]} {line.strip()}".strip()
        index += 1
    return index


def _sphinx_field(lines: list[str], index: int, params: dict[str, str]) -> int:
    match = _SPHINX_PARAM.match(lines[index].strip())
    name = match.group(1).lstrip("*") if match else None
    if match and name:
        params[name] = match.group(2).strip()
    index += 1
    while index < len(lines) and lines[index].strip() and _indent(lines[index]) > 0:
        if name:
            params[name] = f"{params[name]} {lines[index].strip()}".strip()
        index += 1
    return index


def _paragraphs(lines: list[str]) -> str:
    """Lines joined into paragraphs (one space within, a blank line between)."""
    text = "\n".join(line.rstrip() for line in lines).strip()
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())
