"""Built-in tools that let a model look at the notebook (opt-in: pass them as tools).

>>> from nbchat.tools import notebook
>>> chat = nbchat.Chat("ollama:qwen3", tools=[notebook.variables, notebook.describe])

- :func:`variables` — the user's globals: names, types, shapes or lengths;
- :func:`describe` — one of them in more detail: dtypes, a capped head, a docstring;
- :func:`run_python` — runs code in the user's namespace. It asks for approval on **every**
  call, whatever the chat's policy (``"always"`` and "Always allow" do not apply to it).

They read the IPython user namespace when there is one, else ``__main__``'s globals.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import sys
import types
import typing

from ._results import PREVIEW_ROWS, cap, error_line

__all__ = ["describe", "run_python", "variables"]

_HIDDEN = {"In", "Out", "exit", "quit", "get_ipython", "open"}
_HEAD_CAP = 4000


def _namespace() -> dict[str, typing.Any]:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    if shell is not None:
        ns: dict[str, typing.Any] = shell.user_ns
        return ns
    return vars(sys.modules["__main__"])


def _visible(name: str, value: object) -> bool:
    return (
        not name.startswith("_")
        and name not in _HIDDEN
        and not isinstance(value, types.ModuleType)
        and not (isinstance(value, type) and value.__module__ == "typing")
    )


def _size(value: object) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return "shape " + "×".join(str(n) for n in shape)
    if isinstance(value, str | bytes):
        return f"{len(value)} characters" if isinstance(value, str) else f"{len(value)} bytes"
    if isinstance(value, typing.Sized) and not isinstance(value, type):
        with contextlib.suppress(Exception):
            return f"length {len(value)}"
    return ""


def _kind(value: object) -> str:
    cls = type(value)
    module = cls.__module__
    return (
        cls.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{cls.__qualname__}"
    )


def variables() -> list[dict[str, str]]:
    """The variables defined in the notebook: name, type, and shape or length.

    Private names (starting with _), modules and IPython's own names are left out.
    """
    out = []
    for name, value in list(_namespace().items()):
        if _visible(name, value):
            item = {"name": name, "type": _kind(value)}
            size = _size(value)
            if size:
                item["size"] = size
            out.append(item)
    return out


def describe(name: str) -> dict[str, typing.Any]:
    """A closer look at one notebook variable: its type, shape and dtypes, the first rows
    of a table, array or sequence, or the signature and docstring of a function.

    Args:
        name: The variable's name, as ``variables()`` lists it.
    """
    ns = _namespace()
    if name not in ns:
        close = [n for n in ns if n.lower() == name.lower() and _visible(n, ns[n])]
        raise NameError(
            f"no variable {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        )
    value = ns[name]
    info: dict[str, typing.Any] = {"name": name, "type": _kind(value)}
    size = _size(value)
    if size:
        info["size"] = size
    dtypes = getattr(value, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):
        info["dtypes"] = {str(k): str(v) for k, v in dtypes.items()}
    elif getattr(value, "dtype", None) is not None:
        info["dtype"] = str(getattr(value, "dtype", ""))
    if callable(value) and not hasattr(value, "shape"):
        with contextlib.suppress(TypeError, ValueError):
            info["signature"] = f"{name}{inspect.signature(value)}"
        info["doc"] = cap(inspect.getdoc(value) or "", _HEAD_CAP)[0]
        return info
    info["head"] = _head(value)
    return info


def _head(value: object) -> str:
    head = getattr(value, "head", None)
    if callable(head):
        with contextlib.suppress(Exception):
            shown = head(PREVIEW_ROWS)
            to_string = getattr(shown, "to_string", None)
            return cap(to_string() if callable(to_string) else repr(shown), _HEAD_CAP)[0]
    if type(value).__module__.startswith("numpy"):
        import numpy

        array: typing.Any = value
        return cap(numpy.array2string(array, threshold=100, edgeitems=3), _HEAD_CAP)[0]
    if isinstance(value, dict):
        items = list(value.items())[:PREVIEW_ROWS]
        more = f", … {len(value) - PREVIEW_ROWS} more" if len(value) > PREVIEW_ROWS else ""
        return cap("{" + ", ".join(f"{k!r}: {v!r}" for k, v in items) + more + "}", _HEAD_CAP)[0]
    if isinstance(value, list | tuple):
        more = f", … {len(value) - PREVIEW_ROWS} more" if len(value) > PREVIEW_ROWS else ""
        return cap(repr(value[:PREVIEW_ROWS])[:-1] + more + repr(value)[-1:], _HEAD_CAP)[0]
    return cap(repr(value), _HEAD_CAP)[0]


def run_python(code: str) -> dict[str, str]:
    """Run Python code in the notebook's namespace (as a cell would, without output).

    Returns what it printed, the value of its last expression, and the error if it
    raised. Every call asks the user first.

    Args:
        code: Python source: statements, optionally ending in an expression.
    """
    ns = _namespace()
    out = io.StringIO()
    result: dict[str, str] = {}
    try:
        tree = ast.parse(code, "<run_python>", "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(tree, "<run_python>", "exec"), ns)
            if last is not None:
                expression = ast.Expression(typing.cast(ast.Expr, last).value)
                value = eval(compile(expression, "<run_python>", "eval"), ns)
                if value is not None:
                    result["result"] = cap(repr(value), _HEAD_CAP)[0]
    except Exception as exc:
        result["error"] = error_line(exc)
    printed = out.getvalue()
    if printed:
        result["stdout"] = cap(printed, _HEAD_CAP)[0]
    return {k: result[k] for k in ("stdout", "result", "error") if k in result}


run_python.__nbchat_always_ask__ = True  # type: ignore[attr-defined]
