"""The chat in a real JupyterLab 4, used as a person uses it."""

from __future__ import annotations

import json
import shutil

import pytest
from tests.e2e.harness import REPO, Jupyter

pytestmark = pytest.mark.e2e

SETUP = "import nbchat\nfrom nbchat import testing"


@pytest.mark.viewport(1280, 1700)
def test_a_reply_streams_then_shows_math_a_table_and_highlighted_code(lab: Jupyter) -> None:
    # Tall enough to hold the whole reply: this test also makes the README's screenshot.
    lab.open_notebook(
        f'{SETUP}\nchat = nbchat.Chat("demo:showcase", tokens_per_second=150, height="1300px")'
        "\nchat"
    )
    lab.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    lab.run_all()
    widget = lab.widget()
    cells, counts = lab.cell_count(), lab.execution_counts()

    # Typing notebook shortcuts into the chat must not touch the notebook (a, b, dd, m, 00
    # and Shift+Enter would add, delete, convert cells, restart the kernel, run a cell).
    box = widget.locator("textarea.nbc-input")
    box.click()
    box.press_sequentially("a b x dd m y 00 z", delay=10)
    box.press("Shift+Enter")
    box.press_sequentially("more", delay=10)
    assert box.input_value() == "a b x dd m y 00 z\nmore"
    assert (lab.cell_count(), lab.execution_counts()) == (cells, counts)
    box.fill("")

    lab.submit("Show me what you can do")
    lengths = lab.watch_stream(until=lambda: not lab.is_streaming() and lab.reply_length() > 500)
    growing = [n for n in lengths if n > 0]
    assert len(set(growing)) >= 3, f"too few intermediate states: {lengths}"
    assert growing == sorted(growing), f"the reply shrank while streaming: {lengths}"
    lab.wait_idle()

    reply = widget.locator(".nbc-msg-assistant").last
    assert reply.locator(".katex").count() >= 3
    assert lab.page.evaluate("() => document.fonts.check('1em KaTeX_Main')")
    assert reply.locator("table tr").count() >= 4
    assert reply.locator("pre code .hljs-keyword").count() >= 2
    # Currency stays text.
    assert "$5 and $10" in (reply.text_content() or "")
    assert (lab.cell_count(), lab.execution_counts()) == (cells, counts)

    shot = lab.screenshot("showcase", widget)
    (REPO / "docs").mkdir(exist_ok=True)
    shutil.copyfile(shot, REPO / "docs" / "screenshot.png")
    assert lab.unexpected_console_errors() == []


def test_stop_keeps_the_partial_reply_marked_stopped_and_continue_appends(lab: Jupyter) -> None:
    lab.open_notebook(
        f"{SETUP}\n"
        's = testing.script(["word "] * 400, " and the end.", tokens_per_second=40)\n'
        "chat = nbchat.Chat(s.model)\nchat"
    )
    lab.run_all()
    widget = lab.widget()
    lab.submit("Talk")
    lab.page.wait_for_function(
        "() => (document.querySelector('.nbc-msg-assistant .nbc-body')?.textContent || '')"
        ".length > 40"
    )
    widget.locator("button.nbc-send").click()  # Send is Stop while streaming
    lab.wait_idle()
    reply = widget.locator(".nbc-msg-assistant").last
    reply.locator(".nbc-tag-stopped").wait_for()
    partial = (reply.locator(".nbc-body").text_content() or "").strip()
    assert 40 <= len(partial) < len("word " * 400), "stopped before the end"
    assert set(partial.split()) == {"word"}
    lab.screenshot("stopped", widget)

    reply.get_by_role("button", name="Continue this reply").click()
    lab.page.wait_for_function(
        "() => (document.querySelector('.nbc-msg-assistant .nbc-body')?.textContent || '')"
        ".includes('the end.')"
    )
    lab.wait_idle()
    assert widget.locator(".nbc-msg-assistant").count() == 1  # appended, not a new reply
    final = (reply.locator(".nbc-body").text_content() or "").strip()
    assert final.startswith(partial)
    assert final.endswith("and the end.")
    assert reply.locator(".nbc-tag-stopped").count() == 0
    assert lab.unexpected_console_errors() == []


def test_a_second_view_mirrors_the_stream_even_when_opened_mid_stream(lab: Jupyter) -> None:
    lab.open_notebook(
        f"{SETUP}\n"
        's = testing.script(["token "] * 300, tokens_per_second=60)\n'
        "chat = nbchat.Chat(s.model)\ndisplay(chat)",
        "display(chat)",
    )
    lab.run_cell(0)
    lab.submit("Go")
    lab.page.wait_for_function(
        "() => (document.querySelector('.nbc-msg-assistant .nbc-body')?.textContent || '')"
        ".length > 200"
    )
    lab.run_cell(1)  # a new view while the reply streams
    second = lab.widget(1)
    second.locator(".nbc-msg-assistant").wait_for()
    assert lab.reply_length(1) > 200  # it starts from the text so far, not from nothing
    lengths = lab.watch_stream(until=lambda: not lab.is_streaming(1), index=1)
    assert len(set(lengths)) >= 3, lengths
    lab.wait_idle(0)
    first_text = lab.widget(0).locator(".nbc-msg-assistant .nbc-body").text_content() or ""
    second_text = second.locator(".nbc-msg-assistant .nbc-body").text_content() or ""
    assert first_text.strip() == second_text.strip() == ("token " * 300).strip()
    assert lab.unexpected_console_errors() == []


