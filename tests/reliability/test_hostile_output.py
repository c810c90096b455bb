"""Hostile model output, rendered in real Chromium inside JupyterLab.

A corpus of XSS and layout vectors is streamed as one reply (and as its reasoning) through
one widget turn per split mode: whole, then token by token — each token its own delta, so
the renderer sees the text cut at every token boundary (the second reply first waits for its
"first token", which the view must show as waiting). Pass means: no script ran (a
sentinel global stays unset, no dialog opened), every request the page made went to the
Jupyter server on 127.0.0.1, and the layout stayed inside the widget. The static transcript
the widget leaves next to itself (for readers without widget JavaScript) is part of the page
and held to the same rules.
"""

from __future__ import annotations

import html.parser
import json
import re
import typing
import urllib.parse

import pytest

from nbchat import magics, testing, transcript, widget
from nbchat.messages import Message
from nbchat.widget import Chat

if typing.TYPE_CHECKING:
    from tests.e2e.harness import Jupyter

EVIL = "https://evil.invalid"

#: Each vector sets ``window.__xss`` (to its own number, so a failure says which) if it runs,
#: or asks ``evil.invalid`` for something if it fetches.
VECTORS: list[str] = [
    # raw HTML: markdown-it runs with html off; whatever gets through meets DOMPurify
    "<script>__xss=1</script>",
    "<img src=x onerror=__xss=2>",
    '<img src="x" onerror="__xss=3">',
    "<svg onload=__xss=4><circle r=9 /></svg>",
    "<svg><script>__xss=5</script></svg>",
    "<iframe src=javascript:__xss=6></iframe>",
    "<details open ontoggle=__xss=7>x</details>",
    '<a href="javascript:__xss=8">click</a>',
    "<body onload=__xss=9>",
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss=10>",
    '<noscript><p title="</noscript><img src=x onerror=__xss=11>">',
    "<scr<script>ipt>__xss=12</scr</script>ipt>",
    f"<link rel=stylesheet href={EVIL}/13.css>",
    f"<object data={EVIL}/14.swf></object>",
    # markdown links and images
    "[link](javascript:__xss=15)",
    "[link](JaVaScRiPt:__xss=16)",
    "[link](java\tscript:__xss=17)",
    "[link](&#106;avascript:__xss=18)",
    "[link](<javascript:__xss=19>)",
    "[link]( javascript:__xss=20 )",
    "[link](data:text/html;base64,PHNjcmlwdD5fX3hzcz0yMTwvc2NyaXB0Pg==)",
    "[link](vbscript:__xss=22)",
    "<javascript:__xss=23>",
    "[ref link][r24]\n\n[r24]: javascript:__xss=24",
    f"![image]({EVIL}/25.png)",
    f'![image]({EVIL}/26.png "title")',
    "![image](javascript:__xss=27)",
    f"[![nested]({EVIL}/28.png)](javascript:__xss=28)",
    f'[title trick]({EVIL} "a" onmouseover="__xss=29")',
    '![alt" onerror="__xss=30](x)',
    f"<{EVIL}/31>",
    f"{EVIL}/32.png",
    # math: KaTeX runs with trust off
    r"$\href{javascript:__xss=33}{click}$",
    r"$\url{javascript:__xss=34}$",
    r"$$\htmlClass{jp-Notebook}{x}\htmlId{jupyterapp}{y}$$",
    r"$\htmlStyle{position:fixed;inset:0;z-index:99999;background:red}{cover}$",
    r"$\htmlData{foo=bar}{x}$",
    rf"$\includegraphics{{{EVIL}/38.png}}$",
    "$<img src=x onerror=__xss=39>$",
    r"\(<svg onload=__xss=40>\)",
    r"$$\def\a{\a\a}\a$$",
    r"$$\rule{10000em}{10000em}$$",
    r"$\hspace{100000em}x$",
    # CSS and layout
    '<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:red">cover</div>',
    "<style>body{display:none!important}</style>",
    "A" * 4000,
    "| a | b |\n|---|---|\n| <img src=x onerror=__xss=47> | " + "wide" * 400 + " |",
    "```html\n<script>__xss=48</script>\n```",
    "`<img src=x onerror=__xss=49>`",
    # DOM clobbering
    '<form id="jupyterapp" name="jupyterapp"><input name="shell"></form>',
    '<img name="getElementById" id="body">',
    '<a id="__xss" href="#">clobber</a>',
    # HTML entities and escapes
    "&lt;img src=x onerror=__xss=53&gt;",
    "\\<img src=x onerror=__xss=54>",
    # the same in other blocks: a list, a quote, a heading
    "- item <img src=x onerror=__xss=55>\n- [item](javascript:__xss=56)",
    "> quoted <svg onload=__xss=57> [x](javascript:__xss=58)",
    "# heading <script>__xss=59</script>",
    # fences that renderers read differently (last: each may leave one of them in a fence)
    "```\n```~\n<img src=x onerror=__xss=60>\n```",
    "  ```\nx\n```\n<img src=x onerror=__xss=61>\n```",
    "$$\n```\n$$\n<img src=x onerror=__xss=62>\n```",
    "[d63]: /u '\n```\n'\n<img src=x onerror=__xss=63>\n```",
    "| `<img src=x onerror=__xss=64 | >` |\n|---|---|\n| a | b |",
    "- item\n  ```\n  x\n```\n<img src=x onerror=__xss=65>\n```",
]

