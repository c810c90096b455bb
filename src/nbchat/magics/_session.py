"""The state behind the magics of one shell: one conversation continued across cells, the
target it talks to, and the last exception (for ``%chat fix``)."""

from __future__ import annotations

import dataclasses
import re
import traceback
import typing
from collections.abc import Sequence

from ..errors import InvalidRequest
from ._grammar import Command, scalar

if typing.TYPE_CHECKING:
    from ..session import Conversation
    from ..widget._compare import Compare
    from ._output import ExchangeView

__all__ = ["LastError", "MagicSession", "Target", "format_exception"]

_SECRET_KEYS = {"api_key", "apikey", "key", "token", "password", "secret"}
_TRACEBACK_LIMIT = 12_000  # characters of traceback sent by %chat fix (head and tail kept)


@dataclasses.dataclass(frozen=True)
class Target:
    """What the conversation talks to; ``None`` is left to :func:`nbchat.configure` & co."""

    model: str | None = None
    base_url: str | None = None
    system: str | None = None


@dataclasses.dataclass(frozen=True)
class LastError:
    """The last exception a cell raised, as ``%chat fix`` sends it."""

    cell: str
    traceback: str
    execution_count: int | None


class MagicSession:
    """The state behind the magics of one shell: one conversation, continued across cells.

    Defaults live in :func:`nbchat.configure` (``%chat config`` writes there); ``endpoint``
    is what the conversation uses now, so a model named in one call stays for the next.
    """

    def __init__(self) -> None:
        self.endpoint = Target()
        self.conversation: Conversation | None = None
        self._stale = False  # the defaults changed: rebuild the conversation, keep history
        self.last_error: LastError | None = None
        self.errors: dict[int, str] = {}  # the notebook's ``Err``: execution count -> traceback
        self.view: ExchangeView | None = None  # the widget the replies stream into
        self.compare: Compare | None = None  # ``%%chat a,b``: the comparison it goes on with

    def target(self, command: Command) -> Target:
        """The endpoint a call uses: what it names, else what is in use."""
        current = self.endpoint
        if command.model is not None:
            # Another model on the same kind of server keeps the server; another provider
            # starts from its default (an Ollama URL means nothing to OpenAI).
            was = self.conversation.resolution.provider if self.conversation else None
            was = was or _provider_of(current.model)
            now = _provider_of(command.model)
            keep = now is None or now == was
            current = dataclasses.replace(
                current, model=command.model, base_url=current.base_url if keep else None
            )
        if command.base_url is not None:
            current = dataclasses.replace(current, base_url=command.base_url)
        if command.system is not None:
            current = dataclasses.replace(current, system=command.system or None)
        return current

    def conversation_for(self, command: Command) -> Conversation:
        """The conversation a call continues (or starts); commit it with :meth:`commit`.

        Switching model, server or system prompt keeps the history: the next model reads
        what was said so far.
        """
        from ..session import Conversation

        endpoint = self.target(command)
        conversation = self.conversation
        if (
            conversation is not None
            and not (command.new or self._stale)
            and endpoint == self.endpoint
        ):
            return conversation
        keep = not command.new and conversation is not None
        return Conversation(
            endpoint.model,
            system=endpoint.system,
            base_url=endpoint.base_url,
            messages=conversation.messages if keep and conversation is not None else [],
            # The next model reads the images of the history too.
            image_store=conversation.images if keep and conversation is not None else None,
        )

    def commit(self, command: Command, conversation: Conversation) -> None:
        self.endpoint = self.target(command)
        self.conversation = conversation
        self._stale = False

    def reset(self) -> None:
        """Forget the history; the model in use stays in use."""
        self.conversation = None

    def configure(self, settings: Sequence[tuple[str, str]]) -> None:
        """Apply ``key=value`` settings through :func:`nbchat.configure` (all or none)."""
        from ..settings import configure

        changes: dict[str, typing.Any] = {}
        for key, raw in settings:
            if key.lower() in _SECRET_KEYS or key.lower().endswith("api_key"):
                raise InvalidRequest(
                    "API keys cannot be set in a cell: the notebook would keep them.",
                    hint="Set OPENAI_API_KEY or OLLAMA_API_KEY in the environment, "
                    "or call nbchat.configure(api_key=os.environ[...]).",
                )
            value = raw.strip()
            if key in ("model", "base_url", "system"):
                changes[key] = value or None
            else:
                changes[key] = scalar(value) if value else None
        configure(**changes)
        if changes.keys() & {"model", "base_url", "system"}:
            self.endpoint = Target()  # the next call follows the new defaults
            self._stale = True


def _provider_of(model: str | None) -> str | None:
    """The registered provider a model string names (``ollama:x`` → ``ollama``), if any."""
    from .. import providers

    prefix = (model or "").split(":", 1)[0]
    return prefix if prefix in providers.names() else None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def format_exception(exc: BaseException) -> str:
    """The traceback as Python prints it, without IPython's own frames, clipped."""
    tb = exc.__traceback__
    while tb is not None and "IPython" in tb.tb_frame.f_code.co_filename.split("/")[-3:-1]:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    text = _ANSI.sub("", text)
    if len(text) > _TRACEBACK_LIMIT:
        half = _TRACEBACK_LIMIT // 2
        text = f"{text[:half]}\n[… {len(text) - 2 * half} characters left out …]\n{text[-half:]}"
    return text
