"""Run every ``bench_*.py`` in this folder and print their tables: ``python -m bench.run``.

Each benchmark module defines ``main() -> str`` returning a Markdown table (it builds its own
scratch database and app). ``python -m bench.run NAME ...`` runs only the named ones.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        names = [n for n in names if n in argv or n.removeprefix("bench_") in argv]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        table = module.main()
        print(f"## {name} ({time.perf_counter() - started:.1f} s)\n")
        print(table)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
