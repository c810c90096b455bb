"""A notebook saved with its widget state (issue 15 part 3) reopens with every chat drawn.

nbclient runs two chats in a kernel of its own and saves the widget state: the view's code
once, in the runtime model, and each chat's small loader. JupyterLab then opens the file
(trusted, as the user's own saved notebook is) with a fresh kernel that never made those
models: each chat's loader finds the runtime in the saved state, imports its code and
draws the saved conversation.
"""

from __future__ import annotations

import json

import pytest
from benchmarks import weight
from nbformat.sign import NotebookNotary
from tests.e2e.harness import KERNEL_TIMEOUT, Jupyter

pytestmark = pytest.mark.e2e


def test_a_saved_notebook_draws_every_chat_from_its_saved_state(lab: Jupyter) -> None:
    nb = weight.run(2, None)
    saved = weight.states(nb)
    assert sum("code" in s["state"] for s in saved.values()) == 1  # the code, saved once
    name = "saved-chats.ipynb"
    # Trusted, as a notebook the user saved is: JupyterLab draws no widget (its renderer is
    # not "safe") in an untrusted one. The server's notary reads this data dir.
    notary = NotebookNotary(data_dir=str(lab.server.root.parent / "data"))  # type: ignore[no-untyped-call]
    notary.sign(nb)  # type: ignore[no-untyped-call]
    (lab.server.root / name).write_text(json.dumps(nb))  # a NotebookNode is a dict
    lab.page.goto(lab.server.page_url(name))
    lab.page.wait_for_function(
        "(n) => document.querySelectorAll('.jp-OutputArea-output .nbc-root').length === n",
        arg=2,
        timeout=KERNEL_TIMEOUT,
    )
    for index in range(2):
        view = lab.widget(index)
        view.locator(".nbc-msg-user", has_text=weight.PROMPT).wait_for(timeout=KERNEL_TIMEOUT)
        view.locator(".nbc-msg-assistant").first.wait_for(timeout=KERNEL_TIMEOUT)
    # The stylesheet came with the code, once.
    assert lab.page.locator("head style[data-nbchat-css]").count() == 1
    lab.screenshot("saved")
    assert lab.unexpected_console_errors() == []
