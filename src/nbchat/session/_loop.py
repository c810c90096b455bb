"""The tool loop inside one turn: request → tool calls → approval → run → results → the
next request, until the model answers in text (or the step limit is reached).

Every call of a step is shown and decided before any of them runs. Calls that cannot
reach a function (unknown tool, arguments that are not JSON or do not fit the schema)
are answered at once with the reason, so the model can retry. Whatever ends the turn —
a stop while streaming, while waiting for approval or while a tool runs, an error, the
step limit — every call recorded gets a result, because both protocols reject a call left
unanswered in the history sent on later turns.

The loop yields what the provider streams, plus a :class:`ToolUpdate` whenever a call's
card changes (the widget draws those; ``ask()`` and the magics ignore them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import typing
from collections.abc import AsyncGenerator, AsyncIterator

from ..errors import StepLimitReached, StreamInterrupted
from ..messages import ToolCallPart, ToolResultPart, new_id
from ..providers.base import ChatRequest, StreamEvent, ToolCall
from ..tools import (
    Asker,
    Decision,
    InvalidArguments,
    Outcome,
    PendingCall,
    StdinAsker,
    Tool,
    run_tool,
)
from ..tools._run import StoppedAfter

if typing.TYPE_CHECKING:
    from .turn import Turn

__all__ = ["DEFAULT_MAX_STEPS", "ToolStatus", "ToolUpdate"]

#: Model requests one turn may make before the loop stops it.
DEFAULT_MAX_STEPS = 8

ToolStatus = typing.Literal[
    "waiting", "running", "done", "failed", "declined", "stopped", "invalid", "skipped"
]
STOPPED_BEFORE = "Not run: the user stopped the reply before this call ran."
STOPPED_DURING = "Stopped by the user while it ran."


def _after_first_step(options: typing.Mapping[str, object]) -> typing.Mapping[str, object]:
    """A ``tool_choice`` that forces a call ("required", or a function by name) applies to
    the turn's first request only: kept, it would make every step call again until the
    step limit (OpenAI's Agents SDK resets it after a tool call for the same reason)."""
    if options.get("tool_choice", "auto") in ("auto", "none"):
        return options
    return {k: v for k, v in options.items() if k != "tool_choice"}


@dataclasses.dataclass(frozen=True)
class ToolUpdate:
    """A tool call's card changed: the call, where it sits in the reply's text (UTF-16
    offset), its status, and its result once there is one."""

    call: ToolCallPart
    at: int
    status: ToolStatus
    result: ToolResultPart | None = None
    always_ask: bool = False  # no "Always allow" for this tool: it asks every time


@dataclasses.dataclass
class _Pending:
    part: ToolCallPart
    tool: Tool | None
    arguments: dict[str, typing.Any]
    problem: str  # why it cannot run ("" if it can)


class ToolLoop:
    """Runs the steps of one turn for :class:`~nbchat.session.turn.Turn` ``turn``."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        conversation = turn._conversation
        self.tools = conversation.tools
        self.approval = conversation.approval
        self.max_steps = conversation.max_steps
        self.asker: Asker = turn.asker or StdinAsker()
        self._running: str | None = None  # the call that runs now (its id)
        self._at = 0

    async def run(self) -> AsyncGenerator[StreamEvent | ToolUpdate, None]:
        turn = self.turn
        body = turn._body
        options = turn._request.options
        try:
            for step in range(1, self.max_steps + 1):
                tools = self.tools.snapshot()
                request = ChatRequest(
                    model=turn._request.model,
                    messages=[*turn._wire, *body.wire()],
                    options=options,
                    tools=[t.spec() for t in tools.values()],
                )
                options = _after_first_step(options)
                turn._request = request
                calls: list[ToolCall] = []
                stream = turn._provider.astream(request)
                try:
                    async for event in stream:
                        turn._absorb(event)
                        if isinstance(event, ToolCall):
                            calls.append(event)
                        yield event
                finally:
                    aclose = getattr(stream, "aclose", None)
                    if aclose is not None:
                        await aclose()  # closes the HTTP response: the server stops
                if turn.finish_reason is None:
                    raise StreamInterrupted(
                        "The reply ended without the server saying it was complete.",
                        provider=turn._provider.name,
                        model=request.model,
                    )
                if not calls or not tools:
                    return  # an answer in text (calls with no tools are carried, not run)
                turn._tally.next_step()
                pending = self._record(calls, tools)
                for update in self._invalid(pending):
                    yield update
                if step == self.max_steps:
                    self._skip(pending)
                    raise StepLimitReached(
                        f"The model kept calling tools: this reply stopped after "
                        f"{self.max_steps} steps.",
                        hint="Continue the reply to let it go on, or raise max_steps "
                        "(Chat(…, max_steps=16)).",
                    )
                async for update in self._decide_and_run([p for p in pending if not p.problem]):
                    yield update
                turn.finish_reason = None  # the next step says how it ends
        finally:
            self._answer_open_calls()

    # -- one step's calls ------------------------------------------------------------------

    def _record(self, calls: list[ToolCall], tools: dict[str, Tool]) -> list[_Pending]:
        body = self.turn._body
        self._at = body.at()
        taken = body.call_ids()
        out: list[_Pending] = []
        for call in calls:
            ident = call.id if call.id and call.id not in taken else f"call_{new_id(taken)}"
            taken.add(ident)
            part = ToolCallPart(
                type="tool_call", id=ident, name=call.name, arguments=call.arguments
            )
            body.add_call(part)
            tool = tools.get(call.name)
            arguments: dict[str, typing.Any] = {}
            problem = ""
            if tool is None:
                known = ", ".join(tools) or "none"
                problem = f"Unknown tool {call.name!r}. The tools are: {known}."
            else:
                try:
                    arguments = tool.arguments(call.arguments)
                except InvalidArguments as exc:
                    problem = str(exc)
            out.append(_Pending(part, tool, arguments, problem))
        return out

    def _invalid(self, pending: list[_Pending]) -> list[ToolUpdate]:
        updates = []
        for item in pending:
            if item.problem:
                result = self._result(item.part, "invalid", item.problem)
                updates.append(ToolUpdate(item.part, self._at, "invalid", result))
        return updates

    def _skip(self, pending: list[_Pending]) -> None:
        note = f"Not run: this reply reached its limit of {self.max_steps} model steps."
        for item in pending:
            if not item.problem:
                self._result(item.part, "skipped", note)

    async def _decide_and_run(self, pending: list[_Pending]) -> AsyncIterator[ToolUpdate]:
        if not pending:
            return
        at = self._at
        calls = [
            PendingCall(
                id=p.part["id"],
                name=p.part["name"],
                arguments=p.arguments,
                arguments_text=p.part["arguments"],
                always_ask=p.tool is not None and p.tool.always_ask,
            )
            for p in pending
        ]
        decisions: dict[str, Decision] = {}
        for call in calls:
            decided = await self.approval.policy_decision(call)
            if decided is not None:
                decisions[call.id] = decided
        ask = [c for c in calls if c.id not in decisions]
        for call, item in zip(calls, pending, strict=True):
            if call.id not in decisions:
                yield ToolUpdate(item.part, at, "waiting", always_ask=call.always_ask)
        if ask:
            answers = await self.asker.ask(ask)
            self.approval.remember(ask, answers)
            decisions.update((c.id, a) for c, a in zip(ask, answers, strict=True))
        capture = self.turn.capture
        for call, item in zip(calls, pending, strict=True):
            decision = decisions[call.id]
            if not decision.allow:
                result = self._result(item.part, "declined", decision.refusal())
                yield ToolUpdate(item.part, at, "declined", result)
                continue
            assert item.tool is not None
            yield ToolUpdate(item.part, at, "running", always_ask=call.always_ask)
            self._running = call.id
            try:
                outcome = await run_tool(item.tool, item.arguments, capture=capture)
            except StoppedAfter as stopped:  # a sync tool returned after a stop: keep it
                self._running = None
                self._result(
                    item.part, stopped.outcome.status, stopped.outcome.content, stopped.outcome
                )
                raise asyncio.CancelledError from None
            self._running = None
            result = self._result(item.part, outcome.status, outcome.content, outcome)
            yield ToolUpdate(item.part, at, outcome.status, result)
            # A stop that arrived while a sync tool held the thread lands here, before
            # the next call runs.
            await asyncio.sleep(0)

    # -- results -----------------------------------------------------------------------

    def _result(
        self,
        call: ToolCallPart,
        status: ToolStatus,
        content: str,
        outcome: Outcome | None = None,
    ) -> ToolResultPart:
        result = ToolResultPart(
            type="tool_result", call_id=call["id"], name=call["name"], content=content
        )
        result["status"] = status
        if outcome is not None:
            result["elapsed_s"] = outcome.elapsed_s
            if outcome.truncated:
                result["truncated"] = True
            if outcome.detail:
                result["detail"] = outcome.detail
            if outcome.output:
                result["output"] = outcome.output
            if outcome.figures:
                result["figures"] = list(outcome.figures)
        self.turn._body.add_result(result)
        return result

    def _answer_open_calls(self) -> None:
        """Every call recorded gets a result, however the turn ended."""
        for call in self.turn._body.open_calls():
            running = call["id"] == self._running
            note = STOPPED_DURING if running else STOPPED_BEFORE
            self._result(call, "stopped", note)
