"""``python -m benchmarks [name ...] [-- options]``: run every benchmark module (or the named
ones). A benchmark is any module here with a ``main(argv) -> int``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    names, _, options = (
        (argv[: argv.index("--")], "--", argv[argv.index("--") + 1 :])
        if "--" in argv
        else (argv, "", [])
    )
    found = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    )
    status = 0
    for name in names or found:
        module = importlib.import_module(f"benchmarks.{name}")
        run = getattr(module, "main", None)
        if run is not None:
            status |= run(options)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
