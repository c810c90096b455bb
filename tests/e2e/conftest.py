"""Fixtures for the end-to-end tests: one server per app, one browser, a page per test."""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import tempfile
import typing
from collections.abc import Iterator

import pytest
from tests.e2e.harness import (
    ARTIFACTS,
    BUNDLE,
    CHROMIUM,
    CHROMIUM_ARGS,
    LABEXT,
    AppKind,
    Jupyter,
    JupyterServer,
)

if typing.TYPE_CHECKING:
    from playwright.sync_api import Browser


# ---------------------------------------------------------------------------------------
# Fixtures.


def _require_setup() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Chromium")
    if not BUNDLE.exists() or BUNDLE.stat().st_size < 10_000:
        pytest.fail(f"{BUNDLE} is not a real build: run `npm run build` first")
    if not (LABEXT / "package.json").exists():
        pytest.fail(f"{LABEXT} is not built: run `npm run build` first")


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    """Screenshots are from this run only."""
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()


# Module scope, not session: while sync_playwright runs, its event loop is the main thread's
# running loop, and every pytest-asyncio test collected after it would fail to start.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_setup()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _server(kind: AppKind) -> Iterator[JupyterServer]:
    _require_setup()
    base = pathlib.Path(tempfile.mkdtemp(prefix=f"nbchat-e2e-{kind}-"))
    server = JupyterServer(kind, base)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_server() -> Iterator[JupyterServer]:
    yield from _server("lab")


@pytest.fixture(scope="session")
def notebook_server() -> Iterator[JupyterServer]:
    yield from _server("notebook")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "viewport(width, height): the browser page's size")


def _jupyter(
    server: JupyterServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Jupyter]:
    marker = request.node.get_closest_marker("viewport")
    width, height = marker.args if marker is not None else (1280, 1000)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    jupyter = Jupyter(server, page, request.node.name)
    try:
        yield jupyter
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            with contextlib.suppress(Exception):
                jupyter.screenshot("failure")
        with contextlib.suppress(Exception):
            # Shut the kernel down with the page, so kernels do not pile up.
            page.evaluate(
                "async () => { const w = window.jupyterapp?.shell?.currentWidget;"
                " await w?.sessionContext?.shutdown(); }"
            )
        context.close()


@pytest.fixture
def lab(
    lab_server: JupyterServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Jupyter]:
    yield from _jupyter(lab_server, browser, request)


@pytest.fixture
def notebook7(
    notebook_server: JupyterServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Jupyter]:
    yield from _jupyter(notebook_server, browser, request)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> typing.Generator[None, pytest.TestReport, pytest.TestReport]:
    # Lets the page fixture know the test failed, to keep a screenshot of the moment.
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
