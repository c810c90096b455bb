"""``python -m tests.servers --flavour ollama [--port 0] [--behaviour tps=20,crlf]``

Serves one emulator on 127.0.0.1 until SIGTERM or Ctrl-C. The first line on stdout is
JSON: ``{"flavour", "base_url", "root_url", "port", "pid"}``. An API key to require is
read from ``NBCHAT_EMULATOR_API_KEY`` (never from the command line, where ``ps`` shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .script import Reply, parse_behaviour
from .server import DEFAULT_MODELS, FLAVOURS, EmulatorServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__)
    parser.add_argument("--flavour", choices=FLAVOURS, default="ollama")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--behaviour", default="", help="e.g. tps=20,crlf,drop_after=3")
    parser.add_argument("--text", default=None, help="the default reply's text")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    args = parser.parse_args(argv)

    reply = Reply() if args.text is None else Reply(text=args.text)
    server = EmulatorServer(
        args.flavour,
        reply=reply,
        behaviour=parse_behaviour(args.behaviour) if args.behaviour else None,
        models=[m for m in args.models.split(",") if m],
        api_key=os.environ.get("NBCHAT_EMULATOR_API_KEY") or None,
        port=args.port,
    )
    server.start()
    info = {
        "flavour": args.flavour,
        "base_url": server.base_url,
        "root_url": server.root_url,
        "port": server.port,
        "pid": os.getpid(),
    }
    print(json.dumps(info), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
