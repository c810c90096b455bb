"""The long-conversation benchmark's own logic, without a browser (a smoke test: < 1 s).

``benchmarks/long.py`` counts what the page receives by decoding JupyterLab's websocket
frames; if the server's framing changed, its byte figures would silently go to zero.
"""

from __future__ import annotations

import base64
import json
import typing

from benchmarks import long
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1


def frame(msg_type: str, content: dict[str, typing.Any]) -> bytes:
    msg = {
        "header": {"msg_type": msg_type},
        "parent_header": {},
        "metadata": {},
        "content": content,
    }
    pack = lambda part: json.dumps(part).encode()  # noqa: E731
    return typing.cast(bytes, serialize_msg_to_ws_v1(msg, "iopub", pack))  # type: ignore[no-untyped-call]


class FakeCDP:
    def __init__(self) -> None:
        self.handlers: dict[str, typing.Callable[[dict[str, typing.Any]], None]] = {}

    def on(self, event: str, handler: typing.Callable[[dict[str, typing.Any]], None]) -> None:
        self.handlers[event] = handler

    def receive(self, ts: float, payload: bytes, request: str = "ws") -> None:
        response = {"opcode": 2, "payloadData": base64.b64encode(payload).decode()}
        self.handlers["Network.webSocketFrameReceived"](
            {"requestId": request, "timestamp": ts, "response": response}
        )


def test_decode_reads_jupyter_servers_v1_frames() -> None:
    content = {"comm_id": "c", "data": {"method": "custom", "content": {"kind": "done"}}}
    assert long.decode(frame("comm_msg", content)) == ("comm_msg", content)
    text = json.dumps({"header": {"msg_type": "status"}, "content": {"execution_state": "idle"}})
    assert long.decode(text) == ("status", {"execution_state": "idle"})


def test_frames_sorts_bytes_by_kind_within_the_window() -> None:
    cdp = FakeCDP()
    frames = long.Frames(typing.cast(typing.Any, cdp))
    cdp.handlers["Network.webSocketCreated"](
        {"requestId": "ws", "url": "ws://h/api/kernels/k/channels"}
    )
    update = frame("comm_msg", {"data": {"method": "update", "state": {"leaf": "ab"}}})
    static = frame("update_display_data", {"data": {"text/markdown": "# hi"}})
    status = frame("status", {"execution_state": "idle"})
    for ts, payload in enumerate((update, static, status, update)):
        cdp.receive(float(ts), payload)
    cdp.receive(1.0, update, request="other")  # not a kernel channel: not counted
    got = frames.between(0.0, 2.0)
    assert got == {
        "widget": len(update),
        "widget_messages": 1,
        "widget_payload": len('{"leaf": "ab"}'),
        "static": len(static),
        "total": len(update) + len(static) + len(status),
    }


def test_the_benchmark_notebook_is_python() -> None:
    for seed in (None, "seed-100.json"):
        for source in long.cells("/some/src", 100 if seed else 0, seed):
            compile(source, "<cell>", "exec")


def test_hot_functions_counts_a_sample_once_per_function_on_its_stack() -> None:
    def node(id_: int, name: str, children: list[int], line: int = 0) -> dict[str, typing.Any]:
        frame = {"functionName": name, "url": "http://x/app.js?v=1", "lineNumber": line}
        return {"id": id_, "callFrame": frame, "children": children}

    profile = {
        "nodes": [
            node(1, "(root)", [2, 5]),
            node(2, "draw", [3], 9),
            node(3, "draw", [4], 9),  # recursion: still one function
            node(4, "split", []),
            node(5, "(idle)", []),
        ],
        "samples": [4, 4, 3, 5],
        "timeDeltas": [1000, 2000, 500, 9000],  # microseconds
    }
    lines = long.hot_functions(profile)
    assert lines[0].startswith("script 4 ms")  # idle is not script
    totals = {" ".join(x.split()[2:]): float(x.split()[0]) for x in lines[1:]}
    assert totals == {"draw app.js:10": 3.5, "split app.js:1": 3.0}
