"""An I/O-free NDJSON framer: bytes in, JSON objects out.

Lines end with ``b"\\n"`` and nothing else. ``str.splitlines`` and httpx's ``iter_lines``
also break on U+2028, U+0085 and friends, which JSON strings may carry unescaped (Go's
encoder leaves U+0085 alone), so the framer splits *bytes* and decodes each complete
line as UTF-8 — a character split across two network chunks is whole by then.

>>> framer = NDJSONFramer()
>>> framer.feed(b'{"a": 1}\\n{"b"')
[{'a': 1}]
>>> framer.feed(b': 2}\\n')
[{'b': 2}]
>>> framer.close()
[]
"""

from __future__ import annotations

import json
import typing

from ..errors import ProtocolError, excerpt

__all__ = ["DEFAULT_MAX_LINE", "NDJSONFramer", "Record", "json_object"]

Record = dict[str, typing.Any]

#: The longest line we buffer. Real lines are a few hundred bytes; a tool call or a
#: final line with big arguments can reach megabytes, so the cap is generous.
DEFAULT_MAX_LINE = 16 * 1024 * 1024


class NDJSONFramer:
    """Turn chunks of an NDJSON body into JSON objects.

    ``feed`` returns the objects completed by a chunk; ``close`` handles the tail (a last
    line without its newline) and must be called at EOF. Blank lines are skipped, a
    trailing ``\\r`` is dropped, and anything that is not a JSON object raises
    :class:`~nbchat.errors.ProtocolError` quoting what came.
    """

    __slots__ = ("_buffer", "_max_line", "salvaged")

    def __init__(self, *, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._buffer = bytearray()
        self._max_line = max_line
        #: After a ProtocolError: the good records that came before the bad line in the
        #: same call, so a caller can still deliver them.
        self.salvaged: list[Record] = []

    def feed(self, data: bytes) -> list[Record]:
        end = data.rfind(b"\n")
        if end < 0:
            self._buffer += data
            if len(self._buffer) > self._max_line:
                self._too_long()
            return []
        if self._buffer:
            self._buffer += data[: end + 1]
            complete = bytes(self._buffer)
            self._buffer.clear()
        else:
            complete = data[: end + 1]
        rest = data[end + 1 :]
        if rest:
            self._buffer += rest
            if len(self._buffer) > self._max_line:
                self._too_long()
        return self._parse(complete.split(b"\n")[:-1])

    def close(self) -> list[Record]:
        """Parse a final line that had no newline; the framer is empty afterwards."""
        tail = bytes(self._buffer)
        self._buffer.clear()
        return self._parse([tail]) if tail.strip() else []

    def _too_long(self) -> typing.NoReturn:
        self._buffer.clear()
        mib = self._max_line // (1024 * 1024)
        raise ProtocolError(f"The server sent a line longer than {mib} MiB without a newline.")

    def _parse(self, lines: list[bytes]) -> list[Record]:
        # One json.loads over "[line,line,…]" costs far less than one call per line. Any
        # surprise (a blank or whitespace line, bad UTF-8, a line that is not one object)
        # falls back to the careful per-line path, which also names the bad line.
        lines = [line for line in lines if line]
        if not lines:
            return []
        try:
            # Decoding first spares json its encoding sniffing; bad UTF-8 takes the slow path.
            if len(lines) == 1:
                records = [json.loads(lines[0].decode())]
            else:
                records = json.loads((b"[" + b",".join(lines) + b"]").decode())
        except ValueError:
            return self._parse_each(lines)
        if len(records) != len(lines) or not all(type(r) is dict for r in records):
            return self._parse_each(lines)
        return typing.cast(list[Record], records)

    def _parse_each(self, lines: list[bytes]) -> list[Record]:
        records: list[Record] = []
        for line in lines:
            if line.strip():
                try:
                    records.append(_parse_line(line))
                except ProtocolError:
                    self.salvaged = records
                    raise
        return records


def _parse_line(line: bytes) -> Record:
    if line.endswith(b"\r"):
        line = line[:-1]
    return json_object(line.decode("utf-8", "replace"), "per line")


def json_object(text: str, where: str) -> Record:
    """The JSON object ``text`` holds, or :class:`ProtocolError` quoting it (also for SSE
    events: each protocol's records are JSON objects)."""
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if type(record) is not dict:
        raise ProtocolError(f"Expected a JSON object {where}, got: {excerpt(text, 80)!r}")
    return typing.cast(Record, record)