#: Markdown that must stay byte for byte: code is copied from the transcript.
CLEAN = "Here:\n```python\nprint('<b>hi</b>' if a < b else \"&amp;\")\n```\n\nThe end."

_TOKEN = re.compile(r"\s*\S{1,12}|\s+")


def _tokens() -> list[str]:
    """The corpus as a model might send it: word-sized pieces, so most vectors are cut inside
    their dangerous part (``<img`` | `` src=x`` | `` onerror=__xs`` | ``s=2>``)."""
    tokens: list[str] = []
    for vector in VECTORS:
        pieces = [vector] if len(vector) > 500 else _TOKEN.findall(vector)
        head = "\n\n" if tokens else ""  # each vector starts a block of its own
        tokens += [head + pieces[0], *pieces[1:]]
    return [*tokens, "\n\nThe end."]


TOKENS = _tokens()
CORPUS = "".join(TOKENS)


def _cells() -> tuple[str, ...]:
    return (
        "import json, pathlib, nbchat\n"
        "from nbchat import testing\n"
        "from nbchat.providers.base import ReasoningDelta\n"
        "from nbchat.errors import ServerError\n"
        "corpus = json.loads(pathlib.Path('corpus.json').read_text())\n"
        "whole = [ReasoningDelta(corpus['text']), corpus['text']]\n"
        "pause = testing.Pause()  # the second reply waits here: a model loading\n"
        "tokens = [pause, ReasoningDelta(corpus['text']), *corpus['tokens']]\n"
        "tokens.append(ServerError(corpus['error']))\n"
        # Tokens 111 ms apart: the channel sends text that has waited 100 ms, so every
        # token is its own delta and the front end sees every token boundary.
        "s = testing.script(whole, tokens, tokens_per_second=9)\n"
        "chat = nbchat.Chat(s.model)\n"
        "chat",
        "pause.release()",
    )


