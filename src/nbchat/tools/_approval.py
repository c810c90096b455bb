"""Who says yes to a tool call: the chat's policy, and whoever answers for the user.

A policy (``approve=``) is ``"ask"`` (the default: the user answers every call),
``"always"`` (run without asking: the user's explicit choice), or a callable
``approve(name, arguments) -> bool | (bool, reason)``. A tool made with
``always_ask=True`` (``run_python``) is asked about on every call, even under
``"always"`` or after "Always allow".

Asking is an :class:`Asker`'s job: the widget's cards, a blocking cell's stdin, or — where
nobody can answer (nbclient runs with no stdin; plain Python without a terminal) — nobody,
which means no. "Always allow *name*" lives in :class:`Approval`, which lasts as long as
its chat object: it is never saved, nor read back from a file or a notebook.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import typing
from collections.abc import Callable, Sequence

from .. import _worker
from ..errors import InvalidRequest

__all__ = [
    "Approval",
    "ApprovePolicy",
    "Asker",
    "Decision",
    "NobodyAsker",
    "PendingCall",
    "StdinAsker",
]

ApprovePolicy: typing.TypeAlias = (
    typing.Literal["ask", "always"]
    | Callable[[str, dict[str, typing.Any]], "bool | tuple[bool, str]"]
)
DecidedBy = typing.Literal["user", "policy", "nobody", "stop"]


@dataclasses.dataclass(frozen=True)
class PendingCall:
    """A call waiting for a yes or no."""

    id: str
    name: str
    arguments: dict[str, typing.Any]  # as checked against the tool's schema
    arguments_text: str  # as the model wrote them
    always_ask: bool = False


@dataclasses.dataclass(frozen=True)
class Decision:
    allow: bool
    reason: str = ""  # why not (sent to the model with the denial)
    always: bool = False  # "Always allow <name>" for this chat
    by: DecidedBy = "user"

    def refusal(self) -> str:
        """What the model is told of a denial, as the call's result."""
        reason = f": {self.reason}" if self.reason else "."
        if self.by == "policy":
            return f"The call was not approved (by the chat's approval policy){reason}"
        if self.by == "nobody":
            return f"The call was not run{reason}"
        if self.by == "stop":
            return "The user stopped the reply before approving this call; it was not run."
        return f"The user declined this call{reason}"


class Asker(typing.Protocol):
    """Asks the user about calls, all of one step at once; one decision per call."""

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]: ...


class Approval:
    """A chat's policy and its "Always allow" names."""

    def __init__(self, approve: ApprovePolicy = "ask") -> None:
        if not (approve in ("ask", "always") or callable(approve)):
            raise InvalidRequest(
                f"approve must be 'ask', 'always' or a function, not {approve!r}.",
                hint="approve=lambda name, arguments: name != 'delete_file'",
            )
        self.policy: ApprovePolicy = approve
        self.always_allowed: set[str] = set()

    async def policy_decision(self, call: PendingCall) -> Decision | None:
        """The policy's own decision on ``call``, or ``None``: the user must be asked.

        A callable policy runs where the turn's consumer is (the kernel's main thread,
        as a tool does).
        """
        policy = self.policy
        if callable(policy):
            return await _worker.on_consumer(lambda: _ask_function(policy, call))
        if call.always_ask:
            return None
        if policy == "always" or call.name in self.always_allowed:
            return Decision(True, by="policy")
        return None

    def remember(self, calls: Sequence[PendingCall], answers: Sequence[Decision]) -> None:
        """Keep the "Always allow" the user chose (never for an ``always_ask`` tool)."""
        for call, answer in zip(calls, answers, strict=True):
            if answer.allow and answer.always and not call.always_ask:
                self.always_allowed.add(call.name)

    def __repr__(self) -> str:
        policy = self.policy if isinstance(self.policy, str) else "a function"
        allowed = f", always allowed: {sorted(self.always_allowed)}" if self.always_allowed else ""
        return f"<Approval {policy}{allowed}>"


def _ask_function(policy: typing.Callable[..., typing.Any], call: PendingCall) -> Decision:
    try:
        answer = policy(call.name, dict(call.arguments))
    except Exception as exc:
        return Decision(False, f"the approve function raised {type(exc).__name__}", by="policy")
    if isinstance(answer, tuple) and len(answer) == 2:
        allow, reason = answer
        return Decision(bool(allow), str(reason or ""), by="policy")
    return Decision(bool(answer), by="policy")


class NobodyAsker:
    """Where nobody can answer: every call is declined, with ``reason``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]:
        return [Decision(False, self.reason, by="nobody") for _ in calls]


_NO_STDIN = (
    "nobody can approve tool calls here (no terminal or stdin to ask on); "
    "use approve='always' or an approve function for unattended runs"
)


class StdinAsker:
    """Asks on the cell's stdin (``input()``) — how a blocking call (``chat.ask``,
    ``%%chat``) asks, since the kernel delivers no widget messages while its cell runs."""

    async def ask(self, calls: Sequence[PendingCall]) -> list[Decision]:
        out: list[Decision] = []
        for call in calls:
            out.append(await _worker.on_consumer(functools.partial(_ask_stdin, call)))
            if out[-1].by == "nobody":  # no stdin for one: none for the rest
                return out + [out[-1]] * (len(calls) - len(out))
        return out


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return getattr(get() if get else None, "kernel", None) is not None


def _ask_stdin(call: PendingCall) -> Decision:
    if not _in_kernel() and (sys.stdin is None or not sys.stdin.isatty()):
        return Decision(False, _NO_STDIN, by="nobody")
    always = "" if call.always_ask else f" / [a]lways allow {call.name}"
    question = (
        f"nbchat: the model wants to call {call.name}({call.arguments_text or '{}'}).\n"
        f"Allow it? [y]es / [n]o{always} — or type why not: "
    )
    try:
        answer = input(question)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # StdinNotImplementedError (no stdin), EOFError, OSError
        return Decision(False, f"{_NO_STDIN} ({type(exc).__name__})", by="nobody")
    word = answer.strip()
    if word.lower() in ("y", "yes"):
        return Decision(True)
    if word.lower() in ("a", "always") and not call.always_ask:
        return Decision(True, always=True)
    if word.lower() in ("", "n", "no"):
        return Decision(False)
    return Decision(False, word)
