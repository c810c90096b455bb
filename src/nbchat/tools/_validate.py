"""Checking a value against the JSON schemas :mod:`._schema` writes: a small validator.

Only the keywords nbchat's own schemas use are read (``type``, ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``prefixItems``,
``minItems``, ``maxItems``, ``uniqueItems``, ``anyOf``); a schema from a pydantic model is
checked by pydantic itself. A problem comes back as one sentence naming where it is
(``'unit' must be one of 'C', 'F' (got 'K')``), because the model reads it and retries.
"""

from __future__ import annotations

import json
import typing

__all__ = ["check"]

Schema = typing.Mapping[str, typing.Any]

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
    "array": "an array",
    "object": "an object",
}


def _is(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "…"


def _where(path: str) -> str:
    return f"'{path}'" if path else "the arguments"


def check(value: object, schema: Schema, path: str = "") -> str:
    """The first problem with ``value`` under ``schema``, or ``""`` if it fits."""
    if "anyOf" in schema:
        problems = [check(value, option, path) for option in schema["anyOf"]]
        if all(problems):
            return problems[0] if len(problems) == 1 else f"{_where(path)}: {problems[-1]}"
        return ""
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_is(value, k) for k in kinds):
            words = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
            return f"{_where(path)} must be {words} (got {_shown(value)})"
    if "enum" in schema and not any(_same(value, choice) for choice in schema["enum"]):
        choices = ", ".join(_shown(c) for c in schema["enum"])
        return f"{_where(path)} must be one of {choices} (got {_shown(value)})"
    if "const" in schema and not _same(value, schema["const"]):
        return f"{_where(path)} must be {_shown(schema['const'])} (got {_shown(value)})"
    if isinstance(value, dict):
        return _check_object(value, schema, path)
    if isinstance(value, list):
        return _check_array(value, schema, path)
    return ""


def _same(a: object, b: object) -> bool:
    # True == 1 in Python, but not in JSON.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _join(path: str, key: object) -> str:
    return (
        f"{path}.{key}" if path and isinstance(key, str) else f"{path}[{key}]" if path else str(key)
    )


def _check_object(value: dict[str, typing.Any], schema: Schema, path: str) -> str:
    properties: Schema = schema.get("properties") or {}
    for name in schema.get("required") or ():
        if name not in value:
            return f"{_where(_join(path, name))} is required"
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            problem = check(item, properties[key], _join(path, key))
        elif extra is False:
            known = ", ".join(f"'{k}'" for k in properties) or "none"
            where = f" in {_where(path)}" if path else ""
            return f"unexpected argument '{key}'{where} (known: {known})"
        elif isinstance(extra, dict):
            problem = check(item, extra, _join(path, key))
        else:
            problem = ""
        if problem:
            return problem
    return ""


def _check_array(value: list[typing.Any], schema: Schema, path: str) -> str:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        count = low if low == high else f"{low or 0} to {high if high is not None else 'any'}"
        return f"{_where(path)} must have {count} items (got {len(value)})"
    prefix = schema.get("prefixItems") or []
    items = schema.get("items")
    for index, item in enumerate(value):
        sub = prefix[index] if index < len(prefix) else items
        if isinstance(sub, dict):
            problem = check(item, sub, _join(path, index))
            if problem:
                return problem
    if schema.get("uniqueItems"):
        seen = [json.dumps(v, sort_keys=True, default=repr) for v in value]
        if len(set(seen)) != len(seen):
            return f"{_where(path)} must not repeat items"
    return ""