def _install_watchers(lab: Jupyter) -> tuple[list[str], list[str]]:
    requests: list[str] = []
    dialogs: list[str] = []
    lab.page.context.on("request", lambda request: requests.append(request.url))

    def dismiss(dialog: typing.Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    lab.page.on("dialog", dismiss)
    return requests, dialogs


# ---------------------------------------------------------------------------------------
# The static transcript, as a saved notebook's readers render it (no browser needed).


class _Elements(html.parser.HTMLParser):
    """Every element and attribute of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def _live_html(markdown: str) -> list[str]:
    """What is live in ``markdown`` rendered by nbconvert (raw HTML allowed, as exported)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    parser = _Elements()
    parser.feed(markdown2html_mistune(markdown))
    problems = []
    for tag, attrs in parser.found:
        if tag in {"script", "iframe", "object", "embed", "link", "style", "img", "svg", "form",
                   "math", "details", "body", "noscript", "input"}:  # fmt: skip
            problems.append(f"<{tag}>")
        for name, value in attrs:
            scheme = urllib.parse.urlsplit((value or "").strip()).scheme.lower()
            anchor = name == "id" and tag in ("h1", "h2", "h3", "h4", "h5", "h6")  # nbconvert's
            if name.startswith("on") or name in ("name", "style") or (name == "id" and not anchor):
                problems.append(f"<{tag} {name}>")
            elif name in ("href", "src") and scheme not in ("", "http", "https", "mailto"):
                problems.append(f"<{tag} {name}={value}>")
    return problems


def test_raw_model_output_would_be_live_in_an_exported_notebook() -> None:
    # Why the transcript must be inert: nbconvert (like JupyterLab for a trusted output)
    # renders raw HTML, script URLs and remote images as they come.
    live = [vector for vector in VECTORS if _live_html(vector)]
    assert len(live) >= len(VECTORS) // 2


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{i}" for i in range(1, len(VECTORS) + 1)])
def test_the_static_transcript_of_a_hostile_reply_is_inert(vector: str) -> None:
    messages: list[Message] = [
        {"id": "u", "role": "user", "content": vector},
        {"id": "a", "role": "assistant", "content": vector, "reasoning": vector},
    ]

    markdown = transcript.to_markdown(messages, inert=True)

    assert _live_html(markdown.replace("<details><summary>Reasoning</summary>", "")) == []


def test_the_static_transcript_keeps_clean_text_and_certain_code_exact() -> None:
    assert transcript.inert_markdown(CLEAN) == CLEAN
    assert transcript.inert_markdown("Costs $5 and $10; a < b; x && y") == (
        "Costs $5 and $10; a < b; x && y"
    )


@pytest.mark.usefixtures("recording_comm")
def test_the_outputs_nbchat_leaves_in_a_notebook_are_inert() -> None:
    script = testing.script(CORPUS)
    chat = Chat(script.model)
    chat.ask(CORPUS)
    exchange = chat.conversation.messages

    for markdown in (
        str(chat._repr_mimebundle_()[0]["text/markdown"]),
        magics._output.static_bundle(exchange)["text/markdown"],
    ):
        assert CORPUS.splitlines()[0].replace("<", "<\u200b") in markdown  # the text is there
        assert _live_html(markdown.replace(widget._display.STATIC_MARKER, "")) == []


#: Inside every output of the notebook (the live chat and the static transcript beside it):
#: nothing that runs, fetches or clobbers, and nothing laid out outside its box.
DOM_CHECK = """
([root, outsidePoints]) => {
  const problems = [];
  const show = (el) => el.outerHTML.slice(0, 100);
  const forbidden = new Set(['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'LINK', 'STYLE', 'FORM',
                             'BASE', 'META', 'IMG', 'IMAGE', 'VIDEO', 'AUDIO', 'FRAME']);
  const clobbers = new Set(['jupyterapp', 'body', 'getElementById', '__xss', 'shell']);
  for (const el of document.querySelectorAll('.jp-Notebook .jp-OutputArea-output *')) {
    if (forbidden.has(el.tagName.toUpperCase())) problems.push('element: ' + show(el));
    for (const attr of el.getAttributeNames()) {
      const value = el.getAttribute(attr) || '';
      if (attr.startsWith('on')) problems.push('handler: ' + show(el));
      if ((attr === 'id' || attr === 'name') && clobbers.has(value)) {
        problems.push('clobber: ' + show(el));
      }
      if (['href', 'src', 'xlink:href', 'action', 'formaction', 'poster', 'data'].includes(attr)) {
        const url = new URL(value, document.baseURI);
        if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) {
          problems.push(attr + ': ' + value);
        }
      }
    }
    const content = el.closest('.nbc-body, .nbc-reasoning-body, .jp-RenderedMarkdown');
    if (content !== null && !el.closest('.katex, mjx-container')) {
      const position = getComputedStyle(el).position;
      if (position !== 'static' && position !== 'relative') {
        problems.push(position + ': ' + show(el));
      }
    }
  }
  for (const [x, y] of outsidePoints) {
    const hit = document.elementFromPoint(x, y);
    if (hit && root.contains(hit)) problems.push(`the chat covers the page at ${x},${y}`);
  }
  return {
    problems,
    width: root.getBoundingClientRect().width,
    scrollWidth: document.documentElement.scrollWidth,
    intact: typeof document.getElementById === 'function'
      && typeof window.jupyterapp?.commands?.execute === 'function'
      && getComputedStyle(document.body).display !== 'none',
    xss: typeof window.__xss,
  };
}
"""


@pytest.mark.e2e
def test_a_hostile_reply_runs_nothing_fetches_nothing_and_stays_inside(lab: Jupyter) -> None:
    requests, dialogs = _install_watchers(lab)
    error = "<img src=x onerror=__xss=99> [x](javascript:__xss=98)"
    corpus = {"text": CORPUS, "tokens": TOKENS, "error": error}
    (lab.server.root / "corpus.json").write_text(json.dumps(corpus))
    lab.open_notebook(*_cells())
    lab.run_cell(0)
    root = lab.widget()
    before = root.evaluate("el => el.getBoundingClientRect().width")
    page_width = lab.page.evaluate("() => document.documentElement.scrollWidth")

    # Split mode 1: the corpus whole, in one delta (and its reasoning in another).
    lab.submit("Say everything at once.")
    lab.wait_idle()
    body = root.locator(".nbc-msg-assistant .nbc-body").last
    assert "__xss=1" in (body.text_content() or "")  # it was rendered, as text
    assert "The end." in (body.text_content() or "")  # (the fence tricks may code-block it)
    _check(lab, root, before, page_width)

    # Split mode 2: token by token, each its own delta (the reasoning whole: it goes through
    # the same renderer); the reply ends with an error whose text is hostile too.
    # It starts with a wait for the first token, which the view shows as such.
    lab.submit("Now slowly.")
    root.locator(".nbc-msg-assistant.is-streaming .nbc-typing").wait_for(state="visible")
    assert root.locator(".nbc-status").inner_text() == "streaming"
    lab.run_cell(1)  # the kernel is free meanwhile: release the wait from a cell
    root.locator(".nbc-msg-assistant .nbc-error").last.wait_for(timeout=120_000)
    lab.wait_idle()
    last = root.locator(".nbc-msg-assistant").last
    assert "The end." in (last.locator(".nbc-body").text_content() or "")
    assert error in (last.locator(".nbc-error").text_content() or "")  # shown as text
    _check(lab, root, before, page_width)

    assert dialogs == []
    allowed = (lab.server.url + "/", f"blob:{lab.server.url}/", "data:")
    outside = [u for u in requests if not u.startswith(allowed)]
    assert outside == [], f"requests left the page: {outside}"
    assert lab.unexpected_console_errors() == []


def _check(lab: Jupyter, root: typing.Any, width: float, page_width: int) -> None:
    # Every output in view once (lazy images load only then), then points around the chat:
    # the page's corners, the cell's prompt, above the chat.
    lab.page.evaluate(
        "() => document.querySelectorAll('.jp-OutputArea-output')"
        ".forEach((el) => el.scrollIntoView())"
    )
    root.scroll_into_view_if_needed()
    outside = lab.page.evaluate(
        """(root) => {
            const r = root.getBoundingClientRect();
            return [[5, 5], [window.innerWidth - 5, 5], [Math.max(r.left - 30, 2), r.top + 20],
                    [r.left + 20, Math.max(r.top - 40, 2)], [5, window.innerHeight - 5]];
        }""",
        root.element_handle(),
    )
    result = lab.page.evaluate(DOM_CHECK, [root.element_handle(), outside])
    assert result["intact"], "the page was clobbered: the app or document lost a property"
    assert result["xss"] == "undefined"
    assert result["problems"] == []
    assert result["width"] == width  # the chat did not grow sideways
    assert result["scrollWidth"] <= page_width  # nor did the page
