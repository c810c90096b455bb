"""The demo provider: offline replies that exercise the renderer, and scripts for tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from nbchat import testing
from nbchat.errors import ModelNotFound, ServerError, StreamInterrupted
from nbchat.providers import demo, get
from nbchat.providers._demo_replies import LONG_REPLY_TOKENS
from nbchat.providers.base import (
    ChatRequest,
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    Usage,
    WireMessage,
)


def ask(text: str) -> list[WireMessage]:
    return [{"role": "user", "content": text}]


async def collect(
    model: str, messages: Sequence[WireMessage], **options: object
) -> list[StreamEvent]:
    provider = demo.DemoProvider()
    request = ChatRequest(
        model=model, messages=messages, options={"tokens_per_second": 0, **options}
    )
    return [event async for event in provider.astream(request)]


def text_of(events: Sequence[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_registered_as_demo_and_labelled_demo() -> None:
    cls = get("demo")
    assert cls is demo.DemoProvider
    assert (cls.name, cls.label) == ("demo", "demo")
    assert repr(cls()) == "<DemoProvider (offline)>"


async def test_amodels_lists_the_builtin_models() -> None:
    assert await demo.DemoProvider().amodels() == [
        "showcase",
        "echo",
        "math",
        "code",
        "long",
        "reasoning",
        "tools",
    ]


def test_tokenize_joins_back_exactly() -> None:
    text = "Hello,  world!\n\n```python\nsupercalifragilistic = 1\n```\n  "
    tokens = demo.tokenize(text)
    assert "".join(tokens) == text
    assert all(len(t.strip()) <= 8 for t in tokens)


async def test_showcase_exercises_every_renderer_feature() -> None:
    events = await collect("showcase", ask("Tell me about notebooks"))
    text = text_of(events)
    assert text.startswith("# Tell me about notebooks")
    assert "**demo**" in text  # labelled
    for piece in (
        "\n## A list\n",
        "\n- **Bold**",
        "|:------|",  # a GFM table
        "```python\n",
        r"$e^{i\pi} + 1 = 0$",  # inline $…$
        "$$\n\\int",  # display $$…$$
        r"\(a^2 + b^2 = c^2\)",  # inline \(…\)
        "\\[\n\\sum",  # display \[…\]
        "it costs $5 and $10",  # currency stays text
    ):
        assert piece in text
    assert isinstance(events[-1], Finish)
    assert events[-1].reason == "stop"
    usage = [e for e in events if isinstance(e, Usage)]
    assert usage
    assert usage[0].completion_tokens == sum(isinstance(e, TextDelta) for e in events)
    assert usage[0].prompt_tokens == len(demo.tokenize("Tell me about notebooks"))


async def test_showcase_leans_to_what_the_prompt_asks() -> None:
    math = text_of(await collect("showcase", ask("Show me an equation")))
    code = text_of(await collect("showcase", ask("Write a Python function")))
    assert "## More math" in math
    assert "```python" not in math
    assert "```javascript" in code
    assert "## More math" not in code


async def test_echo_math_code_models() -> None:
    assert text_of(await collect("echo", ask("exactly  this\n"))) == "exactly  this\n"
    assert r"\begin{pmatrix}" in text_of(await collect("math", ask("x")))
    assert "```bash" in text_of(await collect("code", ask("x")))


async def test_long_is_ten_thousand_tokens_of_markdown_and_math() -> None:
    events = await collect("long", ask("go"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == LONG_REPLY_TOKENS == 10_000
    text = text_of(events)
    assert text.count("$$") >= 100
    assert text.count("```python") >= 50


async def test_reasoning_model_streams_reasoning_first() -> None:
    events = await collect("reasoning", ask("why?"))
    kinds = [type(e) for e in events if isinstance(e, (TextDelta, ReasoningDelta))]
    first_text = kinds.index(TextDelta)
    assert first_text > 0
    assert set(kinds[:first_text]) == {ReasoningDelta}
    assert ReasoningDelta not in kinds[first_text:]


async def test_continuing_a_partial_reply_streams_the_rest() -> None:
    full = text_of(await collect("showcase", ask("hi")))
    partial = full[:200]
    messages: list[WireMessage] = [*ask("hi"), {"role": "assistant", "content": partial}]
    rest = text_of(await collect("showcase", messages))
    assert partial + rest == full


async def test_max_tokens_cuts_with_finish_length_and_stop_cuts_text() -> None:
    events = await collect("echo", ask("one two three four"), max_tokens=2)
    assert text_of(events) == "one two"
    assert events[-1] == Finish("length")
    events = await collect("echo", ask("one two STOP three"), stop=["STOP"])
    assert text_of(events) == "one two "
    assert events[-1] == Finish("stop")


async def test_pace_is_tokens_per_second() -> None:
    provider = demo.DemoProvider()
    request = ChatRequest(
        model="echo", messages=ask("a b c d e f"), options={"tokens_per_second": 100}
    )
    started = time.monotonic()
    events = [e async for e in provider.astream(request)]
    # Six tokens at 100/s cannot arrive sooner than 50 ms after the first (a lower bound).
    assert time.monotonic() - started >= 0.05
    assert text_of(events) == "a b c d e f"


async def test_unknown_demo_model_names_the_real_ones() -> None:
    with pytest.raises(ModelNotFound) as info:
        await collect("nope", ask("x"))
    assert "demo:showcase" in info.value.hint
    assert "demo:long" in info.value.hint


def test_options_are_the_common_ones_plus_pace() -> None:
    provider = demo.DemoProvider()
    assert provider.check_options({"temperature": 0.2, "tokens_per_second": 10}) == {
        "temperature": 0.2,
        "tokens_per_second": 10,
    }


# -- scripts ----------------------------------------------------------------------------


async def test_script_text_reply_and_recorded_requests() -> None:
    script = testing.script("Hello there", "Second")
    assert script.model.startswith("demo:script-")
    name = script.model.split(":", 1)[1]
    first = await collect(name, ask("q1"))
    second = await collect(name, ask("q2"))
    third = await collect(name, ask("q3"))
    assert [text_of(first), text_of(second), text_of(third)] == ["Hello there", "Second", "Second"]
    assert first[-2:] == [Usage(completion_tokens=2), Finish("stop")]
    assert [r.messages[-1]["content"] for r in script.requests] == ["q1", "q2", "q3"]


async def test_script_list_raises_error_with_partial() -> None:
    boom = ServerError("boom")
    script = testing.script(["Hel", "lo", boom])
    name = script.model.split(":", 1)[1]
    for _ in range(2):  # the repeated reply raises a fresh copy each time
        with pytest.raises(ServerError) as info:
            await collect(name, ask("x"))
        assert info.value.partial == "Hello"
        assert info.value is not boom


async def test_script_list_gets_a_finish_unless_it_has_one() -> None:
    name = testing.script(["a", "b"]).model.split(":", 1)[1]
    assert (await collect(name, ask("x")))[-1] == Finish("stop")
    name = testing.script(["a", Finish("length")]).model.split(":", 1)[1]
    assert (await collect(name, ask("x")))[-1] == Finish("length")


async def test_script_stall_waits_until_cancelled() -> None:
    script = testing.script(["a", testing.STALL])
    provider = demo.DemoProvider()
    request = ChatRequest(model=script.model.split(":", 1)[1], messages=ask("x"))
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in provider.astream(request):
            seen.append(event)

    task = asyncio.ensure_future(consume())
    await asyncio.to_thread(script.stalled.wait, 5)
    assert script.stalled.is_set()
    assert seen == [TextDelta("a")]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_script_pause_waits_until_released() -> None:
    pause = testing.Pause()
    name = testing.script(["a", pause, "b"]).model.split(":", 1)[1]
    task = asyncio.ensure_future(collect(name, ask("x")))
    await asyncio.to_thread(pause.reached.wait, 5)
    assert not task.done()
    pause.release()
    assert text_of(await task) == "ab"


async def test_script_that_ends_oddly_is_interrupted() -> None:
    name = testing.script([TextDelta("a"), StreamInterrupted("cut")]).model.split(":", 1)[1]
    with pytest.raises(StreamInterrupted) as info:
        await collect(name, ask("x"))
    assert info.value.partial == "a"
