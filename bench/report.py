"""Markdown tables and the scaling chart from the figures of one run (also used for bench/README.md)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from bench.core import Figure


def _num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit in ("statements", "submits/s") or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _get(f: Figure | dict[str, Any], key: str) -> Any:
    return f[key] if isinstance(f, dict) else getattr(f, key)


def markdown(results: dict[str, Any]) -> str:
    figures = results["figures"]
    load = results["load_average"]
    lines = [f"Run of {results['date']} at commit {results['commit']} on {results['machine'].get('cpu', '?')} "
             f"({results['machine'].get('cpus')} CPUs, {results['machine'].get('memory_gb')} GB), "
             f"load average {load['start'][0]:.1f} at the start and {load['end'][0]:.1f} at the end"
             f"{' (quick mode)' if results.get('quick') else ''}; {results['seconds'] / 60:.1f} minutes"
             + (" in all, merged: the scenarios this run did not repeat keep their figures from the run of "
                + ", ".join(results["merged_from"]) if results.get("merged_from") else "") + ".", ""]
    by_scenario: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in figures:
        by_scenario[(_get(f, "engine"), _get(f, "scenario"))].append(f)
    for (engine, scenario), rows in by_scenario.items():
        lines += [f"### {scenario} ({engine})", "",
                  "| figure | officers | value | floor | ratio | target | met | load |",
                  "|---|---:|---:|---|---:|---|---|---:|"]
        for f in rows:
            unit = _get(f, "unit")
            floor = _get(f, "floor")
            ratio = _get(f, "ratio") if isinstance(f, dict) else f.ratio
            extra = _get(f, "extra") or {}
            value = f"{_num(_get(f, 'value'), unit)} {unit}"
            if "p50_ms" in extra:  # pages give p99; the scale-out burst gives p95 and the maximum
                tail = next((f", {name} {_num(extra[key])} ms" for name, key in
                             (("p99", "p99_ms"), ("p95", "p95_ms"), ("max", "max_ms")) if key in extra), "")
                value += f" (p50 {_num(extra['p50_ms'])} ms{tail})"
            if "p95_s" in extra:
                value += f" (p95 {_num(extra['p95_s'] * 1000)} ms)"
            floor_text = f"{_num(floor, unit)} ({_get(f, 'floor_name')})" if floor is not None else ""
            met = _get(f, "met")
            size = _get(f, "size")
            lines.append(
                f"| {_get(f, 'name')} | {size:,} | {value} | {floor_text} | "
                f"{'' if ratio is None else f'{ratio:.2f}x'} | {_get(f, 'target')} | "
                f"{'' if met is None else ('yes' if met else '**no**')} | {_get(f, 'load'):.1f} |"
                if size else
                f"| {_get(f, 'name')} | | {value} | {floor_text} | {'' if ratio is None else f'{ratio:.2f}x'} | "
                f"{_get(f, 'target')} | {'' if met is None else ('yes' if met else '**no**')} | "
                f"{_get(f, 'load'):.1f} |")
        lines.append("")
    lines += scaling_table(figures)
    return "\n".join(lines)


def _curves(figures: list[Any]) -> dict[str, dict[int, float]]:
    curves: dict[str, dict[int, float]] = defaultdict(dict)
    for f in figures:
        if _get(f, "engine") != "sqlite" or not _get(f, "size"):
            continue
        scenario = _get(f, "scenario")
        if scenario == "pages" and _get(f, "unit") == "req/s":
            curves[f"page: {_get(f, 'name')} (req/s)"][_get(f, "size")] = _get(f, "value")
        elif scenario == "reports":
            curves[f"report: {_get(f, 'name')} (ms)"][_get(f, "size")] = _get(f, "value")
    return curves


def scaling_table(figures: list[Any]) -> list[str]:
    curves = _curves(figures)
    sizes = sorted({s for c in curves.values() for s in c})
    if not sizes:
        return []
    lines = ["### scaling (SQLite)", "",
             "| figure | " + " | ".join(f"{s:,} officers" for s in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    for name, points in curves.items():
        lines.append(f"| {name} | " + " | ".join(_num(points.get(s)) for s in sizes) + " |")
    return [*lines, ""]


def scaling_svg(figures: list[Any]) -> str:
    """Each page and report relative to its value at the smallest size measured (log-scaled officers)."""
    curves = _curves(figures)
    width, height, left, top, right, bottom = 640, 300, 56, 24, 200, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    sizes = sorted({s for c in curves.values() for s in c}) or [1000, 200000]
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes)) if max(sizes) > min(sizes) else math.log10(min(sizes)) + 1
    ratios = [v / c[min(c)] for c in curves.values() for v in c.values() if c[min(c)]]
    top_ratio = max(2.0, math.ceil(max(ratios, default=1.0)))

    def x(size: int) -> float:
        return left + (math.log10(size) - lo) / (hi - lo) * plot_w

    def y(ratio: float) -> float:
        return top + plot_h - ratio / top_ratio * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="14" font-size="12">Cost relative to the smallest province '
           f'(pages: req/s, reports: ms; 1 = no change)</text>']
    for tick in range(0, int(top_ratio) + 1):
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}x</text>')
    for size in sizes:
        out.append(f'<text x="{x(size):.1f}" y="{height - 18}" text-anchor="middle">{size:,}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">officers</text>')
    palette = ["#1f77b4", "#2ca02c", "#17becf", "#9467bd", "#8c564b", "#e377c2", "#d62728", "#ff7f0e",
               "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"]
    for i, (name, points) in enumerate(sorted(curves.items())):
        base = points[min(points)]
        if not base:
            continue
        colour = palette[i % len(palette)]
        dash = "" if name.startswith("page") else ' stroke-dasharray="4 3"'
        coords = " ".join(f"{x(s):.1f},{y(points[s] / base):.1f}" for s in sorted(points))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{coords}"/>')
        label = name.replace("&", "&amp;").replace("<", "&lt;")
        out.append(f'<text x="{left + plot_w + 8}" y="{top + 12 + i * 13}" fill="{colour}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


BEGIN, END = "<!-- results: written by python -m bench.report from bench/results.json -->", "<!-- /results -->"


def update_readme(results: dict[str, Any], readme: Any) -> None:
    """Put the tables of ``results`` between the markers of bench/README.md."""
    text = readme.read_text(encoding="utf-8")
    block = f"{BEGIN}\n\n{markdown(results)}\n![scaling](scaling.svg)\n\n{END}"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Latest results\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    import json
    from pathlib import Path

    here = Path(__file__).resolve().parent
    data = json.loads((here / "results.json").read_text(encoding="utf-8"))
    (here / "scaling.svg").write_text(scaling_svg(data["figures"]), encoding="utf-8")
    update_readme(data, here / "README.md")
    print(f"bench/README.md: tables of {data['date']} written")
