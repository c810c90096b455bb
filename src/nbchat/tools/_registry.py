"""The tools of a chat: a small ordered collection, changed at run time.

``chat.tools.add(fn)``, ``chat.tools.remove("weather")`` (or the function), ``"weather" in
chat.tools``, ``len(chat.tools)``, iteration in the order they were added. A turn reads the
tools anew at every step, so a tool added or removed mid-conversation counts from the next
request on.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable, Iterable, Iterator

from ..errors import InvalidRequest
from ._tool import Tool, ToolSpec

__all__ = ["ToolLike", "Tools"]

ToolLike = Tool | Callable[..., typing.Any]


class Tools:
    """The functions a model may call in one chat, by name."""

    def __init__(self, tools: Iterable[ToolLike] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()
        for tool in tools:
            self.add(tool)

    def add(self, tool: ToolLike, *, name: str | None = None) -> Tool:
        """Register ``tool`` (a function or a :class:`Tool`); returns the :class:`Tool`.

        A function is described now: a parameter that cannot be, fails here. Adding a
        name again replaces the tool of that name.
        """
        made = _as_tool(tool, name)
        with self._lock:
            self._tools[made.name] = made
        return made

    def remove(self, tool: str | ToolLike) -> None:
        """Unregister a tool by name, function or :class:`Tool`."""
        name = self._name_of(tool)
        with self._lock:
            if name not in self._tools:
                known = ", ".join(self._tools) or "none"
                raise InvalidRequest(f"No tool named {name!r}.", hint=f"Registered: {known}.")
            del self._tools[name]

    def clear(self) -> None:
        with self._lock:
            self._tools.clear()

    def replace(self, tools: Iterable[ToolLike]) -> None:
        """Make ``tools`` the only ones (all described before any is dropped)."""
        made = [_as_tool(t) for t in tools]
        with self._lock:
            self._tools = {t.name: t for t in made}

    def get(self, name: str) -> Tool | None:
        with self._lock:
            return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool:
        tool = self.get(name)
        if tool is None:
            raise KeyError(name)
        return tool

    def names(self) -> list[str]:
        with self._lock:
            return list(self._tools)

    def specs(self) -> list[ToolSpec]:
        """Every tool as a request describes it."""
        with self._lock:
            return [t.spec() for t in self._tools.values()]

    def snapshot(self) -> dict[str, Tool]:
        """The tools as they are now (a copy: one step of a turn uses one set)."""
        with self._lock:
            return dict(self._tools)

    def __contains__(self, tool: object) -> bool:
        try:
            name = self._name_of(tool)  # type: ignore[arg-type]
        except InvalidRequest:
            return False
        with self._lock:
            return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.snapshot().values())

    def __len__(self) -> int:
        return len(self._tools)

    def __bool__(self) -> bool:
        return bool(self._tools)

    def __repr__(self) -> str:
        return f"<Tools: {', '.join(self._tools) or 'none'}>"

    @staticmethod
    def _name_of(tool: str | ToolLike) -> str:
        if isinstance(tool, str):
            return tool
        if isinstance(tool, Tool):
            return tool.name
        name: object = getattr(tool, "__name__", None)
        if not isinstance(name, str):
            raise InvalidRequest("Name the tool to remove.", hint="tools.remove('weather').")
        return name


def _as_tool(tool: ToolLike, name: str | None = None) -> Tool:
    if isinstance(tool, Tool):
        if name is None:
            return tool
        return Tool(
            tool.function, name=name, description=tool.description, always_ask=tool.always_ask
        )
    return Tool(tool, name=name, always_ask=bool(getattr(tool, "__nbchat_always_ask__", False)))
