"""Images in a real JupyterLab (issue 11): paste, drop and the file picker each put a
thumbnail in the input; one is removed; a refused SVG says why and keeps the typed text;
the message goes to an OpenAI-compatible emulator on 127.0.0.1, which receives the images
scaled, as PNG or JPEG; the sent message shows their thumbnails, one opens larger; and the
saved notebook grows by less than 64 KB per image.
"""

from __future__ import annotations

import base64
import io
import json
import typing

import pytest
from PIL import Image
from playwright.sync_api import expect
from tests.e2e.images import drop_file, gradient, paste_file
from tests.servers import EmulatorServer

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import Iterator

    from tests.e2e.harness import Jupyter

pytestmark = pytest.mark.e2e

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1"><rect/></svg>'
SAVE_STATE = "@jupyter-widgets/jupyterlab-manager:saveWidgetState"
PER_IMAGE_LIMIT = 64 * 1024


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer("openai") as server:
        yield server


def _save(lab: Jupyter, path: pathlib.Path) -> int:
    """Save the notebook (with widget state, when that is on) and return its size."""
    before = path.stat().st_mtime_ns
    # Awaited in the page: the command resolves once the server has written the file.
    lab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    assert path.stat().st_mtime_ns != before, "the notebook was not written"
    return path.stat().st_size


def _widget_state_saved(lab: Jupyter, on: bool) -> None:
    lab.page.evaluate(
        """([id, on]) => {
            const commands = window.jupyterapp.commands;
            if (commands.isToggled(id) !== on) return commands.execute(id);
        }""",
        [SAVE_STATE, on],
    )
    lab.page.wait_for_function(
        "([id, on]) => window.jupyterapp.commands.isToggled(id) === on", arg=[SAVE_STATE, on]
    )


def _sent_images(body: dict[str, typing.Any]) -> list[Image.Image]:
    """The images of the request's last user message, decoded from their data: URLs."""
    user = [m for m in body["messages"] if m["role"] == "user"][-1]
    out: list[Image.Image] = []
    for part in user["content"]:
        if part["type"] != "image_url":
            continue
        head, _, payload = part["image_url"]["url"].partition(",")
        assert head in ("data:image/png;base64", "data:image/jpeg;base64"), head
        picture = Image.open(io.BytesIO(base64.b64decode(payload)))
        picture.load()
        out.append(picture)
    return out


def test_paste_drop_and_pick_images_then_send_them(
    lab: Jupyter, emulator: EmulatorServer, tmp_path: pathlib.Path
) -> None:
    setup = (
        "import nbchat\n"
        f"chat = nbchat.Chat('openai:llama3.2:latest', base_url={emulator.base_url!r}, "
        "api_key='sk-emulator')\n"
        "chat"
    )
    lab.open_notebook(setup)
    notebook = lab.server.root / f"{lab.test_name}.ipynb"
    _widget_state_saved(lab, True)
    try:
        lab.run_cell(0)
        root = lab.widget()
        box = root.locator("textarea.nbc-input")
        thumbs = root.locator(".nbc-attachments img")
        lab.wait_kernel_idle()
        size_before = _save(lab, notebook)

        # Paste: a PNG screenshot, taken by the message box.
        assert paste_file(box, gradient(640, 480, "PNG"), "screenshot.png", "image/png")
        expect(thumbs).to_have_count(1)
        expect(thumbs.nth(0)).to_have_attribute("alt", "Image 1, 640×480 PNG")

        # Drop: a JPEG dropped anywhere on the chat.
        assert drop_file(root.locator(".nbc-stage"), gradient(800, 600, "JPEG"), "a.jpg", "")
        expect(thumbs).to_have_count(2)

        # The file picker, from its named button: a large WebP, scaled and converted.
        webp = tmp_path / "wide.webp"
        webp.write_bytes(gradient(3000, 1000, "WEBP", noise=4))
        with lab.page.expect_file_chooser() as chooser:
            root.get_by_role("button", name="Attach images").click()
        chooser.value.set_files(str(webp))
        expect(thumbs).to_have_count(3)
        # Noisy pixels make a heavy PNG: it goes as JPEG (llama.cpp cannot read WebP).
        expect(thumbs.nth(2)).to_have_attribute("alt", "Image 3, 1568×523 JPEG")

        # Remove the dropped one: the others are renumbered.
        root.get_by_role("button", name="Remove image 2").click()
        expect(thumbs).to_have_count(2)
        expect(thumbs.nth(1)).to_have_attribute("alt", "Image 2, 1568×523 JPEG")

        # A refused SVG: a visible reason, the typed text kept, nothing added or rendered.
        box.click()
        box.press_sequentially("What do these show?", delay=2)
        paste_file(box, SVG, "drawing.png", "image/png")
        reason = root.locator(".nbc-input-reason")
        expect(reason).to_be_visible()
        expect(reason).to_contain_text("is an SVG")
        expect(box).to_have_value("What do these show?")
        expect(thumbs).to_have_count(2)
        assert lab.page.evaluate("() => window.__xss") is None
        lab.screenshot("attached", root)

        # Send: the emulator gets the two images, scaled, as PNG or JPEG.
        box.press("Enter")
        assert emulator.wait_for(lambda: len(emulator.chat_requests) == 1, timeout=30)
        body = emulator.chat_requests[0].json()
        sent = _sent_images(body)
        assert [(p.format, p.size) for p in sent] == [("PNG", (640, 480)), ("JPEG", (1568, 523))]
        lab.wait_idle()
        expect(thumbs).to_have_count(0)

        # The sent message shows them as thumbnails; one opens larger, Escape closes it.
        shown = root.locator(".nbc-msg-user .nbc-thumb")
        expect(shown).to_have_count(2)
        first = shown.nth(0)
        expect(first.locator("img")).to_have_attribute("alt", "Image 1, 640×480 PNG")
        src = first.locator("img").get_attribute("src") or ""
        assert src.startswith("data:image/")
        assert len(src) <= 16 * 1024
        first.focus()
        lab.page.keyboard.press("Enter")
        dialog = root.get_by_role("dialog", name="Image 1, 640×480 PNG")
        expect(dialog).to_be_visible()
        big = dialog.locator("img")
        big.evaluate("img => img.decode()")  # resolves once the full image is decoded
        assert big.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 480]
        lab.screenshot("larger", root)
        lab.page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert first.evaluate("el => el === document.activeElement")

        # The saved notebook carries thumbnails, not the images.
        size_after = _save(lab, notebook)
        saved = json.loads(notebook.read_text())
        assert "widgets" in saved["metadata"]
        grown = size_after - size_before
        print(f"saved notebook: {size_before:,} -> {size_after:,} bytes (+{grown:,}, 2 images)")
        assert grown < 2 * PER_IMAGE_LIMIT, (size_before, size_after)
        assert lab.unexpected_console_errors() == []
    finally:
        _widget_state_saved(lab, False)
