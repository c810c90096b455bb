"""The tool-loop benchmark's own logic on two short rounds per protocol (a smoke test:
no timing assertions, only that every gap was measured and the requests are the ones the
figures claim to time)."""

from __future__ import annotations

import json
import pathlib

import pytest
from benchmarks import tools


def tool_message(flavour: str, i: int) -> dict[str, str]:
    if flavour == "ollama":
        return {"role": "tool", "tool_name": "lookup", "content": f"value of k{i}"}
    return {"role": "tool", "tool_call_id": f"call_{i:04d}", "content": f"value of k{i}"}


@pytest.mark.parametrize("flavour", ["ollama", "openai"])
def test_each_round_times_a_tool_follow_up_and_a_plain_next_turn(flavour: str) -> None:
    run = tools.measure(flavour, turns=2, warm_up=1)

    for figures in (run.tool_gap_ms, run.tool_runtime_ms, run.baseline_ms, run.floor_ms):
        assert len(figures) == 2
        assert all(ms > 0 for ms in figures)
    assert all(o > 0 for o in run.overhead_ms)
    assert len(run.bodies) == 9  # 3 rounds (one warm-up) × call, follow-up, plain turn
    for i in range(3):
        called, followed, plain = run.bodies[3 * i : 3 * i + 3]
        assert called["messages"][-1] == {"role": "user", "content": f"Look up k{i}."}
        assert followed["messages"][-1] == tool_message(flavour, i)
        assert [c["function"]["name"] for c in followed["messages"][-2]["tool_calls"]] == ["lookup"]
        assert plain["messages"][-2:] == [
            {"role": "assistant", "content": f"Found k{i}."},
            {"role": "user", "content": "And without tools?"},
        ]
        assert all(b["tools"][0]["function"]["name"] == "lookup" for b in (called, plain))


def test_main_reports_both_protocols(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tools.json"
    assert tools.main(["--turns", "1", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for flavour in tools.PROTOCOLS:
        assert results[flavour]["loop overhead"]["median"] > 0
    assert "OpenAI SSE" in capsys.readouterr().out
