"""The NDJSON framer: bytes in, JSON objects out, whatever the chunk boundaries."""

from __future__ import annotations

import json
import random

import pytest

from nbchat.errors import ProtocolError
from nbchat.providers._ndjson import NDJSONFramer, Record

# Every character class that breaks naive decoders: 2-, 3- and 4-byte UTF-8, the line
# separators str.splitlines() splits on (U+2028, U+2029, U+0085, \x1c), and an escaped \n.
TRICKY = ["é", "中文", "🎉", "a\u2028b", "c\u2029d", "e\u0085f", "g\x1ch", "i\nj", "\r"]


def ndjson(records: list[Record]) -> bytes:
    # Python leaves U+2028/U+0085 raw with ensure_ascii=False, as C++ and Python servers do.
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def feed_all(framer: NDJSONFramer, chunks: list[bytes]) -> list[Record]:
    out: list[Record] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out + framer.close()


RECORDS: list[Record] = [{"i": i, "content": text} for i, text in enumerate(TRICKY)]
BODY = ndjson(RECORDS)


def test_line_separators_inside_json_strings_do_not_split_records() -> None:
    assert "\u2028".encode() in BODY
    assert "\u0085".encode() in BODY
    assert feed_all(NDJSONFramer(), [BODY]) == RECORDS


def test_every_split_offset_decodes_the_same_records() -> None:
    for offset in range(1, len(BODY)):
        got = feed_all(NDJSONFramer(), [BODY[:offset], BODY[offset:]])
        assert got == RECORDS, f"split at byte {offset}"


def test_one_byte_at_a_time_decodes_the_same_records() -> None:
    got = feed_all(NDJSONFramer(), [BODY[i : i + 1] for i in range(len(BODY))])
    assert got == RECORDS


def test_random_chunking_decodes_the_same_records() -> None:
    rng = random.Random(20261124)
    body = BODY * 20
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(body)), 30))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        assert feed_all(NDJSONFramer(), chunks) == RECORDS * 20


def test_crlf_line_endings_and_blank_lines_are_tolerated() -> None:
    body = b'{"a": 1}\r\n\r\n  \n{"b": 2}\r\n\n'
    assert feed_all(NDJSONFramer(), [body]) == [{"a": 1}, {"b": 2}]


def test_last_line_without_a_newline_is_parsed_at_close() -> None:
    framer = NDJSONFramer()
    assert framer.feed(b'{"a": 1}\n{"done": tr') == [{"a": 1}]
    assert framer.feed(b"ue}") == []
    assert framer.close() == [{"done": True}]


def test_garbage_line_is_a_protocol_error_quoting_what_came() -> None:
    framer = NDJSONFramer()
    body = b'{"a": 1}\n<html><body>502 Bad Gateway</body></html>\n{"b": 2}\n'
    with pytest.raises(ProtocolError) as caught:
        framer.feed(body)
    assert "<html><body>502 Bad Gateway</body></html>" in caught.value.message
    assert framer.salvaged == [{"a": 1}]  # the good line before it is not lost


def test_long_garbage_is_quoted_shortly() -> None:
    with pytest.raises(ProtocolError) as caught:
        NDJSONFramer().feed(b"x" * 5000 + b"\n")
    assert len(caught.value.message) < 200
    assert "x" * 80 in caught.value.message


@pytest.mark.parametrize("line", [b"[1, 2]", b'"text"', b"42", b"null", b'{"a": 1}, {"b": 2}'])
def test_a_line_that_is_not_one_json_object_is_a_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        NDJSONFramer().feed(b'{"ok": 1}\n' + line + b"\n")


def test_objects_spread_over_two_lines_are_a_protocol_error() -> None:
    # Joined into one JSON array these two lines would parse as one object.
    with pytest.raises(ProtocolError):
        NDJSONFramer().feed(b'{"a": [1,\n2]}\n')


def test_invalid_utf8_is_replaced_rather_than_fatal() -> None:
    records = NDJSONFramer().feed(b'{"content": "ok \xff\xfe end"}\n')
    assert records == [{"content": "ok \ufffd\ufffd end"}]


def test_a_ten_megabyte_line_in_small_chunks_decodes() -> None:
    big = "é" * (5 * 1024 * 1024)  # 10 MiB of UTF-8
    body = ndjson([{"content": big}])
    framer = NDJSONFramer()
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    assert feed_all(framer, chunks) == [{"content": big}]


def test_a_line_past_the_cap_is_a_protocol_error() -> None:
    framer = NDJSONFramer(max_line=1024)
    framer.feed(b'{"content": "' + b"a" * 1000)
    with pytest.raises(ProtocolError) as caught:
        framer.feed(b"a" * 100)
    assert "longer than" in caught.value.message


def test_garbage_tail_at_close_is_a_protocol_error() -> None:
    framer = NDJSONFramer()
    framer.feed(b'{"a": 1}\n{"unfinished": ')
    with pytest.raises(ProtocolError):
        framer.close()
