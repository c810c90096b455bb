"""The chat in marimo (``marimo run``, marimo from PyPI) in headless Chromium, as a user uses it.

marimo draws each anywidget inside the shadow root of a ``<marimo-anywidget>`` element;
Playwright's CSS selectors pierce open shadow roots, so the selectors are the Lab tests'.
Each page load is a new marimo session with its own kernel and its own ``Chat``.
"""

from __future__ import annotations

import contextlib
import pathlib
import textwrap
import time
import typing
from collections.abc import Iterator

import pytest
from tests.e2e.harness import ARTIFACTS, REPO
from tests.e2e.marimo_harness import MarimoServer, marimo_missing
from tests.e2e.test_lab import luminance

if typing.TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page

pytestmark = pytest.mark.e2e

WIDGET = ".nbc-root"
TIMEOUT = 60_000  # ms: a cold kernel on a shared machine

NOTEBOOK = textwrap.dedent(
    """\
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        import marimo as mo

        import nbchat

        chat = mo.ui.anywidget(nbchat.Chat("demo:showcase"))
        chat
        return


    if __name__ == "__main__":
        app.run()
    """
)


def _serve(notebook: pathlib.Path, workdir: pathlib.Path) -> Iterator[MarimoServer]:
    missing = marimo_missing()
    if missing:
        pytest.fail(missing, pytrace=False)  # never a silent skip
    server = MarimoServer(notebook, workdir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoServer]:
    workdir = tmp_path_factory.mktemp("marimo")
    notebook = workdir / "chat.py"
    notebook.write_text(NOTEBOOK)
    yield from _serve(notebook, workdir)


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoServer]:
    yield from _serve(REPO / "notebooks" / "marimo_chat.py", tmp_path_factory.mktemp("example"))


