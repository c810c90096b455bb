"""Run a provider's stream to the end and keep what came: events, text, and the error.

Shared by the provider suites (and anyone else who wants a reply as data)::

    outcome = await collect(provider, "llama3.2")
    outcome.text, outcome.finish, outcome.error
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from nbchat.errors import NbchatError
from nbchat.providers.base import (
    ChatRequest,
    Finish,
    Provider,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    WireMessage,
)

__all__ = ["HELLO", "Outcome", "collect"]

HELLO: list[WireMessage] = [{"role": "user", "content": "Hello!"}]


@dataclasses.dataclass
class Outcome:
    events: list[StreamEvent]
    error: NbchatError | None

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, TextDelta))

    @property
    def reasoning(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, ReasoningDelta))

    @property
    def finish(self) -> Finish | None:
        found = [e for e in self.events if isinstance(e, Finish)]
        return found[-1] if found else None

    @property
    def usage(self) -> Usage | None:
        found = [e for e in self.events if isinstance(e, Usage)]
        return found[-1] if found else None

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [e for e in self.events if isinstance(e, ToolCall)]


async def collect(
    provider: Provider,
    model: str = "llama3.2",
    messages: Sequence[WireMessage] = HELLO,
    options: Mapping[str, object] | None = None,
    *,
    stop_after: int | None = None,
) -> Outcome:
    """Stream to the end (or ``stop_after`` events, then close); errors are kept, not raised."""
    events: list[StreamEvent] = []
    request = ChatRequest(model=model, messages=list(messages), options=dict(options or {}))
    stream = provider.astream(request)
    try:
        async for event in stream:
            events.append(event)
            if stop_after is not None and len(events) >= stop_after:
                break
    except NbchatError as exc:
        return Outcome(events, exc)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return Outcome(events, None)
