"""nbchat: streaming LLM chat for Jupyter notebooks.

>>> import nbchat
>>> chat = nbchat.Chat("ollama:llama3.2")   # the widget
>>> nbchat.ask("What is a closure?")          # one reply, as a string
>>> %load_ext nbchat                          # then %chat / %%chat
>>> nbchat.Chat("ollama:qwen3", tools=[weather])  # the model calls your functions

``Chat`` is imported on first use, so ``import nbchat`` stays light (no ipywidgets).
"""

from __future__ import annotations

import typing

from .api import ask, astream, models, stream
from .errors import (
    AuthenticationFailed,
    BadRequest,
    ContextTooLong,
    ConversationBusy,
    ConversationFileError,
    FileInUse,
    IdleTimeout,
    InvalidImage,
    InvalidOption,
    InvalidRequest,
    ModelCannotSee,
    ModelNotFound,
    NbchatError,
    ProtocolError,
    RateLimited,
    ResponseError,
    ServerError,
    ServerUnreachable,
    StepLimitReached,
    StreamError,
    StreamInterrupted,
    ToolsNotSupported,
    UnknownProvider,
)
from .session import Conversation, Turn
from .settings import configure

if typing.TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .widget import Chat
    from .widget._compare import Compare

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "Chat",
    "Compare",
    "ContextTooLong",
    "Conversation",
    "ConversationBusy",
    "ConversationFileError",
    "FileInUse",
    "IdleTimeout",
    "InvalidImage",
    "InvalidOption",
    "InvalidRequest",
    "ModelCannotSee",
    "ModelNotFound",
    "NbchatError",
    "ProtocolError",
    "RateLimited",
    "ResponseError",
    "ServerError",
    "ServerUnreachable",
    "StepLimitReached",
    "StreamError",
    "StreamInterrupted",
    "ToolsNotSupported",
    "Turn",
    "UnknownProvider",
    "__version__",
    "ask",
    "astream",
    "configure",
    "load_ipython_extension",
    "models",
    "stream",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext nbchat``: register ``%chat`` and ``%%chat``."""
    from . import magics

    magics.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext nbchat``."""
    from . import magics

    magics.unload_ipython_extension(ipython)


def _public(obj: typing.Any) -> None:
    # Show nbchat.Conversation, not nbchat.session.Conversation, in reprs and tracebacks.
    if getattr(obj, "__module__", "").startswith("nbchat."):
        obj.__module__ = "nbchat"


def __getattr__(name: str) -> typing.Any:
    # Loaded on first use: Chat pulls in anywidget and ipywidgets (~250 ms), and reading
    # the version needs importlib.metadata (a third of what importing nbchat costs).
    if name == "Chat":
        from .widget import Chat

        _public(Chat)
        globals()["Chat"] = Chat
        return Chat
    if name == "Compare":
        from .widget._compare import Compare

        _public(Compare)
        globals()["Compare"] = Compare
        return Compare
    if name == "__version__":
        import importlib.metadata

        try:
            version = importlib.metadata.version("jupyter-nbchat")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
            version = "0+unknown"
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module 'nbchat' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"Chat", "Compare", "__version__"})


for _name in __all__:
    if _name not in ("Chat", "Compare", "__version__"):
        _public(globals()[_name])
del _name