class MarimoPage:
    """One browser page on a marimo app, with what the tests watch."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    def widget(self) -> Locator:
        locator = self.page.locator(WIDGET).first
        locator.wait_for(state="visible", timeout=TIMEOUT)
        return locator

    def submit(self, prompt: str) -> None:
        box = self.widget().locator("textarea.nbc-input")
        box.click()
        box.press_sequentially(prompt, delay=5)
        box.press("Enter")

    def reply_text(self) -> str:
        body = self.widget().locator(".nbc-msg-assistant .nbc-body").last
        return typing.cast(str, body.evaluate("el => el.textContent"))

    def is_streaming(self) -> bool:
        return self.widget().locator(".nbc-msg.is-streaming").count() > 0

    def watch_stream(self, until: typing.Callable[[], bool], timeout: float = 60.0) -> list[int]:
        """Distinct lengths of the reply seen, one look per animation frame."""
        lengths: list[int] = []
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the reply did not finish; lengths seen: {lengths}")
            with contextlib.suppress(Exception):  # the reply may not exist yet
                length = len(self.reply_text())
                if not lengths or length != lengths[-1]:
                    lengths.append(length)
            self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(0)))")
        return lengths

    def wait_idle(self) -> None:
        self.widget().locator(".nbc-msg-assistant").last.wait_for(timeout=TIMEOUT)
        self.widget().locator(".nbc-msg.is-streaming").wait_for(state="detached", timeout=TIMEOUT)

    def screenshot(self, label: str, target: Locator | None = None) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (target or self.page).screenshot(path=str(ARTIFACTS / f"marimo-{self.name}-{label}.png"))


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[MarimoPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    try:
        yield MarimoPage(context.new_page(), request.node.name)
    finally:
        context.close()


def test_a_reply_streams_with_math_stops_and_follows_the_dark_theme(
    marimo_app: MarimoServer, page: MarimoPage
) -> None:
    page.page.goto(f"{marimo_app.url}/?theme=dark")
    widget = page.widget()
    # The view sits in marimo's shadow root, and follows marimo's dark theme.
    assert widget.evaluate("el => el.getRootNode() instanceof ShadowRoot")
    assert widget.get_attribute("data-theme") == "dark"
    # marimo itself is dark (its colours are light-dark() values keyed on color-scheme).
    assert page.page.evaluate("() => getComputedStyle(document.body).colorScheme") == "dark"
    assert luminance(widget.evaluate("el => getComputedStyle(el).backgroundColor")) < 80

    page.submit("Show me what you can do")
    lengths = page.watch_stream(
        until=lambda: not page.is_streaming() and len(page.reply_text()) > 500
    )
    growing = [n for n in lengths if n > 0]
    assert len(set(growing)) >= 3, f"too few intermediate states: {lengths}"
    assert growing == sorted(growing), f"the reply shrank while streaming: {lengths}"
    page.wait_idle()

    reply = widget.locator(".nbc-msg-assistant").last
    assert reply.locator(".katex").count() >= 3
    # A KaTeX face became loaded because the page drew math with it (nobody asked for it
    # otherwise). marimo ships KaTeX faces of its own too, so `fonts.check` is no proof.
    page.page.wait_for_function(
        "() => [...document.fonts].some((f) => f.family.replace(/\"/g, '') === 'KaTeX_Main'"
        " && f.status === 'loaded')"
    )
    assert reply.locator("pre code .hljs-keyword").count() >= 2
    page.screenshot("showcase", widget)

    # Stop: the partial reply stays, marked stopped; Continue carries on.
    page.submit("Again, please")
    page.page.wait_for_function(
        """(sel) => {
            const replies = document.querySelector('marimo-anywidget').shadowRoot
                .querySelectorAll(sel + ' .nbc-msg-assistant');
            return replies.length === 2 && replies[1].textContent.length > 80;
        }""",
        arg=WIDGET,
        timeout=TIMEOUT,
    )
    started = time.monotonic()
    widget.get_by_role("button", name="Stop generating").click()
    second = widget.locator(".nbc-msg-assistant").nth(1)
    second.locator(".nbc-tag-stopped").wait_for(timeout=TIMEOUT)
    assert time.monotonic() - started < 5.0
    assert not page.is_streaming()
    partial = page.reply_text()
    whole = widget.locator(".nbc-msg-assistant .nbc-body").first.text_content() or ""
    assert 0 < len(partial.strip()) < len(whole.strip()), "stopped before the end"
    second.get_by_role("button", name="Continue this reply").click()
    page.watch_stream(until=lambda: not page.is_streaming() and "$15" in page.reply_text())
    # Appended to the stopped reply (its first line is the same), not a third reply.
    assert page.reply_text().split("\n")[0] == partial.split("\n")[0]
    assert widget.locator(".nbc-msg-assistant").count() == 2
    assert second.locator(".nbc-tag-stopped").count() == 0
    page.screenshot("stopped-and-continued", widget)
    assert page.console_errors == []


def test_light_theme_and_a_live_theme_switch(marimo_app: MarimoServer, page: MarimoPage) -> None:
    page.page.goto(f"{marimo_app.url}/?theme=light")
    widget = page.widget()
    assert widget.get_attribute("data-theme") == "light"
    light = widget.evaluate("el => getComputedStyle(el).backgroundColor")
    assert luminance(light) > 200, light
    # Switch the way marimo's ThemeProvider does it (classes and data-theme on <body>).
    page.page.evaluate(
        """() => {
            document.body.classList.remove('light', 'light-theme');
            document.body.classList.add('dark', 'dark-theme');
            document.body.dataset.theme = 'dark';
        }"""
    )
    page.page.wait_for_function(
        "() => document.querySelector('marimo-anywidget').shadowRoot"
        ".querySelector('.nbc-root').dataset.theme === 'dark'"
    )
    assert luminance(widget.evaluate("el => getComputedStyle(el).backgroundColor")) < 80
    assert page.console_errors == []


def test_the_example_notebook_runs(example_app: MarimoServer, page: MarimoPage) -> None:
    page.page.goto(example_app.url)
    widget = page.widget()
    assert "showcase" in (widget.locator(".nbc-model").text_content() or "")
    page.submit("Hello")
    page.wait_idle()
    assert len(page.reply_text()) > 100
    assert page.console_errors == []
