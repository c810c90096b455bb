"""``nbchat/__init__.py`` is the table of contents: this pins it."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import nbchat

PUBLIC = [
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


def test_all_is_sorted_and_pinned() -> None:
    assert nbchat.__all__ == sorted(nbchat.__all__) == PUBLIC


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name in dir(nbchat)
        if not name.startswith("_")
        and name != "annotations"  # from __future__ import annotations
        and not isinstance(getattr(nbchat, name), types.ModuleType)
    }
    assert public == set(PUBLIC) - {"__version__"}


def test_exported_objects_say_they_are_from_nbchat() -> None:
    for name in PUBLIC:
        value = getattr(nbchat, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == "nbchat", name


def test_every_error_is_an_nbchat_error() -> None:
    errors = [getattr(nbchat, n) for n in PUBLIC if n.endswith(("Error", "Failed"))]
    errors += [nbchat.ContextTooLong, nbchat.InvalidOption, nbchat.UnknownProvider]
    errors += [nbchat.ModelNotFound, nbchat.RateLimited, nbchat.ServerUnreachable]
    errors += [nbchat.ConversationBusy, nbchat.InvalidRequest, nbchat.StreamInterrupted]
    errors += [nbchat.IdleTimeout, nbchat.BadRequest, nbchat.StepLimitReached]
    errors += [nbchat.ToolsNotSupported, nbchat.InvalidImage, nbchat.ModelCannotSee]
    errors += [nbchat.FileInUse]
    for error in errors:
        assert issubclass(error, nbchat.NbchatError), error


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert nbchat.__version__ == version("jupyter-nbchat")


def test_importing_nbchat_does_not_import_the_widget_stack() -> None:
    code = (
        "import sys, nbchat\n"
        "heavy = ('ipywidgets', 'anywidget', 'IPython', 'httpx', 'PIL', 'numpy', 'matplotlib')\n"
        "print(sorted(m for m in heavy "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_chat_is_imported_on_first_use() -> None:
    code = (
        "import sys, nbchat\n"
        "chat = nbchat.Chat\n"
        "print(chat.__module__, 'anywidget' in sys.modules, chat is nbchat.Chat)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["nbchat", "True", "True"]
