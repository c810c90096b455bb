"""A function described for a model: schema from hints and docstrings, arguments checked
and converted, the registry, and what a return value becomes."""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections.abc import Sequence

import numpy
import pydantic
import pytest
import typing_extensions

from nbchat.errors import InvalidRequest
from nbchat.tools import InvalidArguments, Tool, Tools
from nbchat.tools._docstring import parse_docstring
from nbchat.tools._results import error_line, result_text, traceback_text


def weather(
    city: str, unit: typing.Literal["C", "F"] = "C", days: int | None = None
) -> dict[str, object]:
    """Current weather for a city.

    Args:
        city: The city's name,
            as people write it.
        unit (str): Celsius or Fahrenheit.

    Returns:
        The weather.
    """
    return {}


def test_a_function_becomes_a_tool_with_a_schema_from_its_hints_and_docstring() -> None:
    tool = Tool(weather)
    assert tool.spec() == {
        "name": "weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city's name, as people write it."},
                "unit": {
                    "type": "string",
                    "enum": ["C", "F"],
                    "description": "Celsius or Fahrenheit.",
                    "default": "C",
                },
                "days": {"type": "integer"},
            },
            "required": ["city"],
        },
    }


def test_numpy_and_sphinx_docstrings_describe_parameters() -> None:
    numpy_style = parse_docstring(
        """Sum two numbers.

        More about it.

        Parameters
        ----------
        a : int
            The first.
        b : int
            The second,
            on two lines.

        Returns
        -------
        int
        """
    )
    assert numpy_style.summary == "Sum two numbers.\n\nMore about it."
    assert numpy_style.params == {"a": "The first.", "b": "The second, on two lines."}
    sphinx = parse_docstring("Do it.\n\n:param str a: The first.\n:param b: The second.\n")
    assert sphinx.params == {"a": "The first.", "b": "The second."}


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Place(typing.TypedDict):
    city: str
    country: typing_extensions.NotRequired[str]


@dataclasses.dataclass
class Window:
    """A time window.

    Attributes:
        start: First day (ISO).
    """

    start: str
    days: int = 1


class Order(pydantic.BaseModel):
    item: str
    quantity: int = pydantic.Field(ge=1, description="How many")
    window: Window | None = None


def everything(
    flag: bool,
    ratio: float,
    tags: list[str],
    pair: tuple[int, str],
    scores: dict[str, float],
    color: Color,
    place: Place,
    window: Window,
    order: Order,
    note: typing.Annotated[str, "A note for the record"],
    items: Sequence[int] = (),
    anything: typing.Any = None,
) -> None:
    """Take one of each."""


def test_every_supported_type_has_a_schema_and_converts_back() -> None:
    tool = Tool(everything)
    props = tool.parameters["properties"]
    assert props["flag"] == {"type": "boolean"}
    assert props["ratio"] == {"type": "number"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["color"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["place"]["required"] == ["city"]
    assert props["window"]["properties"]["start"]["description"] == "First day (ISO)."
    assert props["window"]["required"] == ["start"]
    assert props["order"]["properties"]["quantity"]["description"] == "How many"
    assert "$defs" not in json.dumps(props["order"])  # references inlined for Ollama
    assert props["note"] == {"type": "string", "description": "A note for the record"}
    assert props["anything"] == {}
    assert tool.parameters["required"] == [
        "flag", "ratio", "tags", "pair", "scores", "color", "place", "window", "order", "note"
    ]  # fmt: skip

    arguments = tool.arguments(
        json.dumps(
            {
                "flag": True,
                "ratio": 1,
                "tags": ["a"],
                "pair": [3.0, "x"],
                "scores": {"a": 2},
                "color": "blue",
                "place": {"city": "Paris"},
                "window": {"start": "2026-01-01"},
                "order": {"item": "tea", "quantity": 2, "window": {"start": "x", "days": 3}},
                "note": "n",
                "items": [1, 2],
            }
        )
    )
    assert arguments["ratio"] == 1.0
    assert isinstance(arguments["ratio"], float)
    assert arguments["pair"] == (3, "x")
    assert isinstance(arguments["pair"][0], int)
    assert arguments["color"] is Color.BLUE
    assert arguments["place"] == {"city": "Paris"}
    assert arguments["window"] == Window("2026-01-01")
    assert arguments["order"] == Order(item="tea", quantity=2, window=Window("x", 3))
    assert arguments["items"] == [1, 2]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ("{", "The arguments of weather are not valid JSON (Expecting property name"),
        ("[1]", "Invalid arguments for weather: the arguments must be an object (got [1])."),
        ("{}", "Invalid arguments for weather: 'city' is required."),
        ('{"city": 3}', "Invalid arguments for weather: 'city' must be a string (got 3)."),
        (
            '{"city": "Paris", "unit": "K"}',
            'Invalid arguments for weather: \'unit\' must be one of "C", "F" (got "K").',
        ),
        (
            '{"city": "Paris", "days": true}',
            "Invalid arguments for weather: 'days' must be an integer or null (got true).",
        ),
        (
            '{"city": "Paris", "when": 1}',
            "Invalid arguments for weather: unexpected argument 'when' (known: 'city', 'unit', "
            "'days').",
        ),
    ],
)
def test_arguments_that_do_not_fit_say_what_is_wrong(arguments: str, problem: str) -> None:
    with pytest.raises(InvalidArguments) as caught:
        Tool(weather).arguments(arguments)
    assert str(caught.value).startswith(problem)


