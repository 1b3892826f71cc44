"""``make bench``: every scenario of bench/scenarios.py, then the tables, bench/results.json and the chart.

    python -m bench.run [--quick] [--rounds N] [SCENARIO ...]

On SQLite always; on PostgreSQL too when ``DATABASE_URL`` names a PostgreSQL server (its database name
is replaced by ``lms_bench_<size>``). ``--quick`` runs 1,000 and 20,000 officers only, with short page
rounds. Seeded provinces are cached under bench/out/ and reused until the generator, the migrations or
content/ change.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.core import ROOT, Figure, Run, as_json, commit, load_average, machine
from bench.report import markdown, scaling_svg, update_readme
from bench.scenarios import SCENARIOS


def flat_in_n(figures: list[Figure]) -> None:
    """Memory "flat in N": within 25% (and 20 MB) of the smallest size's figure."""
    smallest: dict[tuple[str, str, str], Figure] = {}
    for f in sorted((f for f in figures if f.target == "flat in N"), key=lambda f: f.size or 0):
        key = (f.scenario, f.name, f.engine)
        base = smallest.setdefault(key, f)
        f.floor, f.floor_name = base.value, f"at {base.size:,}"
        f.met = f.value <= max(base.value * 1.25, base.value + 20)


def save(ctx: Run, args: argparse.Namespace, began: datetime, started: float,
         load_before: tuple[float, float, float]) -> dict[str, Any]:
    """The results so far; written to bench/results.json (merged with it under --merge)."""
    flat_in_n(ctx.figures)
    results = {
        "date": began.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "load_average": {"start": [round(x, 2) for x in load_before],
                         "end": [round(x, 2) for x in os.getloadavg()]},
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "notes": ctx.notes,
        "figures": [as_json(f) for f in ctx.figures],
    }
    previous = getattr(args, "previous", None)  # the file as it was when this run began
    if args.merge and previous:
        ran = {(f.scenario, f.engine) for f in ctx.figures}
        kept = [f for f in previous["figures"] if (f["scenario"], f["engine"]) not in ran]
        results["figures"] = kept + results["figures"]
        results["merged_from"] = sorted({previous["date"], *previous.get("merged_from", [])})
        results["notes"] = {**previous.get("notes", {}), **{k: previous.get("notes", {}).get(k, []) + v
                                                            for k, v in ctx.notes.items()}}
        results["seconds"] = round(previous.get("seconds", 0) + results["seconds"], 1)
        results["load_average"]["start"] = previous["load_average"]["start"]
    if args.merge or (not args.only and not args.sizes):
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(results, out, ensure_ascii=False, indent=1)
        (ROOT / "bench" / "scaling.svg").write_text(scaling_svg(results["figures"]), encoding="utf-8")
        update_readme(results, ROOT / "bench" / "README.md")
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="1,000 and 20,000 officers, short rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", help="comma-separated province sizes instead of 1000,20000,200000")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--merge", action="store_true",
                        help="replace only the figures of the scenarios run now in bench/results.json")
    parser.add_argument("only", nargs="*")
    args = parser.parse_args(argv)
    args.previous = None
    if args.merge and os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as old:
            args.previous = json.load(old)
    # A terminated run still stops the servers it started (their finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    url = os.environ.get("DATABASE_URL", "")
    engines = ["sqlite"] + (["postgresql"] if url.startswith("postgresql") else [])
    ctx = Run(quick=args.quick, rounds=max(3, args.rounds), pg_url=url or None, engines=tuple(engines),
              only_sizes=tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None)
    started = time.perf_counter()
    began = datetime.now(UTC)
    load_before = os.getloadavg()
    for engine in engines:
        ctx.engine = engine
        for scenario in SCENARIOS:
            if args.only and scenario.name not in args.only:
                continue
            if engine not in scenario.engines or (args.quick and not scenario.quick):
                continue
            print(f"## {scenario.name} on {engine}", flush=True)
            module, _, function = scenario.target.partition(":")
            t0 = time.perf_counter()
            getattr(importlib.import_module(module), function)(ctx)
            ctx.note("durations", f"{scenario.name} on {engine}: {time.perf_counter() - t0:.0f} s")
            if args.merge:  # a run cut short keeps what it measured
                save(ctx, args, began, started, load_before)
    results = save(ctx, args, began, started, load_before)
    print(markdown(results))
    print(f"\nbench: {len(ctx.figures)} figures in {results['seconds']:.0f} s; load average now {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
