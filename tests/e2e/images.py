"""Images into a chat in the browser, as a user gives them: a real ``paste`` event or a
``dragover`` + ``drop`` pair carrying a ``DataTransfer`` that holds a File. Also used by
``benchmarks/images.py``.
"""

from __future__ import annotations

import base64
import io
import typing

if typing.TYPE_CHECKING:
    from playwright.sync_api import Locator

__all__ = ["drop_file", "gradient", "paste_file"]

#: Builds the File in the page from base64 (Playwright passes JSON, not bytes).
_FILE_JS = """
    const [b64, name, type] = args;
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type }));
"""

_PASTE_JS = f"""(el, args) => {{ {_FILE_JS}
    window.__nbcPastedAt = performance.now();
    const event = new ClipboardEvent("paste", {{
        clipboardData: data, bubbles: true, cancelable: true }});
    el.dispatchEvent(event);
    return event.defaultPrevented;
}}"""

_DROP_JS = f"""(el, args) => {{ {_FILE_JS}
    el.dispatchEvent(new DragEvent("dragover", {{
        dataTransfer: data, bubbles: true, cancelable: true }}));
    const event = new DragEvent("drop", {{ dataTransfer: data, bubbles: true, cancelable: true }});
    el.dispatchEvent(event);
    return event.defaultPrevented;
}}"""


def paste_file(target: Locator, data: bytes, name: str, mime: str) -> bool:
    """Paste a file into ``target`` (the message box); whether the chat took the paste."""
    args = [base64.b64encode(data).decode("ascii"), name, mime]
    return bool(target.evaluate(_PASTE_JS, args))


def drop_file(target: Locator, data: bytes, name: str, mime: str) -> bool:
    """Drag a file over ``target`` and drop it; whether the drop was taken."""
    args = [base64.b64encode(data).decode("ascii"), name, mime]
    return bool(target.evaluate(_DROP_JS, args))


def gradient(width: int, height: int, fmt: str, *, noise: int = 0, seed: int = 1) -> bytes:
    """A ``width`` by ``height`` image in ``fmt`` ("PNG", "JPEG", "WEBP"): smooth colour ramps,
    plus per-pixel noise of amplitude ``noise`` (what a photo's sensor and texture add)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            255 * x / max(1, width - 1),
            255 * y / max(1, height - 1),
            127 + 100 * np.sin(x / 97.0) * np.cos(y / 61.0),
        ],
        axis=-1,
    )
    if noise:
        rgb += np.random.default_rng(seed).normal(0, noise, rgb.shape).astype(np.float32)
    picture = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    picture.save(out, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()
