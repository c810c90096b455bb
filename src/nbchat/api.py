"""One-call helpers: ``ask``, ``stream``, ``astream``, ``models``.

Thin wrappers over :class:`~nbchat.session.Conversation` and the providers, for code that
wants a reply without keeping a conversation:

>>> nbchat.ask("What is a closure?")
>>> for text in nbchat.stream("Explain monads", "ollama:llama3.2", temperature=0.2):
...     print(text, end="")
>>> nbchat.ask("Weather in Paris?", "ollama:qwen3", tools=[weather], approve="always")
>>> nbchat.ask("Describe it", "ollama:qwen2.5vl", images=["photo.jpg"])

With ``tools``, the reply may take several model steps (the model calls them, they run
if ``approve`` allows, the results go back); ``approve="ask"`` (the default) asks on
stdin, which means no where there is none (nbclient, a script without a terminal).
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence

from . import _worker, providers, resolve
from .errors import InvalidRequest
from .images import ImageInput
from .providers.base import TextDelta
from .session import Conversation, Turn
from .tools import ApprovePolicy, ToolLike

__all__ = ["Prompt", "ask", "astream", "models", "stream"]

#: A prompt, or a list of ``{"role", "content"}`` messages whose last one is the question.
Prompt = str | Sequence[Mapping[str, typing.Any]]


def _turn(
    prompt: Prompt,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    system: str | None,
    options: dict[str, typing.Any],
    tools: typing.Iterable[ToolLike] = (),
    approve: ApprovePolicy = "ask",
    images: Sequence[ImageInput] | None = None,
) -> Turn:
    if isinstance(prompt, str):
        history: list[typing.Any] = []
        question = prompt
    else:
        if not isinstance(prompt, Sequence) or not prompt:
            raise InvalidRequest(
                "Give a prompt string or a non-empty list of messages.",
                hint="For example ask('Hi') or ask([{'role': 'user', 'content': 'Hi'}]).",
            )
        last = prompt[-1]
        if not isinstance(last, Mapping) or last.get("role") != "user":
            raise InvalidRequest(
                "The last message must be the user's question.",
                hint="End the list with {'role': 'user', 'content': ...}.",
            )
        history = list(prompt[:-1])
        question = last.get("content")  # type: ignore[assignment]
    conversation = Conversation(
        model,
        system=system,
        base_url=base_url,
        api_key=api_key,
        messages=history,
        tools=tools,
        approve=approve,
        **options,
    )
    return conversation.prompt(question, images=images)


def stream(
    prompt_or_messages: Prompt,
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    system: str | None = None,
    tools: typing.Iterable[ToolLike] = (),
    approve: ApprovePolicy = "ask",
    images: Sequence[ImageInput] | None = None,
    **options: object,
) -> Generator[str, None, None]:
    """Stream the reply's text as it arrives (blocking iterator).

    ``images`` go with the question (paths, bytes, PIL images, figures, arrays, ``data:``
    URLs: :func:`nbchat.images.to_image`). Bad input — a refused image too — raises
    here, before anything is sent; server errors raise from the iteration. Leaving the
    loop early stops the reply.
    """
    turn = _turn(
        prompt_or_messages, model, base_url, api_key, system, options, tools, approve, images
    )
    return _texts(turn)


def _texts(turn: Turn) -> Generator[str, None, None]:
    for event in turn:
        if isinstance(event, TextDelta):
            yield event.text


def astream(
    prompt_or_messages: Prompt,
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    system: str | None = None,
    tools: typing.Iterable[ToolLike] = (),
    approve: ApprovePolicy = "ask",
    images: Sequence[ImageInput] | None = None,
    **options: object,
) -> AsyncGenerator[str, None]:
    """Stream the reply's text as it arrives (``async for``); see :func:`stream`.

    Model resolution (which may probe a server) happens here, before iteration.
    """
    turn = _turn(
        prompt_or_messages, model, base_url, api_key, system, options, tools, approve, images
    )
    return _atexts(turn)


async def _atexts(turn: Turn) -> AsyncGenerator[str, None]:
    # Closing this generator (the caller left early) closes the turn's own at once, which
    # stops the reply, rather than leaving that to the garbage collector and the loop.
    async with contextlib.aclosing(turn.__aiter__()) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                yield event.text


def ask(
    prompt_or_messages: Prompt,
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    system: str | None = None,
    tools: typing.Iterable[ToolLike] = (),
    approve: ApprovePolicy = "ask",
    images: Sequence[ImageInput] | None = None,
    **options: object,
) -> str:
    """The whole reply as a string (blocking); raises if the reply failed."""
    return _turn(
        prompt_or_messages, model, base_url, api_key, system, options, tools, approve, images
    ).result()


def models(
    model_or_provider: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> list[str]:
    """The models a server offers, with their prefix (``"ollama:llama3.2"``).

    With no argument: the server nbchat would use (see :func:`nbchat.configure`); with a
    provider name (``"ollama"``) or a model string: that provider's server.
    """
    if model_or_provider is not None and model_or_provider.strip() in providers.names():
        # A placeholder model: listing must not need one picked (or asked for) first.
        target = resolve.resolve(f"{model_or_provider.strip()}:_", base_url, api_key)
    else:
        target = resolve.resolve(model_or_provider, base_url, api_key)
    provider = target.create_provider()
    names = _worker.run(provider.amodels)
    return [f"{target.provider}:{name}" for name in names]
