"""What a call names from the notebook besides its prompt: ``--image`` and ``--tools``.

A name is the notebook's variable when it has one; else an image is a file path, and a
tool one of nbchat's notebook tools (:mod:`nbchat.tools.notebook`). Everything is looked up
and made ready before any output, so that a refused name fails the cell as one line.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping

from ..errors import InvalidRequest
from ._grammar import Command

__all__ = ["images_for", "tools_for"]


def images_for(
    command: Command, namespace: Mapping[str, object], max_side: int
) -> list[typing.Any]:
    """The images ``--image`` names — a variable of the notebook, else a file path —
    made ready to send, so that a refused one fails the cell before any output."""
    from ..errors import InvalidImage
    from ..images import to_image

    made = []
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


def tools_for(command: Command, namespace: Mapping[str, object]) -> list[typing.Any]:
    """The functions ``--tools`` names: the notebook's, else nbchat's notebook tools."""
    from ..tools import notebook

    found: list[typing.Any] = []
    for name in command.tools or ():
        function = namespace.get(name, getattr(notebook, name, None))
        if name.startswith("_") or not callable(function):
            what = "no function" if function is None else f"{type(function).__name__}"
            raise InvalidRequest(
                f"--tools {name}: the notebook has {what} named {name!r}.",
                hint="Define the function in a cell first (def weather(city: str): …); "
                "built in: variables, describe, run_python.",
            )
        found.append(function)
    return found
