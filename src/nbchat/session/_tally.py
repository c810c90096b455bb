"""What a reply's ``meta`` counts: tokens, their rate, and how long the reply took."""

from __future__ import annotations

import time
import typing

from ..messages import MessageMeta
from ..providers.base import Finish, StreamEvent, ToolCall, Usage

__all__ = ["Tally"]


class Tally:
    """Counts and times one run of a reply; a resumed reply adds to its earlier meta."""

    def __init__(self, earlier: MessageMeta) -> None:
        self.earlier = earlier  # the meta of the part a resumed reply continues
        self.usage: Usage | None = None  # the server's counts, merged as they come
        self.deltas = 0  # text and reasoning deltas: a token count when the server has none
        self.started: float | None = None
        self.first: float | None = None  # first delta
        self.last: float | None = None  # last delta (or the finish)
        # Earlier model steps of the same reply (a reply that called tools takes several).
        self.folded_tokens = 0
        self.folded_deltas = 0

    def start(self) -> None:
        self.started = time.monotonic()

    def end(self) -> None:
        if self.last is None:
            self.last = time.monotonic()

    def count(self, event: StreamEvent) -> None:
        now = time.monotonic()
        if isinstance(event, Usage):
            old = self.usage
            self.usage = event if old is None else _merge_usage(old, event)
        elif isinstance(event, Finish):
            self.last = now
        elif not isinstance(event, ToolCall):
            self.deltas += 1
            if self.first is None:
                self.first = now
            self.last = now

    def next_step(self) -> None:
        """The model step so far is over; the reply goes on with another request."""
        usage = self.usage
        if usage is not None and usage.completion_tokens is not None:
            self.folded_tokens += usage.completion_tokens
        else:
            self.folded_tokens += self.deltas - self.folded_deltas
        self.folded_deltas = self.deltas
        if usage is not None:  # the prompt count and rate stand until the next step's
            self.usage = Usage(usage.prompt_tokens, None, usage.tokens_per_second, None)

    def meta(self, *, ended: bool) -> MessageMeta:
        """``prompt_tokens``, ``tokens``, ``tokens_per_s``, ``elapsed_s``, ``ttft_s`` so far."""
        old = self.earlier
        meta = MessageMeta()
        usage = self.usage
        if usage is not None and usage.prompt_tokens is not None:
            meta["prompt_tokens"] = usage.prompt_tokens
        elif "prompt_tokens" in old:
            meta["prompt_tokens"] = old["prompt_tokens"]
        counted = self.deltas - self.folded_deltas
        if usage is not None and usage.completion_tokens is not None:
            counted = usage.completion_tokens
        meta["tokens"] = old.get("tokens", 0) + self.folded_tokens + counted
        rate = self._rate()
        if rate is not None:
            meta["tokens_per_s"] = round(rate, 2)
        elif "tokens_per_s" in old:
            meta["tokens_per_s"] = old["tokens_per_s"]
        start = self.started
        if start is not None:
            end = (self.last or start) if ended else time.monotonic()
            meta["elapsed_s"] = round(old.get("elapsed_s", 0.0) + end - start, 3)
        elif "elapsed_s" in old:
            meta["elapsed_s"] = old["elapsed_s"]
        if "ttft_s" in old:
            meta["ttft_s"] = old["ttft_s"]  # the message's first token came in the first run
        elif start is not None and self.first is not None:
            meta["ttft_s"] = round(self.first - start, 3)
        return meta

    def _rate(self) -> float | None:
        usage = self.usage
        if usage is not None and usage.tokens_per_second:
            return usage.tokens_per_second
        if usage is not None and usage.duration_s and usage.completion_tokens:
            return usage.completion_tokens / usage.duration_s
        first, last = self.first, self.last
        if first is not None and last is not None and last > first and self.deltas >= 2:
            # Deltas after the first, over the time they took: prompt processing excluded.
            return (self.deltas - 1) / (last - first)
        return None


def _merge_usage(old: Usage, new: Usage) -> Usage:
    def pick(a: typing.Any, b: typing.Any) -> typing.Any:
        return b if b is not None else a

    return Usage(
        prompt_tokens=pick(old.prompt_tokens, new.prompt_tokens),
        completion_tokens=pick(old.completion_tokens, new.completion_tokens),
        tokens_per_second=pick(old.tokens_per_second, new.tokens_per_second),
        duration_s=pick(old.duration_s, new.duration_s),
    )
