"""A widget comm with no kernel behind it, for tests: it records what the widget sends (after a
JSON round trip, as the wire would) and delivers what a test says the front end sent.

Use the ``recording_comm`` fixture (``tests/conftest.py``), then read with :func:`custom`,
:func:`timeline` or :func:`wire`, and speak for the front end with :func:`from_ui`.
"""

from __future__ import annotations

import json
import threading
import time
import typing

from comm.base_comm import BaseComm

if typing.TYPE_CHECKING:
    import ipywidgets

__all__ = [
    "RecordingComm",
    "Sent",
    "branch",
    "custom",
    "from_ui",
    "from_ui_with",
    "states",
    "synced",
    "timeline",
    "wire",
]


class Sent(typing.NamedTuple):
    msg_type: str  # "comm_open", "comm_msg", "comm_close"
    data: dict[str, typing.Any]
    thread: int  # the thread that sent it (ipykernel wants the main one)
    buffers: list[bytes]
    time: float  # time.monotonic() when sent: benchmarks count messages per second


class RecordingComm(BaseComm):
    """Records each message sent; ``received`` keeps what :func:`from_ui` delivered."""

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.log: list[Sent] = []
        self.received: list[dict[str, typing.Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, typing.Any] | None = None,
        metadata: dict[str, typing.Any] | None = None,
        buffers: list[bytes] | None = None,
        **keys: typing.Any,
    ) -> None:
        # Through JSON, as the wire would: what cannot be encoded fails here.
        wire_data = json.loads(json.dumps(data or {}, ensure_ascii=False))
        buffers_ = [bytes(b) for b in buffers or ()]
        sent = Sent(msg_type, wire_data, threading.get_ident(), buffers_, time.monotonic())
        self.log.append(sent)


def wire(widget: ipywidgets.Widget) -> RecordingComm:
    """The recording comm behind ``widget``."""
    assert isinstance(widget.comm, RecordingComm), "use the recording_comm fixture"
    return widget.comm


def custom(widget: ipywidgets.Widget, kind: str | None = None) -> list[dict[str, typing.Any]]:
    """The custom messages the widget sent (``start``, ``delta``, ``error``…), in order."""
    out = [
        s.data["content"]
        for s in wire(widget).log
        if s.msg_type == "comm_msg" and s.data.get("method") == "custom"
    ]
    return [m for m in out if kind is None or m.get("kind") == kind]


def timeline(widget: ipywidgets.Widget) -> list[str]:
    """Everything sent after comm_open: custom kinds, and ``update:<keys>`` for state, where
    the per-message keys of a Chat (``m:<id>``, ``c:<id>``) read as one ``history``."""
    out = []
    for s in wire(widget).log:
        if s.msg_type != "comm_msg":
            continue
        if s.data["method"] == "custom":
            out.append(s.data["content"]["kind"])
        elif s.data["method"] == "update":
            keys = {"history" if k[:2] in ("m:", "c:") else k for k in s.data["state"]}
            out.append("update:" + ",".join(sorted(keys)))
    return out


def states(widget: ipywidgets.Widget) -> list[dict[str, typing.Any]]:
    """The state of each update the widget sent, in order (comm_open's not included)."""
    return [
        s.data["state"]
        for s in wire(widget).log
        if s.msg_type == "comm_msg" and s.data.get("method") == "update"
    ]


def synced(widget: ipywidgets.Widget, upto: int | None = None) -> dict[str, typing.Any]:
    """The state a front end holds after comm_open and the first ``upto`` updates (all)."""
    opened = [s for s in wire(widget).log if s.msg_type == "comm_open"]
    state: dict[str, typing.Any] = dict(opened[0].data["state"]) if opened else {}
    for update in states(widget)[:upto]:
        state.update(update)
    return state


def branch(state: dict[str, typing.Any]) -> list[dict[str, typing.Any]]:
    """The messages a front end draws from ``state``: ``parent`` walked from ``leaf``."""
    out: list[dict[str, typing.Any]] = []
    at = state.get("leaf") or None
    while at is not None and state.get(f"m:{at}") is not None:
        out.append(state[f"m:{at}"])
        at = state[f"m:{at}"].get("parent")
    return out[::-1]


def from_ui(widget: ipywidgets.Widget, /, **content: object) -> None:
    """Deliver a custom message as the front end sends it (``kind="submit", text=…``)."""
    from_ui_with(widget, [], **content)


def from_ui_with(
    widget: ipywidgets.Widget, buffers: typing.Sequence[bytes], /, **content: object
) -> None:
    """:func:`from_ui` with ``buffers`` as the message's binary buffers (memoryviews, as a
    kernel hands them over)."""
    comm = wire(widget)
    comm.received.append(dict(content))
    data = {"method": "custom", "content": content}
    comm.handle_msg({"content": {"data": data}, "buffers": [memoryview(b) for b in buffers]})
