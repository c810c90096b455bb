"""weight — what chats weigh in a notebook saved with its widget state.

A notebook of N cells, each making a ``Chat`` on the offline demo, asking it one question
and showing it, is run by nbclient in a real kernel (nbclient saves the state of every
widget the kernel opened, as JupyterLab does when "save widget state" is on). Measured:
the saved file's bytes; for one chat, the bytes its model's saved state takes (what a view
of it loads besides the shared runtime) and what it adds to the file beyond its
conversation (the file with and without its cell and model); the shared runtime's state.

``--src DIR`` runs the kernel on another checkout's ``src`` (e.g. main's, for the figures
before the runtime model); ``--chats 1,5,10`` picks the notebook sizes.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pathlib
import sys
import tempfile
import typing

import nbformat
from nbclient import NotebookClient

RESULTS = pathlib.Path(__file__).parent / "results"
STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"
PROMPT = "How heavy is a saved chat?"


def cell(i: int) -> str:
    return f'chat_{i} = nbchat.Chat("demo:echo")\nchat_{i}.ask({PROMPT!r})\nchat_{i}'


def run(chats: int, src: pathlib.Path | None) -> nbformat.NotebookNode:
    """The notebook of ``chats`` chats, executed; the kernel imports nbchat from ``src``."""
    cells = ["import nbchat"] + [cell(i) for i in range(chats)]
    new_cell = typing.cast(typing.Any, nbformat.v4.new_code_cell)
    nb: nbformat.NotebookNode = typing.cast(typing.Any, nbformat.v4.new_notebook)(
        cells=[new_cell(c) for c in cells]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    env = dict(os.environ)
    env.pop("OPENAI_API_KEY", None)
    env["NBCHAT_MODEL"] = "demo:echo"
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory() as tmp:
        # The kernel inherits `env` (start_kernel's argument), so it imports nbchat from src.
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp}}
        ).execute(env=env)
    return nb


def size(nb: nbformat.NotebookNode) -> int:
    return len(typing.cast(str, typing.cast(typing.Any, nbformat.writes)(nb)).encode())


def states(nb: nbformat.NotebookNode) -> dict[str, typing.Any]:
    return typing.cast(dict[str, typing.Any], nb.metadata["widgets"][STATE]["state"])


def without_last_chat(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The same notebook with one chat fewer: its cell and the models only it uses."""
    smaller = copy.deepcopy(nb)
    last = smaller.cells.pop()
    (view,) = [o for o in last.outputs if VIEW in o.get("data", {})]
    model_id = view["data"][VIEW]["model_id"]
    saved = states(smaller)
    chat = saved.pop(model_id)
    # Its layout goes with it; the runtime, referenced by every other chat, stays.
    saved.pop(chat["state"].get("layout", "").removeprefix("IPY_MODEL_"), None)
    return smaller


def measure(chats: int, src: pathlib.Path | None) -> dict[str, typing.Any]:
    nb = run(chats, src)
    saved = states(nb)
    # A chat: its messages (the "messages" list before per-message keys, "m:<id>" keys since).
    chat_states = [s for s in saved.values() if s["state"].get("_model_name") == "AnyModel"]
    chat_states = [s for s in chat_states if "code" not in s["state"]]
    runtimes = [s for s in saved.values() if "code" in s["state"]]
    one = chat_states[-1]["state"]
    conversation = len(
        json.dumps({k: v for k, v in one.items() if k == "messages" or k[:2] in ("m:", "c:")})
    )
    added = size(nb) - size(without_last_chat(nb))
    return {
        "chats": chats,
        "file_bytes": size(nb),
        "chat_state_bytes": len(json.dumps(one).encode()),
        "chat_esm_bytes": len(str(one.get("_esm", "")).encode()),
        "chat_css_bytes": len(str(one.get("_css", "")).encode()),
        "runtime_state_bytes": sum(len(json.dumps(r["state"]).encode()) for r in runtimes),
        "conversation_bytes": conversation,
        "last_chat_adds_bytes": added,
        "last_chat_adds_beyond_conversation": added - conversation,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks weight")
    parser.add_argument("--src", type=pathlib.Path, default=None)
    parser.add_argument("--chats", default="1,5,10")
    args = parser.parse_args(argv)
    rows = [measure(int(n), args.src) for n in args.chats.split(",")]
    print(f"weight ({args.src or 'this checkout'})", file=sys.stderr)
    for row in rows:
        print(json.dumps(row))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "weight.json").write_text(json.dumps(rows, indent=1))
    return 0
