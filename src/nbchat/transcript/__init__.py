"""Messages ↔ documents: Markdown and HTML exports, and the JSON save format.

- :func:`to_markdown` reads well on GitHub: a heading per role, a ``model · tokens`` line
  under each reply, content verbatim (math and code intact), errors as a quoted line.
  ``inert=True`` (for notebook outputs, which JupyterLab renders *trusted*) passes the text
  through :func:`inert_markdown` so that model output cannot become live HTML there.
- :func:`to_html` is the static fallback for places without the widget's JavaScript
  (nbviewer, nbconvert, GitHub): everything escaped, no script, math left as TeX source.
- An image shows as a placeholder line naming its size and format (``[image: 1024x768
  PNG]``, with a multiplication sign; the brackets escaped, so that no link definition in
  a reply can turn it into a link); with ``thumbnails=True`` (exports) its thumbnail is
  embedded as a ``data:`` URL. Nothing ever points at a remote image.
- A reply that called tools shows each call compactly where it happened, one line:
  name, arguments, how it ended and the start of its result (:func:`tool_line`); the
  JSON keeps everything (arguments, results, tracebacks).
- :func:`dumps` / :func:`loads` are the JSON format, versioned, lossless for messages,
  system prompt, model, base URL and options. It has no field for a key.

  Versions: 1 (nbchat 0.1: one list, no ``parent``) reads as one branch, each message's
  parent the one before it; 2 added the message schema's ``parent`` and ``parts``
  (:data:`nbchat.messages.SCHEMA_VERSION`); 3 holds a whole tree: every message of every
  branch in the order they were made, ``leaf`` (the last message on screen) and
  ``active`` (which child each fork shows), plus what an autosaved file's journal needs
  (``journal``: see :mod:`nbchat.session.autosave`). A version-2 file reads as a tree
  whose visible branch ends at its last message.

One module per document: :mod:`._markdown`, :mod:`._inert` (the Markdown made safe for
trusted outputs), :mod:`._html` and :mod:`._json`; :mod:`._lines` holds what the Markdown
and HTML say alike (role titles, the meta line, a tool call's line, an image's label).
"""

from __future__ import annotations

from ._html import to_html
from ._inert import inert_markdown
from ._json import FORMAT, VERSION, Transcript, dumps, loads
from ._lines import count, image_label, meta_line, tool_line
from ._markdown import to_markdown

__all__ = [
    "FORMAT",
    "VERSION",
    "Transcript",
    "count",
    "dumps",
    "image_label",
    "inert_markdown",
    "loads",
    "meta_line",
    "to_html",
    "to_markdown",
    "tool_line",
]
