"""A :class:`Tool`: a Python function described for a model, and its arguments checked.

``Tool(fn)`` reads the function's signature, type hints and docstring once, when it is
registered; a parameter that cannot be described fails then, naming the parameter.
:meth:`Tool.arguments` turns the JSON text a model wrote into the keyword arguments to
call with, or raises :class:`InvalidArguments` with the sentence the model is sent back.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping

from ..errors import InvalidRequest
from ..providers.base import ToolSpec
from ._docstring import parse_docstring
from ._schema import Shape, Unsupported, compile_hint
from ._validate import check

__all__ = ["InvalidArguments", "Tool", "ToolSpec"]

#: What OpenAI accepts as a function name (and so what every server does).
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HINT = (
    "Parameters can be str, int, float, bool, Literal, Enum, list[...], dict[str, ...], "
    "Optional, a TypedDict, a dataclass or a pydantic model."
)


class InvalidArguments(Exception):
    """Arguments a model wrote that cannot reach the function; ``str()`` is what it is told."""


class Tool:
    """A function the model may call: its name, description, parameter schema.

    ``always_ask`` makes every call ask the user, whatever the approval policy says
    (``run_python`` is such a tool).
    """

    def __init__(
        self,
        function: Callable[..., typing.Any],
        *,
        name: str | None = None,
        description: str | None = None,
        always_ask: bool = False,
    ) -> None:
        if isinstance(function, Tool):
            raise TypeError("already a Tool")
        if not callable(function):
            raise InvalidRequest(
                f"A tool must be a function, not {type(function).__name__}.",
                hint="Pass the function itself: tools=[weather].",
            )
        given = name or getattr(function, "__name__", None)
        if not isinstance(given, str) or not _NAME.match(given):
            raise InvalidRequest(
                f"{given or 'This function'!r} is not a name a model can call.",
                hint="Use letters, digits, _ and - (at most 64), or pass name=…: "
                "Tool(fn, name='weather').",
            )
        self.name = given
        self.function = function
        self.always_ask = always_ask
        doc = parse_docstring(inspect.getdoc(function))
        self.description = description if description is not None else doc.summary
        self._shapes, self.parameters, self._validation = _describe(function, given, doc.params)

    @property
    def is_async(self) -> bool:
        function = getattr(self.function, "__call__", self.function)  # noqa: B004
        return inspect.iscoroutinefunction(self.function) or inspect.iscoroutinefunction(function)

    def spec(self) -> ToolSpec:
        """The tool as a request describes it."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def arguments(self, text: str) -> dict[str, typing.Any]:
        """Keyword arguments from the JSON ``text`` a model wrote; or :class:`InvalidArguments`."""
        if not text.strip():
            data: object = {}  # "" is how some servers write "no arguments"
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidArguments(
                    f"The arguments of {self.name} are not valid JSON ({exc.msg} at "
                    f"character {exc.pos}). Call it again with a JSON object."
                ) from None
        problem = check(data, self._validation)
        if problem:
            raise InvalidArguments(f"Invalid arguments for {self.name}: {problem}.")
        assert isinstance(data, dict)
        out: dict[str, typing.Any] = {}
        for key, value in data.items():
            shape = self._shapes[key]
            try:
                out[key] = shape.convert(value)
            except Exception as exc:  # pydantic's ValidationError, a dataclass's own check
                text = " ".join(str(exc).split())
                raise InvalidArguments(
                    f"Invalid arguments for {self.name}: '{key}': {text[:300]}."
                ) from None
        return out

    def __repr__(self) -> str:
        props = ", ".join(self.parameters.get("properties", {}))
        return f"<Tool {self.name}({props})>"


def _describe(
    function: Callable[..., typing.Any], name: str, described: Mapping[str, str]
) -> tuple[dict[str, Shape], dict[str, typing.Any], dict[str, typing.Any]]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"The signature of {name}() cannot be read.",
            hint="Wrap it in a def with typed parameters.",
        ) from None
    hints = _hints(function, name, signature)
    shapes: dict[str, Shape] = {}
    properties: dict[str, typing.Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        where = f"Parameter {param.name!r} of {name}()"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidRequest(
                f"{where} is *{param.name}: a model passes named arguments only.",
                hint="Name every parameter the model may pass.",
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise InvalidRequest(
                f"{where} is positional-only: a model passes named arguments.",
                hint="Drop the / from the signature.",
            )
        hint = hints.get(param.name, inspect.Parameter.empty)
        has_default = param.default is not inspect.Parameter.empty
        if hint is inspect.Parameter.empty:
            if has_default and type(param.default) in (str, int, float, bool):
                hint = type(param.default)
            else:
                raise InvalidRequest(
                    f"{where} has no type hint.",
                    hint=f"Annotate it, e.g. {param.name}: str. {_HINT}",
                )
        try:
            shape = compile_hint(hint)
        except Unsupported as exc:
            raise InvalidRequest(f"{where} cannot be described: {exc}.", hint=_HINT) from None
        schema = dict(shape.schema)
        if has_default and param.default is None:
            schema = _without_null(schema)  # optional; null is accepted anyway (below)
            shape = _allow_null(shape)
        if described.get(param.name) and "description" not in schema:
            schema["description"] = described[param.name]
        if has_default and _jsonable(param.default) and param.default is not None:
            schema.setdefault("default", param.default)
        properties[param.name] = schema
        shapes[param.name] = shape
        if not has_default:
            required.append(param.name)
    parameters: dict[str, typing.Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
    }
    # What the model may send: each parameter's own schema (with null wherever None is the
    # default), and nothing else. A pydantic model checks its value itself.
    validation: dict[str, typing.Any] = {
        "type": "object",
        "properties": {
            n: {"type": "object"} if s.validates else s.schema for n, s in shapes.items()
        },
        "required": required,
        "additionalProperties": False,
    }
    return shapes, parameters, validation


def _hints(
    function: Callable[..., typing.Any], name: str, signature: inspect.Signature
) -> dict[str, object]:
    target = function if inspect.isfunction(function) or inspect.ismethod(function) else None
    target = target or getattr(function, "__call__", None)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True) if target else {}
    except Exception:
        pass
    # Find the parameter whose annotation does not resolve, to name it.
    globalns = getattr(target, "__globals__", {})
    for param in signature.parameters.values():
        annotation = param.annotation
        if isinstance(annotation, str):
            try:
                eval(annotation, globalns)
            except Exception as exc:
                raise InvalidRequest(
                    f"The type hint of parameter {param.name!r} of {name}() does not resolve: "
                    f"{type(exc).__name__}: {exc}.",
                    hint="Import the type where the function is defined.",
                ) from None
    return {k: v.annotation for k, v in signature.parameters.items()}


def _without_null(schema: dict[str, typing.Any]) -> dict[str, typing.Any]:
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
        if "enum" in schema:
            schema["enum"] = [v for v in schema["enum"] if v is not None]
    elif "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o != {"type": "null"}]
        if len(options) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **options[0]}
        else:
            schema = {**schema, "anyOf": options}
    return schema


def _allow_null(shape: Shape) -> Shape:
    schema = shape.schema
    kind = schema.get("type")
    if schema == {} or kind == "null" or (isinstance(kind, list) and "null" in kind):
        return shape
    if "anyOf" in schema and {"type": "null"} in schema["anyOf"]:
        return shape
    convert = shape.convert
    return Shape(
        {"anyOf": [schema, {"type": "null"}]},
        lambda v: None if v is None else convert(v),
        shape.validates,
    )


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
