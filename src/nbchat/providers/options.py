"""What a provider accepts as options: each one's type, allowed values and one-line meaning.

An :class:`Option` is checked before anything is sent, so a value the server would
reject (or, worse, quietly accept: ``temperature=-3``) fails at once with the allowed
range in the hint. A provider declares its options as a mapping of name → :class:`Option`
(:data:`COMMON_OPTIONS` plus its own), as ``llm``'s pydantic options do, without pydantic.

>>> COMMON_OPTIONS["temperature"].allowed
'a number from 0 to 2'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from ..errors import InvalidOption

__all__ = ["COMMON_OPTIONS", "Option", "describe", "validate_options"]


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: the types it takes, the values allowed, and what it does (one line).

    ``minimum``/``maximum`` bound numbers (inclusive); ``choices`` are the strings allowed
    where a string is one of the types; ``non_empty`` refuses ``""`` and empty lists
    (a list's items must then be non-empty strings).
    """

    description: str
    types: tuple[type, ...]
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    non_empty: bool = False
    example: str = ""  # how to write a good value, for hints: "0.2"

    @property
    def allowed(self) -> str:
        """The allowed values in words: ``"a number from 0 to 2"``."""
        parts: list[str] = []
        if bool in self.types:
            parts += ["True", "False"]
        if float in self.types or int in self.types:
            parts.append(self._number())
        if str in self.types:
            if self.choices:
                parts += [repr(c) for c in self.choices]
            else:
                parts.append("a non-empty string" if self.non_empty else "a string")
        if list in self.types or tuple in self.types:
            parts.append("a non-empty list of them" if self.non_empty else "a list of them")
        *first, last = parts
        return f"{', '.join(first)} or {last}" if first else last

    def _number(self) -> str:
        noun = "a number" if float in self.types else "a whole number"
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{noun} from {low:g} to {high:g}"
        if low is not None:
            return f"{noun} at least {low:g}"
        if high is not None:
            return f"{noun} at most {high:g}"
        return noun

    def has_type(self, value: object) -> bool:
        """Whether ``value`` is of one of the types (``True`` is not a number here)."""
        if isinstance(value, bool):  # an int subclass, but True is not a temperature
            return bool in self.types
        return isinstance(value, self.types)

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is of an allowed type and among the allowed values."""
        if not self.has_type(value):
            return False
        if isinstance(value, bool):
            return True
        if isinstance(value, str):
            if self.choices:
                return value in self.choices
            return bool(value) or not self.non_empty
        if isinstance(value, list | tuple):
            if self.non_empty and not value:
                return False
            return all(isinstance(v, str) and (v or not self.non_empty) for v in value)
        if isinstance(value, int | float):
            if math.isnan(value):
                return False
            if self.minimum is not None and value < self.minimum:
                return False
            return self.maximum is None or value <= self.maximum
        return True

    def check(self, name: str, value: object) -> object:
        """``value`` as it is sent (a tuple becomes a list), or :class:`InvalidOption`
        whose hint says what the option takes."""
        if self.accepts(value):
            return list(value) if isinstance(value, tuple) else value
        if self.has_type(value):
            message = f"Option {name!r} cannot be {_shown(value)}."
        else:
            names = " or ".join(t.__name__ for t in self.types)
            message = f"Option {name!r} must be {names}, not {type(value).__name__}."
        example = f"; for example {name}={self.example}" if self.example else ""
        raise InvalidOption(
            message, hint=f"{name}: {self.description}. It takes {self.allowed}{example}."
        )


def _shown(value: object) -> str:
    if isinstance(value, str | int | float | list | tuple) and len(repr(value)) <= 40:
        return repr(value)
    return f"a {type(value).__name__}"


#: Options every provider accepts.
COMMON_OPTIONS: Mapping[str, Option] = {
    "temperature": Option(
        "how varied the reply is (0 is the most predictable)",
        (int, float),
        minimum=0,
        maximum=2,
        example="0.2",
    ),
    "top_p": Option(
        "sample only from the likeliest tokens that make up this share of probability",
        (int, float),
        minimum=0,
        maximum=1,
        example="0.9",
    ),
    "seed": Option("the random seed, for repeatable replies", (int,), example="42"),
    "max_tokens": Option("the most tokens the reply may have", (int,), minimum=1, example="256"),
    "stop": Option(
        "text that ends the reply where it would appear",
        (str, list, tuple),
        non_empty=True,
        example="'\\n\\n'",
    ),
}


def validate_options(
    provider: str, allowed: Mapping[str, Option | tuple[Option, ...]], options: Mapping[str, object]
) -> dict[str, object]:
    """``options`` without ``None`` values, checked; or :class:`InvalidOption`.

    A tuple of :class:`Option` (several providers' meanings of one name, for
    :func:`nbchat.configure`) accepts a value any of them accepts.
    """
    clean: dict[str, object] = {}
    for key, value in options.items():
        if value is None:
            continue
        spec = allowed.get(key)
        if spec is None:
            known = ", ".join(sorted(allowed))
            raise InvalidOption(
                f"Unknown option {key!r} for {provider}.", hint=f"Known options: {known}."
            )
        specs = spec if isinstance(spec, tuple) else (spec,)
        accepting = next((s for s in specs if s.accepts(value)), specs[0])
        clean[key] = accepting.check(key, value)
    return clean


def describe(options: Mapping[str, Option]) -> str:
    """One line per option, for ``%chat config`` and the docs: name, values, meaning."""
    width = max((len(k) for k in options), default=0)
    return "\n".join(
        f"{key:<{width}}  {option.allowed} — {option.description}"
        for key, option in sorted(options.items())
    )
