"""What a tool's return value (or exception) becomes: text for the model, capped.

- ``str`` as it is; ``dict``/``list``/numbers/``None`` as JSON;
- pandas DataFrames and Series, NumPy arrays: a preview (shape, dtypes, the first rows),
  recognised by their type's module so neither library is imported here;
- anything else: its ``repr``.

Everything is capped (:data:`DEFAULT_CAP` characters) with a visible note saying how
much was left out: a model's context is small, and a tool that returns a 10 MB string
must not fill it. An exception becomes one line, ``TypeName: message``, for the model;
the user sees the whole traceback.
"""

from __future__ import annotations

import json
import traceback
import typing

__all__ = ["DEFAULT_CAP", "cap", "error_line", "result_text", "traceback_text"]

#: Characters of a result the model is sent at most.
DEFAULT_CAP = 16 * 1024
#: Rows of a table or array shown in a preview.
PREVIEW_ROWS = 10
_ERROR_LINE_CAP = 500


def cap(text: str, limit: int = DEFAULT_CAP) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with a note saying so; and whether it was cut."""
    if len(text) <= limit:
        return text, False
    note = f"\n… [truncated: {len(text):,} characters in all, the first {limit:,} shown]"
    return text[:limit] + note, True


def result_text(value: object, limit: int = DEFAULT_CAP) -> tuple[str, bool]:
    """The text the model is sent for a tool's return ``value``, and whether it was cut."""
    return cap(_text(value), limit)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    preview = _preview(value)
    if preview is not None:
        return preview
    if value is None or isinstance(value, bool | int | float | dict | list | tuple):
        try:
            return json.dumps(value, ensure_ascii=False, default=_default)
        except (TypeError, ValueError):  # NaN is fine in json; a cycle is not
            pass
    return repr(value)


def _default(value: object) -> object:
    preview = _preview(value)
    return preview if preview is not None else repr(value)


def _module(value: object) -> str:
    return type(value).__module__.split(".", 1)[0]


def _preview(value: object) -> str | None:
    """A capped view of a DataFrame, Series or array, or ``None`` for anything else."""
    module = _module(value)
    kind = type(value).__name__
    try:
        if module == "pandas" and kind == "DataFrame":
            frame: typing.Any = value
            rows, cols = frame.shape
            dtypes = ", ".join(f"{c}: {t}" for c, t in frame.dtypes.items())
            head = frame.head(PREVIEW_ROWS).to_string(max_colwidth=40)
            more = f"\n… {rows - PREVIEW_ROWS:,} more rows" if rows > PREVIEW_ROWS else ""
            return f"DataFrame: {rows:,} rows × {cols:,} columns\ndtypes: {dtypes}\n{head}{more}"
        if module == "pandas" and kind == "Series":
            series: typing.Any = value
            head = series.head(PREVIEW_ROWS).to_string()
            more = f"\n… {len(series) - PREVIEW_ROWS:,} more" if len(series) > PREVIEW_ROWS else ""
            size = f"{len(series):,} values, dtype {series.dtype}"
            return f"Series {series.name!r}: {size}\n{head}{more}"
        if module == "numpy" and kind == "ndarray":
            import numpy

            array: typing.Any = value
            text = numpy.array2string(array, threshold=PREVIEW_ROWS * 10, edgeitems=3)
            return f"ndarray shape={array.shape} dtype={array.dtype}\n{text}"
        if module == "numpy" and hasattr(value, "item"):  # a NumPy scalar
            return json.dumps(typing.cast(typing.Any, value).item(), default=repr)
    except Exception:  # a broken __repr__ of a subclass: fall back to repr()
        return None
    return None


def error_line(exc: BaseException) -> str:
    """``TypeName: message`` on one line, capped: what the model is told of a failure."""
    message = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return line if len(line) <= _ERROR_LINE_CAP else line[: _ERROR_LINE_CAP - 1] + "…"


def traceback_text(exc: BaseException, limit: int = DEFAULT_CAP) -> str:
    """The traceback as Python prints it, without nbchat's own frames, capped."""
    tb = exc.__traceback__
    while tb is not None and "/nbchat/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return cap(text, limit)[0]
