"""The ``%chat`` line magic and ``%%chat`` cell magic (``%load_ext nbchat``).

::

    %chat What is a closure?                      one line: the rest of the line is the prompt
    %%chat [provider:model] [options]             the cell body is the prompt
    %chat models | config [key=value ...] | reset | history | fix

Consecutive calls continue one conversation (the session) until ``--new`` or ``%chat reset``.
A model, base URL or system prompt named in a call stays in use for the calls after it;
sampling options (``--temperature`` …) apply to one call, ``%chat config`` sets defaults.

The reply streams into a compact :class:`~nbchat.widget.Chat` view while the cell runs; when
it ends, that output is replaced by a static Markdown transcript of the exchange, which is
what a saved notebook shows everywhere — JupyterLab after a restart, GitHub, nbviewer,
``nbconvert`` — with no widget JavaScript (a widget output whose kernel is gone renders as
"model not found", and ``nbclient`` saves widget state, which makes ``nbconvert`` pick the
widget view over any fallback). ``-f text`` and terminals stream plain text instead.

Failures show one line (message — hint), never a traceback, and keep what was said; they
still fail the cell, so "Run All" and ``nbclient`` stop there as they would for any error.
An interrupt shows ``Stopped: the partial reply is kept.`` and is still a
``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import typing

import traitlets
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from .._ipython import one_line, stopped
from ..errors import InvalidRequest, NbchatError, redact_userinfo
from ..transcript import count
from . import _output
from ._grammar import USAGE, Command, parse
from ._interpolate import interpolate
from ._session import LastError, MagicSession, Target, format_exception

if typing.TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

    from ..session import Conversation
    from ._output import ExchangeView

__all__ = ["ChatMagics", "MagicSession", "interpolate", "load_ipython_extension", "parse"]

E = typing.TypeVar("E", bound=BaseException)

_CODE_INSTRUCTION = "Answer with code only, in one fenced code block, without explanation."
_FIX_INSTRUCTION = "Explain the following error and propose a fix."

# ---------------------------------------------------------------------------------------
# The magics.


@magics_class
class ChatMagics(Magics):
    """``%chat`` and ``%%chat``: ask a model, with the conversation kept across cells."""

    output = traitlets.Enum(
        ("auto", "widget", "text"),
        default_value="auto",
        help='Where replies stream: "auto" (the chat view in a kernel, plain text in a '
        'terminal), "widget" or "text". Set with %config ChatMagics.output = "text".',
    ).tag(config=True)

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.session = MagicSession()

    @property
    def _shell(self) -> InteractiveShell:
        assert self.shell is not None
        return self.shell

    @no_var_expand
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> None:
        """Ask a model; ``%chat`` alone shows the grammar."""
        try:
            command = parse(line, cell)
            getattr(self, f"_run_{command.kind}")(command)
        except NbchatError as exc:
            extra = USAGE.splitlines() if getattr(exc, "_nbchat_usage", False) else []
            raise _shown(exc, *extra) from None

    # -- subcommands ---------------------------------------------------------------------

    def _run_usage(self, command: Command) -> None:
        print(USAGE)

    def _run_ask(self, command: Command) -> None:
        prompt = command.prompt.strip("\n")
        if command.interpolate:
            prompt = interpolate(prompt, self._shell.user_ns)
        if command.format == "code":
            prompt = f"{prompt}\n\n{_CODE_INSTRUCTION}"
        self._converse(command, prompt)

    def _run_fix(self, command: Command) -> None:
        error = self.session.last_error
        if error is None:
            raise InvalidRequest(
                "No exception to fix yet in this session.",
                hint="Run the cell that fails, then %chat fix.",
            )
        parts = [_FIX_INSTRUCTION]
        extra = command.prompt.strip()
        if extra:
            parts.append(interpolate(extra, self._shell.user_ns) if command.interpolate else extra)
        if error.cell.strip():
            parts.append(f"The cell that raised it:\n\n{_fenced(error.cell.strip(), 'python')}")
        parts.append(f"The error:\n\n{_fenced(error.traceback.strip(), '')}")
        self._converse(command, "\n\n".join(parts))

    def _run_models(self, command: Command) -> None:
        from ..api import models

        endpoint = self.session.target(command)
        names = models(command.model or endpoint.model, base_url=endpoint.base_url)
        if not names:
            print("The server lists no models.")
            return
        current = self.session.conversation.model if self.session.conversation else None
        lines = [f"{name}  (in use)" if name == current else name for name in names]
        _output.show(
            {
                "text/plain": "\n".join(lines),
                "text/markdown": "\n".join(f"- `{line}`" for line in lines) + "\n",
            }
        )

    def _run_config(self, command: Command) -> None:
        if command.settings:
            self.session.configure(command.settings)
        print(self._describe_config())

    def _run_reset(self, command: Command) -> None:
        self.session.reset()
        print("New conversation: the history is cleared (settings are kept).")

    def _run_history(self, command: Command) -> None:
        conversation = self.session.conversation
        if conversation is None or not conversation.messages:
            print("No messages yet.")
            return
        from ..transcript import to_markdown

        text = conversation.to_markdown()
        shown = to_markdown(conversation.messages, system=conversation.system, inert=True)
        _output.show({"text/plain": text, "text/markdown": shown})

    # -- one exchange --------------------------------------------------------------------

    def _converse(self, command: Command, prompt: str) -> None:
        if command.model is not None and "," in command.model:
            self._compare(command, prompt)
            return
        session = self.session
        conversation = session.conversation_for(command)
        conversation.provider.check_options(command.options)  # fail before any output
        images = self._images_for(command, conversation.max_image_side)
        if images:
            command.options = {**command.options, "images": images}
        # Tools and approval are the call's own: a %chat without --tools offers none.
        conversation.tools.replace(self._tools_for(command))
        conversation.approval.policy = command.approve or "ask"
        session.commit(command, conversation)
        start = len(conversation.messages)
        if self._use_widget(command):
            interrupted, error = self._stream_in_widget(conversation, prompt, command, start)
        else:
            interrupted, error = self._stream_as_text(conversation, prompt, command)
        if interrupted:
            raise stopped()
        if error is not None:
            raise error
        if command.format == "code":
            replies = [
                m for m in _output.exchange(conversation.messages, start) if m["role"] != "user"
            ]
            code = _output.code_from_reply(replies[-1]["content"]) if replies else ""
            if code:
                self._shell.set_next_input(code, replace=False)

    def _compare(self, command: Command, prompt: str) -> None:
        """``%%chat a,b``: every model at once, streamed in a comparison, then a static
        transcript with the replies one after another, each headed by its model and figures.
        The same models in a later cell go on with the same comparison."""
        from ..widget._compare import Compare
        from ..widget._compare_text import exchange_markdown

        assert command.model is not None
        models = [m.strip() for m in command.model.split(",") if m.strip()]
        compare = self.session.compare
        if compare is None or compare.models != models or compare.comm is None:
            compare = self.session.compare = Compare(models, system=command.system)
        starts = [len(c.conversation.messages) for c in compare.columns]
        handle = None
        if self._use_widget(command):
            from ..widget import _display

            live, metadata = _display.view_bundle(compare)
            live["text/plain"] = f"nbchat: {', '.join(models)} are replying…"
            handle = _output.show_live(live, metadata)
        interrupted = False
        results: dict[str, str | NbchatError] = {}
        try:
            results = compare.ask(prompt, **command.options)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            replies = []
            for label, chat, start in zip(compare.models, compare.columns, starts, strict=True):
                new = chat.conversation.messages[start:]
                reply = new[-1] if new and new[-1]["role"] == "assistant" else None
                replies.append((label, reply))
            markdown = exchange_markdown(prompt, replies)
            bundle = {"text/plain": markdown, "text/markdown": markdown}
            if handle is not None:
                _output.update(handle, bundle)
            else:
                _output.show(bundle)
        if interrupted:
            raise _shown(
                KeyboardInterrupt("the replies were stopped; the partial replies are kept")
            )
        failed = [f"{label}: {r}" for label, r in results.items() if isinstance(r, NbchatError)]
        if len(failed) == len(results) and failed:
            # Every model failed: fail the cell, as a single model's failure does.
            raise NbchatError("; ".join(failed), hint="")

    def _images_for(self, command: Command, max_side: int) -> list[typing.Any]:
        """The images ``--image`` names — a variable of the notebook, else a file path —
        made ready to send, so that a refused one fails the cell before any output."""
        from ..errors import InvalidImage
        from ..images import to_image

        made = []
        namespace = self._shell.user_ns
        for name in command.images:
            if name.isidentifier() and name in namespace:
                given = namespace[name]
            elif name.isidentifier() and not os.path.exists(name):
                raise InvalidImage(
                    f"--image {name}: the notebook has no variable {name!r}, and there is "
                    f"no file {name!r}.",
                    hint="Name a variable (a figure, an array, a PIL image) or an image file.",
                )
            else:
                given = name
            made.append(to_image(given, max_side=max_side))
        return made

    def _tools_for(self, command: Command) -> list[typing.Any]:
        """The functions ``--tools`` names: the notebook's, else nbchat's notebook tools."""
        from ..tools import notebook

        found: list[typing.Any] = []
        for name in command.tools or ():
            function = self._shell.user_ns.get(name, getattr(notebook, name, None))
            if name.startswith("_") or not callable(function):
                what = "no function" if function is None else f"{type(function).__name__}"
                raise InvalidRequest(
                    f"--tools {name}: the notebook has {what} named {name!r}.",
                    hint="Define the function in a cell first (def weather(city: str): …); "
                    "built in: variables, describe, run_python.",
                )
            found.append(function)
        return found

    def _use_widget(self, command: Command) -> bool:
        if command.format == "text" or self.output == "text":
            return False
        if self.output == "widget":
            return True
        return getattr(self._shell, "kernel", None) is not None

    def _stream_in_widget(
        self, conversation: Conversation, prompt: str, command: Command, start: int
    ) -> tuple[bool, NbchatError | None]:
        view = self._view_for(conversation)
        view.show_from(start)
        from ..widget import _display

        live, metadata = _display.view_bundle(view)
        live["text/plain"] = f"nbchat: {conversation.model} is replying…"
        handle = _output.show_live(live, metadata)
        interrupted, error = False, None
        try:
            view.ask(prompt, **command.options)
        except KeyboardInterrupt:
            interrupted = True
            turn = conversation.current
            if turn is not None:  # an interrupt the widget did not get to: stop it here
                turn.stop()
        except NbchatError as exc:
            error = exc
        finally:
            # The static transcript replaces the live view: it is what a saved notebook shows.
            _output.update(
                handle, _output.static_bundle(_output.exchange(conversation.messages, start))
            )
        return interrupted, error

    def _view_for(self, conversation: Conversation) -> ExchangeView:
        """The session's widget for ``conversation``: one for all its cells.

        Each cell's live view is replaced by its transcript when the reply ends, so one
        widget serves every cell; a new one per cell would send the front-end bundle (about
        1 MB) again each time, and nbclient would save that many widget states.
        """
        view = self.session.view
        if view is None or view.conversation is not conversation or view.comm is None:
            if view is not None:
                view.close()
            view = self.session.view = _output.exchange_view(conversation)
        return view

    def _stream_as_text(
        self, conversation: Conversation, prompt: str, command: Command
    ) -> tuple[bool, NbchatError | None]:
        from ..providers.base import TextDelta
        from ..session import ToolUpdate

        turn = conversation.prompt(prompt, **command.options)
        interrupted, error = False, None
        try:
            for event in turn:
                if isinstance(event, TextDelta):
                    sys.stdout.write(event.text)
                elif isinstance(event, ToolUpdate) and event.result is not None:
                    sys.stdout.write(_output.tool_line(event.call, event.result) + "\n")
                sys.stdout.flush()
        except KeyboardInterrupt:
            interrupted = True
        except NbchatError as exc:
            error = exc
        interrupted = interrupted or turn.status == "stopped"
        sys.stdout.write("\n[stopped]\n" if interrupted else "\n")
        sys.stdout.flush()
        return interrupted, error

    # -- %chat config ----------------------------------------------------------------------

    def _describe_config(self) -> str:
        from ..settings import settings

        session = self.session
        lines = [repr(settings())]
        endpoint, conversation = session.endpoint, session.conversation
        if endpoint != Target():
            named = ", ".join(
                f"{key}={value!r}"
                for key, value in dataclasses.asdict(endpoint).items()
                if value is not None
            )
            lines.append(f"%chat uses: {named} (named in a cell)")
        if conversation is None:
            lines.append("conversation: none yet (the model is chosen at the first prompt)")
        else:
            key = "set" if conversation.provider.has_api_key else "not set"
            lines.append(
                f"conversation: {count(len(conversation.messages), 'message')} with "
                f"{_in_use(conversation)}; api_key {key}"
            )
        # A password in a base URL is as secret as a key.
        return redact_userinfo("\n".join(lines))

    # -- %chat fix: remember the last exception ------------------------------------------

    def _after_cell(self, result: ExecutionResult) -> None:
        exc = result.error_in_exec or result.error_before_exec
        if exc is None or getattr(exc, "_nbchat_magic", False):
            return
        if isinstance(exc, KeyboardInterrupt):
            return
        text = format_exception(exc)
        count = result.execution_count
        cell = getattr(result.info, "raw_cell", None) or ""
        self.session.last_error = LastError(cell, text, count)
        if count is not None:
            self.session.errors[count] = text


def _in_use(conversation: Conversation) -> str:
    """``ollama:llama3.2 — from NBCHAT_MODEL``: the model and why it was chosen."""
    reason = conversation.resolution.reason
    return reason if reason.startswith(conversation.model) else f"{conversation.model} ({reason})"


def _shown(exc: E, *extra: str) -> E:
    """``exc`` shown as one line, and marked as the magic's own: not a "last error" for
    ``%chat fix`` to explain."""
    exc._nbchat_magic = True  # type: ignore[attr-defined]
    return one_line(exc, *extra)


def _fenced(text: str, lang: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


# ---------------------------------------------------------------------------------------
# The extension.


_CHAT_LINE = re.compile(r"(?P<indent>[ \t]*)%chat(?P<rest>[ \t].*)?")


def _keep_question_marks(lines: list[str]) -> list[str]:
    """Call the line magic directly when its prompt ends in ``?``.

    IPython reads any line ending in ``?`` as a help request, so ``%chat What is a
    closure?`` would print "Object `closure` not found." and never reach us. This runs
    with IPython's cleanup transforms, before that rule; cell magics are left alone.
    """
    if not lines or lines[0].lstrip().startswith("%%"):
        return lines
    out = []
    for line in lines:
        body = line.rstrip("\r\n")
        match = _CHAT_LINE.fullmatch(body)
        if match is None or not body.rstrip().endswith("?"):
            out.append(line)
            continue
        rest = (match.group("rest") or "").strip()
        call = f"get_ipython().run_line_magic('chat', {rest!r})"
        out.append(f"{match.group('indent')}{call}{line[len(body) :]}")
    return out


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%chat``/``%%chat`` (``%load_ext nbchat``); a second load changes nothing."""
    if isinstance(ipython.magics_manager.registry.get(ChatMagics.__name__), ChatMagics):
        return
    magics = ChatMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("post_run_cell", magics._after_cell)
    if _keep_question_marks not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(_keep_question_marks)
    if "Err" not in ipython.user_ns:
        ipython.user_ns["Err"] = magics.session.errors


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove ``%chat``/``%%chat`` and forget the session (``%unload_ext nbchat``)."""
    magics = ipython.magics_manager.registry.pop(ChatMagics.__name__, None)
    if not isinstance(magics, ChatMagics):
        return
    for kind in ("line", "cell"):
        table = ipython.magics_manager.magics[kind]
        if getattr(table.get("chat"), "__self__", None) is magics:
            del table["chat"]
    with contextlib.suppress(ValueError):
        ipython.events.unregister("post_run_cell", magics._after_cell)
    with contextlib.suppress(ValueError):
        ipython.input_transformers_cleanup.remove(_keep_question_marks)
    with contextlib.suppress(ValueError):
        ipython.configurables.remove(magics)
    if magics.session.view is not None:
        magics.session.view.close()
    if magics.session.compare is not None:
        magics.session.compare.close()
    if ipython.user_ns.get("Err") is magics.session.errors:
        del ipython.user_ns["Err"]
