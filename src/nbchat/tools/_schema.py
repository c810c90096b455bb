"""Type hints → JSON schema, and the conversion of validated JSON back to those types.

:func:`compile_hint` turns one annotation into a :class:`Shape`: the JSON schema the model
sees, and how a value that passed that schema becomes the Python value the function
expects (an ``Enum`` member, a dataclass, a tuple, a pydantic model…). Supported:
``str``, ``int``, ``float``, ``bool``, ``None``, ``Any``, ``Literal``, ``Enum``,
``list``/``Sequence``/``set``/``tuple``, ``dict``/``Mapping``, ``Optional``/unions,
``Annotated`` (a string, or anything with a ``description``, describes the value),
``TypedDict``, dataclasses, and pydantic models when pydantic is installed. Anything else
raises :class:`Unsupported`, which registration turns into a message naming the parameter.

The schemas stay plain (``type``, ``enum``, ``properties``, ``items``, ``anyOf``): Ollama
reads tool schemas into a fixed Go struct, so keywords beyond these may be dropped there.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from collections.abc import Callable

from ._docstring import parse_docstring

__all__ = ["Shape", "Unsupported", "compile_hint"]

Schema = dict[str, typing.Any]


class Unsupported(Exception):
    """An annotation with no JSON schema; the message says which type."""


@dataclasses.dataclass(frozen=True)
class Shape:
    """The schema of one value and how its validated JSON becomes the Python value."""

    schema: Schema
    convert: Callable[[typing.Any], typing.Any] = lambda value: value
    #: A pydantic model validates (and converts) the value itself; its errors are the
    #: validation errors then.
    validates: bool = False


_PRIMITIVES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def compile_hint(hint: object, *, seen: frozenset[int] = frozenset()) -> Shape:
    """The :class:`Shape` of ``hint`` (already resolved: no string annotations)."""
    if id(hint) in seen:
        raise Unsupported(f"{_name(hint)} refers to itself")
    inner = seen | {id(hint)} if isinstance(hint, type) else seen
    if hint in _PRIMITIVES:
        kind = _PRIMITIVES[hint]
        if hint is float:  # JSON has one number type: 3 is a fine float
            return Shape({"type": kind}, float)
        if hint is int:  # 3.0 passes as an integer (models write it); the function gets 3
            return Shape({"type": kind}, int)
        return Shape({"type": kind})
    if hint is typing.Any or hint is object:
        return Shape({})
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is not None and getattr(origin, "_name", "") in ("Required", "NotRequired"):
        return compile_hint(args[0], seen=inner)  # a TypedDict's key marks (required_keys says)
    if origin is typing.Annotated:
        shape = compile_hint(args[0], seen=inner)
        described = _annotated_description(args[1:])
        if described:
            return dataclasses.replace(shape, schema={**shape.schema, "description": described})
        return shape
    if origin is typing.Literal:
        return _literal(args)
    if origin in (typing.Union, types.UnionType):
        return _union(args, inner)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence) or hint in (
        list,
        collections.abc.Sequence,
    ):
        item = compile_hint(args[0], seen=inner) if args else Shape({})
        return Shape({"type": "array", "items": item.schema}, _each(item, list))
    if origin in (set, frozenset, collections.abc.Set) or hint in (set, frozenset):
        item = compile_hint(args[0], seen=inner) if args else Shape({})
        cls = frozenset if origin is frozenset or hint is frozenset else set
        schema = {"type": "array", "items": item.schema, "uniqueItems": True}
        return Shape(schema, _each(item, cls))
    if origin is tuple or hint is tuple:
        return _tuple(args, inner)
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) or hint in (
        dict,
        collections.abc.Mapping,
    ):
        return _mapping(args, inner)
    if isinstance(hint, type) and typing.is_typeddict(hint):
        return _typeddict(hint, inner)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, inner)
    if _is_pydantic_model(hint):
        return _pydantic(hint)
    raise Unsupported(f"{_name(hint)} has no JSON schema")


def _name(hint: object) -> str:
    return getattr(hint, "__name__", None) or repr(hint).replace("typing.", "")


def _annotated_description(metadata: tuple[object, ...]) -> str:
    for item in metadata:
        if isinstance(item, str) and item.strip():
            return item.strip()
        described = getattr(item, "description", None)  # pydantic.Field(description=…)
        if isinstance(described, str) and described.strip():
            return described.strip()
    return ""


def _json_type(value: object) -> str:
    for kind, name in _PRIMITIVES.items():
        if type(value) is kind:
            return name
    raise Unsupported(f"the value {value!r} is not a JSON value")


def _literal(values: tuple[object, ...]) -> Shape:
    kinds = sorted({_json_type(v) for v in values})
    schema: Schema = {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(values)}
    return Shape(schema)


def _enum(cls: type[enum.Enum]) -> Shape:
    values = [member.value for member in cls]
    shape = _literal(tuple(values))
    schema = dict(shape.schema)
    doc = cls.__doc__
    if doc and doc != enum.Enum.__doc__ and not doc.startswith("An enumeration."):
        schema["description"] = parse_docstring(doc).summary
    return Shape(schema, cls)


def _union(args: tuple[object, ...], seen: frozenset[int]) -> Shape:
    options = [a for a in args if a is not type(None)]
    nullable = len(options) < len(args)
    shapes = [compile_hint(a, seen=seen) for a in options]
    if len(shapes) == 1:
        shape = shapes[0]
        if not nullable:
            return shape
        schema = dict(shape.schema)
        kind = schema.get("type")
        if isinstance(kind, str) and set(schema) <= {"type", "description", "enum"}:
            schema["type"] = [kind, "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        else:
            schema = {"anyOf": [shape.schema, {"type": "null"}]}
        return Shape(schema, _unless_none(shape.convert), shape.validates)
    if nullable:
        shapes.append(Shape({"type": "null"}))
    # A value is converted by the first option whose schema it satisfies.
    from ._validate import check

    def convert(value: object) -> object:
        for shape in shapes:
            if not check(value, shape.schema):
                return shape.convert(value)
        return value

    return Shape({"anyOf": [s.schema for s in shapes]}, convert)


def _unless_none(convert: Callable[[typing.Any], typing.Any]) -> Callable[[typing.Any], typing.Any]:
    return lambda value: None if value is None else convert(value)


def _each(
    item: Shape, cls: Callable[[typing.Any], typing.Any]
) -> Callable[[typing.Any], typing.Any]:
    return lambda values: cls(item.convert(v) for v in values)


def _tuple(args: tuple[object, ...], seen: frozenset[int]) -> Shape:
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        item = compile_hint(args[0], seen=seen) if args else Shape({})
        return Shape({"type": "array", "items": item.schema}, _each(item, tuple))
    shapes = [compile_hint(a, seen=seen) for a in args]
    schema = {
        "type": "array",
        "prefixItems": [s.schema for s in shapes],
        "minItems": len(shapes),
        "maxItems": len(shapes),
    }
    return Shape(
        schema, lambda values: tuple(s.convert(v) for s, v in zip(shapes, values, strict=False))
    )


def _mapping(args: tuple[object, ...], seen: frozenset[int]) -> Shape:
    if args and args[0] is not str and args[0] is not typing.Any:
        raise Unsupported("a dict's keys must be str (JSON object keys are strings)")
    value = compile_hint(args[1], seen=seen) if len(args) == 2 else Shape({})
    schema: Schema = {"type": "object"}
    if value.schema:
        schema["additionalProperties"] = value.schema
    return Shape(schema, lambda obj: {k: value.convert(v) for k, v in obj.items()})


def _object(
    cls: type,
    fields: dict[str, object],
    required: set[str],
    seen: frozenset[int],
    build: Callable[[dict[str, typing.Any]], typing.Any],
) -> Shape:
    params = parse_docstring(cls.__doc__).params
    shapes: dict[str, Shape] = {}
    for name, hint in fields.items():
        try:
            shapes[name] = compile_hint(hint, seen=seen)
        except Unsupported as exc:
            raise Unsupported(f"{cls.__name__}.{name}: {exc}") from None
    properties: Schema = {}
    for name, shape in shapes.items():
        schema = dict(shape.schema)
        if params.get(name) and "description" not in schema:
            schema["description"] = params[name]
        properties[name] = schema
    schema = {
        "type": "object",
        "properties": properties,
        "required": [n for n in fields if n in required],
        "additionalProperties": False,
    }
    summary = parse_docstring(cls.__doc__).summary
    if summary and not summary.startswith(f"{cls.__name__}("):  # not dataclass's own
        schema["description"] = summary

    def convert(obj: dict[str, typing.Any]) -> object:
        return build({k: shapes[k].convert(v) if k in shapes else v for k, v in obj.items()})

    return Shape(schema, convert)


def _typeddict(cls: type, seen: frozenset[int]) -> Shape:
    hints = typing.get_type_hints(cls, include_extras=True)
    required = set(getattr(cls, "__required_keys__", hints))
    # With string annotations (``from __future__ import annotations``) Python 3.11 does
    # not see NotRequired in __required_keys__; the resolved hints still say it.
    for name, hint in hints.items():
        mark = getattr(typing.get_origin(hint), "_name", "")
        if mark == "NotRequired":
            required.discard(name)
        elif mark == "Required":
            required.add(name)
    return _object(cls, hints, required, seen, dict)


def _dataclass(cls: type, seen: frozenset[int]) -> Shape:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: hints.get(f.name, typing.Any) for f in dataclasses.fields(cls) if f.init}
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return _object(cls, fields, required, seen, lambda kwargs: cls(**kwargs))


def _is_pydantic_model(hint: object) -> bool:
    import sys

    pydantic = sys.modules.get("pydantic")  # only if the user's code has imported it
    base = getattr(pydantic, "BaseModel", None)
    return base is not None and isinstance(hint, type) and issubclass(hint, base)


def _pydantic(cls: typing.Any) -> Shape:
    schema = inline_refs(cls.model_json_schema())
    schema.pop("title", None)
    return Shape(schema, cls.model_validate, validates=True)


def inline_refs(schema: Schema) -> Schema:
    """``schema`` with its local ``$ref``\\ s replaced by the definitions they name (Ollama
    reads no ``$defs``). A recursive model keeps its reference, and is left to pydantic."""
    defs: Schema = schema.get("$defs", {})

    def walk(node: typing.Any, depth: int) -> typing.Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and depth < 8:
                target = defs.get(ref.rsplit("/", 1)[1])
                if target is not None:
                    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
                    return walk(merged, depth + 1)
            return {k: walk(v, depth) for k, v in node.items() if k not in ("$defs", "title")}
        if isinstance(node, list):
            return [walk(v, depth) for v in node]
        return node

    out: Schema = walk(schema, 0)
    return out
