"""The images benchmark's own logic, without a browser (a smoke test).

``benchmarks/images.py`` finds the ``submit`` frame among those the page sends by decoding
JupyterLab's websocket frames (binary buffers included); if that framing changed, its
"over the comm" figure would silently vanish. Its photo must stay a realistic one, and its
baseline cell must stay Python.
"""

from __future__ import annotations

import base64
import io
import json
import typing

from benchmarks import images
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from PIL import Image


def frame(msg_type: str, content: dict[str, typing.Any], buffers: list[bytes]) -> bytes:
    """A v1 websocket frame as JupyterLab sends it: header, parent, metadata, content, and
    the binary buffers after them."""
    parts = [{"msg_type": msg_type}, {}, {}, content]
    msg_list = [json.dumps(part).encode() for part in parts] + buffers
    return typing.cast(bytes, serialize_msg_to_ws_v1(msg_list, "shell"))  # type: ignore[no-untyped-call]


class FakeCDP:
    def __init__(self) -> None:
        self.handlers: dict[str, typing.Callable[[dict[str, typing.Any]], None]] = {}

    def on(self, event: str, handler: typing.Callable[[dict[str, typing.Any]], None]) -> None:
        self.handlers[event] = handler

    def send(self, payload: bytes, request: str = "ws") -> None:
        response = {"opcode": 2, "payloadData": base64.b64encode(payload).decode()}
        params = {"requestId": request, "timestamp": 1.0, "response": response}
        self.handlers["Network.webSocketFrameSent"](params)


def test_the_submit_frame_is_counted_with_its_binary_buffer() -> None:
    cdp = FakeCDP()
    frames = images.SentFrames(typing.cast(typing.Any, cdp))
    cdp.handlers["Network.webSocketCreated"]({"requestId": "ws", "url": "ws://h/channels"})
    picture = b"\xff\xd8\xff" + bytes(200_000)
    submit = {"data": {"method": "custom", "content": {"kind": "submit", "text": "hi"}}}
    sent = frame("comm_msg", submit, [picture])
    cdp.send(frame("comm_msg", {"data": {"method": "custom", "content": {"kind": "hello"}}}, []))
    cdp.send(sent)
    cdp.send(sent, request="elsewhere")  # not a kernel channel
    cdp.send(frame("execute_request", {"code": "x = 1"}, []))
    assert frames.submits() == [len(sent)]
    assert frames.submits()[0] > len(picture)  # the buffer is in the frame, as bytes
    assert len(frames.executes()) == 1


def test_the_photo_is_a_realistic_twelve_megapixel_jpeg() -> None:
    data = images.photo()
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size) == ("JPEG", (4000, 3000))
    assert 2_000_000 < len(data) < 6_000_000  # what a phone camera writes, not a flat image


def test_the_baseline_and_setup_cells_are_python() -> None:
    compile(images.baseline_code("aGk="), "<cell>", "exec")
    compile(images.setup_cell("http://127.0.0.1:1/v1"), "<cell>", "exec")


def test_the_table_marks_each_target() -> None:
    med = {
        "comm_bytes": 200 * 1024,
        "baseline_comm_bytes": 4800 * 1024,
        "thumbnail_ms": 400.0,
        "baseline_thumbnail_ms": 200.0,
        "request_s": 0.2,
        "baseline_request_s": 2.0,
        "request_body_bytes": 1.0,
        "baseline_request_body_bytes": 1.0,
    }
    text = images.table(med, 3_000_000, "Image 1, 1568×1176 JPEG")
    assert "| over the comm | 200 KB | 4,800 KB | 24.0x | ≤ 600 KB ✓ |" in text
    assert "< 300 ms ✗" in text
    assert "| request at the server | 200 ms | 2,000 ms | 10.0x | < 1 s ✓ |" in text
