"""The emulators themselves: the parts other suites rely on."""

from __future__ import annotations

import os

import httpx
import pytest
from tests.servers import EmulatorProcess, EmulatorServer, parse_behaviour
from tests.servers.script import Behaviour, split_model


def test_behaviour_strings_parse_and_unknown_knobs_are_refused() -> None:
    b = parse_behaviour("tps=20,crlf,drop_after=3,text=Hi%2C%20there,error=rate_limit")
    assert b == Behaviour(tps=20.0, crlf=True, drop_after=3, text="Hi, there", error="rate_limit")
    with pytest.raises(ValueError, match="unknown emulator behaviour"):
        parse_behaviour("tsp=20")
    with pytest.raises(ValueError, match="unknown error kind"):
        parse_behaviour("error=teapot")
    assert split_model("llama3.2@no_done") == ("llama3.2", Behaviour(no_done=True))


def test_the_model_name_and_header_choose_behaviour_per_request() -> None:
    with EmulatorServer("ollama") as server:
        body = {"model": "m@text=one", "messages": [], "stream": False}
        first = httpx.post(f"{server.base_url}/api/chat", json=body).json()
        second = httpx.post(
            f"{server.base_url}/api/chat", json=body, headers={"X-Emulator": "text=two"}
        ).json()
    assert first["message"]["content"] == "one"
    assert first["model"] == "m"
    assert second["message"]["content"] == "two"  # the header wins over the model name


def test_enqueued_replies_are_answered_in_order_then_the_default() -> None:
    with EmulatorServer("vllm") as server:
        server.enqueue("first", "second")
        body = {"model": "m", "messages": []}
        texts = [
            httpx.post(f"{server.base_url}/chat/completions", json=body).json()["choices"][0][
                "message"
            ]["content"]
            for _ in range(3)
        ]
    assert texts == ["first", "second", server.reply.text]


def test_the_emulator_runs_as_a_process_stopped_by_pid() -> None:
    with EmulatorProcess("ollama", text="from a process") as server:
        pid = server.pid
        assert httpx.get(f"{server.root_url}/").text == "Ollama is running"
        body = {"model": "m", "messages": [], "stream": False}
        reply = httpx.post(f"{server.base_url}/api/chat", json=body).json()
        assert reply["message"]["content"] == "from a process"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