def test_dark_theme_applies_to_the_widget(lab: Jupyter) -> None:
    lab.open_notebook(f'{SETUP}\nchat = nbchat.Chat("demo:echo")\nchat')
    lab.run_all()
    root = lab.widget()
    light = root.evaluate("el => getComputedStyle(el).backgroundColor")
    try:
        lab.set_theme("JupyterLab Dark")
        lab.page.wait_for_function(
            "([el, before]) => getComputedStyle(el).backgroundColor !== before",
            arg=[root.element_handle(), light],
        )
        dark = root.evaluate("el => getComputedStyle(el).backgroundColor")
        assert luminance(dark) < luminance(light)
        lab.screenshot("dark", root)
    finally:
        lab.set_theme("JupyterLab Light")
    assert lab.unexpected_console_errors() == []


def test_updating_the_static_transcript_keeps_the_live_view(lab: Jupyter) -> None:
    lab.open_notebook(
        f'{SETUP}\ns = testing.script("The answer is **42**.")\nchat = nbchat.Chat(s.model)\nchat',
        name="static.ipynb",
    )
    lab.run_all()
    root = lab.widget()
    root.evaluate("el => { window.__nbchatRoot = el; el.dataset.e2eMark = 'kept'; }")
    lab.submit("What is the answer?")
    lab.wait_idle()
    lab.page.wait_for_function(
        "() => (document.querySelector('.nbc-msg-assistant .nbc-body')?.textContent || '')"
        ".includes('The answer is 42')"
    )
    # The view a person is looking at was not torn down and rebuilt.
    assert lab.page.evaluate(
        "() => window.__nbchatRoot.isConnected && window.__nbchatRoot.dataset.e2eMark === 'kept'"
    )
    assert lab.widgets().count() == 1

    # A saved notebook carries the transcript for readers without widget JavaScript.
    lab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    lab.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = json.loads((lab.server.root / "static.ipynb").read_text())
    markdown = "".join(
        "".join(out.get("data", {}).get("text/markdown", ""))
        for out in saved["cells"][0]["outputs"]
    )
    assert "What is the answer?" in markdown
    assert "The answer is **42**." in markdown
    assert lab.unexpected_console_errors() == []


def test_the_static_transcript_is_hidden_next_to_a_live_chat(lab: Jupyter) -> None:
    lab.open_notebook(f'{SETUP}\ns = testing.script("Hidden?")\nchat = nbchat.Chat(s.model)\nchat')
    lab.run_all()
    lab.widget()
    lab.page.locator(".jp-OutputArea-child .nbchat-static").first.wait_for(state="attached")
    lab.submit("Still hidden?")
    lab.wait_idle()
    shown = lab.page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-child')]"
        ".filter((c) => c.querySelector('.nbchat-static'))"
        ".map((c) => [getComputedStyle(c).display,"
        " c.querySelector('.jp-OutputArea-output').classList.contains('nbchat-static'),"
        " c.querySelector('.nbchat-static').textContent])"
    )
    # The head and the segments of the transcript: hidden, drawn by nbchat's renderer
    # (not JupyterLab's Markdown), which drew nothing, even after a turn rewrote two of them.
    assert len(shown) == 5
    for display, ours, text in shown:
        assert (display, ours, text) == ("none", True, "")


def test_the_list_follows_the_reply_while_it_streams(lab: Jupyter) -> None:
    lab.open_notebook(f'{SETUP}\nchat = nbchat.Chat("demo:showcase", tokens_per_second=150)\nchat')
    lab.run_all()
    lab.submit("Show me what you can do")
    lab.watch_stream(until=lambda: not lab.is_streaming() and lab.reply_length() > 500)
    lab.wait_idle()
    scroller = lab.widget().locator(".nbc-scroller")
    gap = scroller.evaluate("s => s.scrollHeight - s.scrollTop - s.clientHeight")
    assert gap <= 70, f"{gap}px from the bottom after the reply"
    assert lab.widget().locator(".nbc-jump").is_hidden()


def luminance(css_color: str) -> float:
    """Relative brightness (0 to 255) of an ``rgb(…)``/``rgba(…)`` colour."""
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    r, g, b = (float(p) for p in parts[:3])
    return (r * 299 + g * 587 + b * 114) / 1000
