"""The JSON save format: :func:`dumps` and :func:`loads`, versioned, lossless.

It holds the messages of every branch, the system prompt, model, base URL (without
user:password) and options — and has no field for a key. The versions and what each added
are listed in :mod:`nbchat.transcript`'s docstring.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping, Sequence

from ..errors import InvalidRequest, redact_userinfo
from ..messages import SCHEMA_VERSION, Message, check_parent, check_parts, linked
from ._lines import ROLE_TITLES

__all__ = ["FORMAT", "VERSION", "Transcript", "dumps", "loads"]

FORMAT = "nbchat.transcript"
#: The version written: the message schema's fields (:data:`SCHEMA_VERSION`) in a tree.
VERSION = 3
assert SCHEMA_VERSION <= VERSION


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
    if value.get("role") not in ROLE_TITLES:
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
