"""The grammar of ``%chat`` / ``%%chat``: a line and a cell body → a :class:`Command`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shlex
import typing
from collections.abc import Iterator

from ..errors import InvalidRequest

__all__ = ["USAGE", "Command", "Format", "Kind", "clip", "parse", "scalar", "sentence"]

USAGE = """\
Usage:
  %chat [provider:model] [options] PROMPT        ask in one line
  %%chat [provider:model] [options]              ask with the cell body as the prompt
  %chat models [provider]                        list the models the server offers
  %chat config [key=value ...]                   show or set session defaults
  %chat reset                                    start a new conversation
  %chat history                                  show the conversation so far
  %chat fix [provider:model] [options]           explain and fix the last exception
Options:
  --base-url URL         server to use (Ollama or any OpenAI-compatible /v1)
  --system TEXT          system prompt for this conversation
  --temperature T        --max-tokens N    --top-p P    --seed N    --stop TEXT
  -m, --model-parameters JSON      options as a JSON object, e.g. '{"num_ctx": 8192}'
  -o, --option KEY=VALUE           one more option (repeatable)
  -f, --format markdown|code|text  code: put the reply's code into the next cell
  --tools NAMES          functions the model may call, e.g. --tools weather,describe
  --image NAME           an image to ask about: a variable (a figure, an array, a PIL
                         image, bytes) or a file path (repeatable)
  --approve ask|always   ask (on the cell's stdin) before each tool call, or never
  --new                  start a new conversation with this prompt
  --no-interpolate       send {braces} as typed ({name} is taken from the notebook)
Start the prompt with -- if it begins with a subcommand or a dash."""

_SUBCOMMANDS = ("models", "config", "reset", "history", "fix")
_FORMATS = {"markdown": "markdown", "md": "markdown", "code": "code", "text": "text"}
Format = typing.Literal["markdown", "code", "text"]
Kind = typing.Literal["ask", "fix", "models", "config", "reset", "history", "usage"]


@dataclasses.dataclass
class Command:
    """One parsed ``%chat`` / ``%%chat`` call."""

    kind: Kind
    prompt: str = ""
    model: str | None = None
    base_url: str | None = None
    system: str | None = None
    options: dict[str, object] = dataclasses.field(default_factory=dict)
    format: Format = "markdown"
    new: bool = False
    interpolate: bool = True
    settings: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # config k=v
    tools: list[str] | None = None  # names in the user namespace (--tools a,b)
    approve: typing.Literal["ask", "always"] | None = None
    images: list[str] = dataclasses.field(default_factory=list)  # --image NAME (or path)


@dataclasses.dataclass(frozen=True)
class _Flag:
    names: tuple[str, ...]
    dest: str
    metavar: str | None  # None: a switch that takes no value
    parse: typing.Callable[[str], object] = str  # for the sampling options


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"-m expects a JSON object, not {clip(text)!r}.",
            hint='For example: -m \'{"temperature": 0.2, "num_ctx": 8192}\'',
        )
    return value


def _key_value(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InvalidRequest(
            f"-o expects key=value, not {clip(text)!r}.", hint="For example: -o num_ctx=8192"
        )
    return key.strip().replace("-", "_"), scalar(raw)


_FLAGS = (
    _Flag(("--base-url", "--api-base"), "base_url", "URL"),
    _Flag(("--system",), "system", "TEXT"),
    _Flag(("--temperature",), "temperature", "T", float),
    _Flag(("--max-tokens",), "max_tokens", "N", int),
    _Flag(("--top-p",), "top_p", "P", float),
    _Flag(("--seed",), "seed", "N", int),
    _Flag(("--stop",), "stop", "TEXT"),
    _Flag(("-m", "--model-parameters"), "model_parameters", "JSON"),
    _Flag(("-o", "--option"), "option", "KEY=VALUE"),
    _Flag(("-f", "--format"), "format", "FORMAT"),
    _Flag(("--tools",), "tools", "NAMES"),
    _Flag(("--approve",), "approve", "POLICY"),
    _Flag(("--image",), "image", "NAME"),
    _Flag(("--new",), "new", None),
    _Flag(("--no-interpolate",), "no_interpolate", None),
    _Flag(("-h", "--help"), "help", None),
)
_FLAG_BY_NAME = {name: flag for flag in _FLAGS for name in flag.names}
_SAMPLING = ("temperature", "max_tokens", "top_p", "seed", "stop")


def _usage_error(message: str, hint: str = "") -> InvalidRequest:
    """A malformed call: shown with the usage after the one-line message."""
    exc = InvalidRequest(message, hint=hint)
    exc._nbchat_usage = True  # type: ignore[attr-defined]
    return exc


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of printing to stderr and exiting the kernel."""

    def error(self, message: str) -> typing.NoReturn:
        raise _usage_error(sentence(message))

    def exit(self, status: int = 0, message: str | None = None) -> typing.NoReturn:
        raise _usage_error(sentence(message or "Invalid arguments"))


def _parser(with_model: bool) -> _ArgumentParser:
    parser = _ArgumentParser(prog="%chat", add_help=False, allow_abbrev=False)
    if with_model:
        parser.add_argument("model", nargs="?")
    for flag in _FLAGS:
        if flag.metavar is None:
            parser.add_argument(*flag.names, dest=flag.dest, action="store_true")
        elif flag.dest in ("option", "image"):
            parser.add_argument(*flag.names, dest=flag.dest, action="append", default=[])
        else:
            parser.add_argument(*flag.names, dest=flag.dest)
    return parser


def parse(line: str, cell: str | None = None) -> Command:
    """Parse a magic call; raise :class:`~nbchat.errors.InvalidRequest` if it is malformed.

    In the line form the leading flags and an optional model are options and the rest of
    the line, exactly as typed, is the prompt (so apostrophes need no quoting).
    """
    if cell is None:
        head, prompt = _split_line(line)
    else:
        head, prompt = _shell_words(line), cell
    if head and head[0] in _SUBCOMMANDS:
        return _parse_subcommand(head[0], head[1:], prompt, cell is not None)
    command = _parse_flags(head, positional_is_model=cell is not None)
    command.prompt = prompt
    if command.kind == "ask" and not prompt.strip():
        command.kind = "usage"
    return command


def _split_line(line: str) -> tuple[list[str], str]:
    """Leading option words of a line magic, and the prompt after them (verbatim)."""
    head: list[str] = []
    model_seen = False
    pending_value = False
    for word, start, end in _words(line):
        if pending_value:
            head.append(word)
            pending_value = False
        elif word == "--":
            return head, line[end:].strip()
        elif not head and word in _SUBCOMMANDS:
            return [word, *_shell_words(line[end:])], ""
        elif re.match(r"--?[A-Za-z]", word):
            name = word.split("=", 1)[0]
            flag = _FLAG_BY_NAME.get(name)
            if flag is None:
                raise _usage_error(
                    f"Unknown option {name}.",
                    hint="Start the prompt with -- if it begins with a dash.",
                )
            head.append(word)
            pending_value = flag.metavar is not None and "=" not in word
        elif not model_seen and _looks_like_model(word):
            head.append(word)
            model_seen = True
        else:
            return head, line[start:].strip()
    if pending_value:
        raise _usage_error(f"Option {head[-1]} expects a value.")
    return head, ""


_WORD = re.compile(r"""(?:[^\s'"]+|'[^']*'|"(?:[^"\\]|\\.)*")+""")


def _words(line: str) -> Iterator[tuple[str, int, int]]:
    """Shell words with their span; a word with an unclosed quote ends the option part."""
    for match in _WORD.finditer(line):
        try:
            parts = shlex.split(match.group())
        except ValueError:
            parts = [match.group()]
        yield (parts[0] if parts else ""), match.start(), match.end()


def _shell_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidRequest(f"Cannot read the options: {exc}.", hint="Check the quotes.") from None


def _looks_like_model(word: str) -> bool:
    """A provider name, or ``provider:model`` (``ollama:llama3.2:1b``); never a URL."""
    from .. import providers

    if word.split(":", 1)[0] in providers.names():
        return True
    return "://" not in word and re.fullmatch(r"[A-Za-z][\w.-]*:[\w.:@/+-]+", word) is not None


def _parse_flags(words: list[str], *, positional_is_model: bool) -> Command:
    ns, extra = _parser(with_model=True).parse_known_args(words)
    unknown = [word for word in extra if word.startswith("-")]
    if unknown:
        raise _usage_error(f"Unknown option {unknown[0]}.")
    if extra:
        raise _usage_error(
            f"Unexpected words after the model: {clip(' '.join(extra))!r}.",
            hint="This line takes a model and options; the prompt goes in the cell body.",
        )
    if ns.help:
        return Command("usage")
    command = Command("ask", model=ns.model, base_url=ns.base_url, system=ns.system)
    if ns.model is not None and not positional_is_model and not _looks_like_model(ns.model):
        raise _usage_error(f"{ns.model!r} is not a model.", hint="Write it as provider:model.")
    if ns.model is not None and ns.model.startswith("-"):
        raise _usage_error(f"Unknown option {ns.model}.")
    options: dict[str, object] = {}
    if ns.model_parameters is not None:
        options.update(_json_object(ns.model_parameters))
    for item in ns.option:
        key, value = _key_value(item)
        options[key] = value
    for name in _SAMPLING:
        raw = getattr(ns, name)
        if raw is not None:
            flag = _FLAG_BY_NAME["--" + name.replace("_", "-")]
            try:
                options[name] = flag.parse(raw)
            except ValueError:
                raise InvalidRequest(
                    f"{flag.names[0]} expects a number, not {clip(raw)!r}.",
                    hint=f"For example {flag.names[0]} {'0.2' if flag.parse is float else '256'}",
                ) from None
    command.options = options
    if ns.format is not None:
        fmt = _FORMATS.get(ns.format.lower())
        if fmt is None:
            raise _usage_error(
                f"Unknown format {ns.format!r}.", hint="Use -f markdown, -f code or -f text."
            )
        command.format = typing.cast(Format, fmt)
    command.new = ns.new
    for name in ns.image:
        if not name.strip():
            raise _usage_error(
                "--image expects a variable name or a file path.",
                hint="For example: --image fig --image photo.jpg",
            )
    command.images = list(ns.image)
    command.interpolate = not ns.no_interpolate
    if ns.tools is not None:
        names = [n.strip() for n in ns.tools.split(",") if n.strip()]
        bad = [n for n in names if not n.isidentifier()]
        if bad or not names:
            raise _usage_error(
                f"--tools expects names separated by commas, not {clip(ns.tools)!r}.",
                hint="For example: --tools weather,describe",
            )
        command.tools = names
    if ns.approve is not None:
        if ns.approve not in ("ask", "always"):
            raise _usage_error(
                f"--approve is ask or always, not {clip(ns.approve)!r}.",
                hint="--approve always runs every tool call without asking.",
            )
        command.approve = ns.approve
    return command


def _parse_subcommand(name: str, args: list[str], body: str, is_cell: bool) -> Command:
    as_prompt = f"To send it as a prompt, start with --: %chat -- {name} {' '.join(args)}".strip()
    if name == "fix":
        command = _parse_flags(args, positional_is_model=True)
        if command.kind == "ask":
            command.kind, command.prompt = "fix", body
        return command
    if is_cell:
        raise InvalidRequest(f"%chat {name} is a line magic.", hint=f"Use %chat {name}.")
    if name == "models":
        ns = _parser(with_model=True).parse_args(args)
        return Command("models", model=ns.model, base_url=ns.base_url)
    if name == "config":
        settings: list[tuple[str, str]] = []
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep or not key:
                raise InvalidRequest(
                    f"%chat config expects key=value, not {clip(arg)!r}.", hint=as_prompt
                )
            settings.append((key.strip().replace("-", "_"), value))
        return Command("config", settings=settings)
    if args:
        raise _usage_error(f"%chat {name} takes no arguments.", hint=as_prompt)
    return Command(typing.cast(Kind, name))


# ---------------------------------------------------------------------------------------
# Text helpers, shared with the magics.


def scalar(raw: str) -> object:
    """``0.2`` → 0.2, ``true`` → True, ``[1]`` → [1]; anything else stays text."""
    try:
        return typing.cast(object, json.loads(raw))
    except ValueError:
        return raw


def clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