def test_no_arguments_and_null_for_an_optional_parameter_are_fine() -> None:
    def now() -> str:
        """The time."""
        return ""

    assert Tool(now).arguments("") == {}
    assert Tool(weather).arguments('{"city": "Oslo", "days": null}') == {
        "city": "Oslo",
        "days": None,
    }


def test_a_pydantic_model_validates_its_own_value() -> None:
    def buy(order: Order) -> None:
        """Buy."""

    with pytest.raises(InvalidArguments, match=r"'order'.*greater than or equal to 1"):
        Tool(buy).arguments('{"order": {"item": "tea", "quantity": 0}}')


def _star(*names: str) -> None:
    """Star."""


def _no_hint(city) -> None:  # type: ignore[no-untyped-def]
    """No hint."""


def _bytes(data: bytes) -> None:
    """Bytes."""


def _dict_keys(data: dict[int, str]) -> None:
    """Keys."""


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (_star, "Parameter 'names' of _star() is *names"),
        (_no_hint, "Parameter 'city' of _no_hint() has no type hint."),
        (_bytes, "Parameter 'data' of _bytes() cannot be described: bytes has no JSON schema."),
        (_dict_keys, "Parameter 'data' of _dict_keys() cannot be described: a dict's keys"),
        (lambda x: x, "'<lambda>' is not a name a model can call."),
    ],
)
def test_a_signature_that_cannot_be_described_fails_when_registered(
    function: typing.Callable[..., object], message: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        Tools([function])
    assert caught.value.message.startswith(message)
    assert caught.value.hint


def test_an_unannotated_parameter_with_a_simple_default_takes_its_type() -> None:
    def greet(name="you"):  # type: ignore[no-untyped-def]
        """Greet."""

    assert Tool(greet).parameters["properties"]["name"] == {"type": "string", "default": "you"}


def test_the_registry_adds_removes_and_replaces_at_run_time() -> None:
    def other(x: int) -> int:
        """Other."""
        return x

    tools = Tools([weather])
    tools.add(other)
    assert tools.names() == ["weather", "other"]
    assert "weather" in tools
    assert weather in tools
    assert len(tools) == 2
    tools.remove(weather)
    tools.remove("other")
    assert not tools
    with pytest.raises(InvalidRequest, match="No tool named 'nope'"):
        tools.remove("nope")
    tools.add(other, name="renamed")
    assert [t.name for t in tools] == ["renamed"]
    assert repr(tools) == "<Tools: renamed>"


# ---------------------------------------------------------------------------------------
# What a result becomes.


class DataFrame:
    """Stands in for pandas' (pandas is not a test dependency): what the preview reads."""

    __module__ = "pandas.core.frame"

    def __init__(self, rows: int) -> None:
        self.shape = (rows, 2)
        self.dtypes = {"a": "int64", "b": "object"}
        self.rows = rows

    def head(self, n: int) -> DataFrame:
        head = DataFrame(min(n, self.rows))
        return head

    def to_string(self, **_: object) -> str:
        return "\n".join(f"{i}  {i}  x" for i in range(self.rows))


def test_results_become_text_the_model_can_read() -> None:
    assert result_text("as is") == ("as is", False)
    assert result_text({"temp": 21, "sky": "clear"}) == ('{"temp": 21, "sky": "clear"}', False)
    assert result_text([1, None]) == ("[1, null]", False)
    assert result_text(None) == ("null", False)
    assert result_text(numpy.float64(2.5)) == ("2.5", False)
    text, _ = result_text(numpy.arange(1000).reshape(100, 10))
    assert text.startswith("ndarray shape=(100, 10) dtype=int64\n[[")
    assert "..." in text
    assert len(text) < 1000
    frame, _ = result_text(DataFrame(50))
    assert frame.startswith("DataFrame: 50 rows × 2 columns\ndtypes: a: int64, b: object\n0  0  x")
    assert frame.endswith("… 40 more rows")
    assert result_text({1, 2})[0] == "{1, 2}"  # anything else: its repr


def test_a_long_result_is_capped_with_a_visible_note() -> None:
    text, truncated = result_text("x" * 100_000)
    assert truncated
    assert text.startswith("x" * 16 * 1024 + "\n… [truncated: 100,000 characters in all")
    assert len(text) < 16 * 1024 + 100


def test_an_exception_is_one_line_for_the_model_and_a_traceback_for_the_user() -> None:
    with pytest.raises(ValueError, match="Atlantis") as caught:
        raise ValueError("no such city:\n  'Atlantis'")
    assert error_line(caught.value) == "ValueError: no such city: 'Atlantis'"
    trace = traceback_text(caught.value)
    assert trace.startswith("Traceback (most recent call last):")
    assert "test_an_exception_is_one_line" in trace
    assert error_line(RuntimeError("x" * 2000)).endswith("…")
