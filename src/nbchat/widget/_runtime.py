"""One copy of the front end per kernel, however many chats.

The chat view's code (``static/widget.js``, ~0.9 MB with KaTeX's fonts) and CSS travel in one
:class:`Runtime` widget model; each :class:`~nbchat.widget.Chat` references it by its
``runtime`` trait ("IPY_MODEL_<id>", ipywidgets' ``widget_serialization``), and its own
``_esm`` is a small loader (``static/loader.js``, from ``js/loader.ts``) that imports the
runtime's code once per page and hands it the chat. So a notebook saved with its widget state
(nbclient saves it by default) holds the code once, not once per chat, and still renders every
chat without a kernel: the runtime's state is saved beside the chats'.

"Per kernel" is per thread here: marimo's ``run`` mode hosts each session as a thread of one
process, sharing imported modules, and each session's page knows only the models opened in
it. In a Jupyter kernel, cells run on one thread, so that is one runtime.
"""

from __future__ import annotations

import hashlib
import pathlib
import threading
import weakref

import anywidget
import traitlets

__all__ = ["Runtime", "shared"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"


class Runtime(anywidget.AnyWidget):
    """The chat view's code and CSS, once; never displayed itself."""

    # Its own module does nothing: the loaders of the chats import ``code``.
    _esm = "export default {};\n"

    code = traitlets.Unicode(read_only=True, help="The view's ES module.").tag(sync=True)
    css = traitlets.Unicode(read_only=True, help="The view's stylesheet.").tag(sync=True)
    version = traitlets.Unicode(
        read_only=True,
        help="A hash of code and CSS: a page imports each version once, whatever its kernels.",
    ).tag(sync=True)

    def __init__(self) -> None:
        # Read now, before the comm opens (super().__init__), whose open message carries them.
        code = (_STATIC / "widget.js").read_text(encoding="utf-8")
        css = (_STATIC / "widget.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(f"{code}\0{css}".encode()).hexdigest()[:16]
        self._bundle = (code, css, digest)
        super().__init__()

    @traitlets.default("code")
    def _default_code(self) -> str:
        return self._bundle[0]

    @traitlets.default("css")
    def _default_css(self) -> str:
        return self._bundle[1]

    @traitlets.default("version")
    def _default_version(self) -> str:
        return self._bundle[2]


_lock = threading.Lock()
_runtimes: weakref.WeakKeyDictionary[threading.Thread, Runtime] = weakref.WeakKeyDictionary()


def shared() -> Runtime:
    """This thread's runtime, opened on first use (again if it was closed)."""
    thread = threading.current_thread()
    with _lock:
        runtime = _runtimes.get(thread)
        if runtime is None or runtime.comm is None:
            runtime = _runtimes[thread] = Runtime()
        return runtime
