"""``{name}`` and ``{expression}`` in a prompt, from the notebook; ``{{``/``}}`` are braces."""

from __future__ import annotations

import ast
import builtins
import re
import typing
from collections.abc import Mapping

from ..errors import InvalidRequest
from ._grammar import clip

__all__ = ["interpolate"]


_CONVERSION = re.compile(r"!([rsa])$")
_CONVERSIONS: dict[str, typing.Callable[[object], str]] = {"r": repr, "s": str, "a": ascii}
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?\d*[,_]?(?:\.\d+)?[bcdeEfFgGnosxX%]?")


def interpolate(template: str, namespace: Mapping[str, object]) -> str:
    """Replace ``{expr}`` fields by their value in ``namespace``; ``{{``/``}}`` are braces.

    Like an f-string field, a field may end in ``!r``/``!s``/``!a`` and ``:spec``. Braces
    around anything that is not an expression using a notebook name — code, JSON, ``{}``,
    ``{1, 2}``, ``{id}`` — stay as typed. A name defined nowhere raises
    :class:`~nbchat.errors.InvalidRequest` naming it, before anything is sent.
    """
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char in "{}" and template.startswith(char * 2, i):
            out.append(char)
            i += 2
        elif char == "{":
            end = _field_end(template, i + 1)
            if end is None:
                out.append(char)
                i += 1
                continue
            value = _evaluate(template[i + 1 : end], namespace)
            out.append(template[i : end + 1] if value is None else value)
            i = end + 1
        else:
            j = min((k for k in (template.find("{", i + 1), template.find("}", i + 1)) if k > 0),
                    default=n)  # fmt: skip
            out.append(template[i:j])
            i = j
    return "".join(out)


def _field_end(text: str, start: int) -> int | None:
    """Index of the ``}`` closing a field that starts at ``start``; fields are one line."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if char == "\n":
            return None
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _evaluate(field: str, namespace: Mapping[str, object]) -> str | None:
    """The text of one field, or None to keep it as typed."""
    source, conversion, spec = field.strip(), "", ""
    tree = _expression(source)
    if tree is None:
        source, conversion, spec = _split_field(source)
        tree = _expression(source)
        if tree is None or not _FORMAT_SPEC.fullmatch(spec):
            return None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if not names & namespace.keys():
        # Only literals ({1, 2}, {"a": 1}) or builtins ({id}, {max}): text, not a field.
        # A name defined nowhere is most likely a notebook variable that is missing.
        missing = sorted(n for n in names if not hasattr(builtins, n))
        if not missing:
            return None
        raise _undefined(missing[0])
    try:
        value = eval(compile(tree, "<chat prompt>", "eval"), dict(namespace))
        if conversion:
            value = _CONVERSIONS[conversion](value)
        return format(value, spec)
    except NameError as exc:
        raise _undefined(getattr(exc, "name", None) or source) from None
    except Exception as exc:
        raise InvalidRequest(
            f"Cannot fill in {{{field.strip()}}}: {type(exc).__name__}: {clip(str(exc))}",
            hint="Write {{ and }} for literal braces, or use --no-interpolate.",
        ) from None


def _undefined(name: str) -> InvalidRequest:
    return InvalidRequest(
        f"Name {name!r} is not defined in the notebook.",
        hint="Define it first, write {{ and }} for literal braces, or use --no-interpolate.",
    )


def _expression(source: str) -> ast.Expression | None:
    if not source:
        return None
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError:
        return None


def _split_field(field: str) -> tuple[str, str, str]:
    """Split ``expr!r:spec`` at the first top-level ``:`` (outside brackets and strings)."""
    depth, quote = 0, ""
    for i, char in enumerate(field):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            head, spec = field[:i], field[i + 1 :]
            break
    else:
        head, spec = field, ""
    conversion = _CONVERSION.search(head)
    if conversion:
        return head[: conversion.start()].strip(), conversion.group(1), spec
    return head.strip(), "", spec
