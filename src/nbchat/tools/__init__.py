"""Tools: Python functions a model may call, with the user's approval.

>>> def weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
...     '''Current weather for a city.'''
>>> chat = nbchat.Chat("ollama:qwen3", tools=[weather])       # asks before each call
>>> chat.tools.add(other); chat.tools.remove("weather")

- :class:`Tool` describes a function: name, description (its docstring), and a JSON
  schema from its signature and type hints (parameters without a default are required;
  Google/NumPy/Sphinx docstrings describe them). A signature that cannot be described
  fails when the tool is registered, naming the parameter.
- :class:`Tools` is a chat's registry.
- ``approve=`` is ``"ask"`` (default), ``"always"`` or a function
  ``approve(name, arguments) -> bool | (bool, reason)`` (:mod:`._approval`).
- :mod:`nbchat.tools.notebook` has opt-in tools that read the notebook: ``variables``,
  ``describe``, ``run_python`` (which asks on every call).

The loop that runs them inside a turn is :mod:`nbchat.session._loop`.
"""

from __future__ import annotations

from ._approval import (
    Approval,
    ApprovePolicy,
    Asker,
    Decision,
    NobodyAsker,
    PendingCall,
    StdinAsker,
)
from ._registry import ToolLike, Tools
from ._results import DEFAULT_CAP, error_line, result_text
from ._run import Outcome, run_tool
from ._tool import InvalidArguments, Tool, ToolSpec

__all__ = [
    "DEFAULT_CAP",
    "Approval",
    "ApprovePolicy",
    "Asker",
    "Decision",
    "InvalidArguments",
    "NobodyAsker",
    "Outcome",
    "PendingCall",
    "StdinAsker",
    "Tool",
    "ToolLike",
    "ToolSpec",
    "Tools",
    "error_line",
    "result_text",
    "run_tool",
]
