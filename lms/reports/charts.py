"""Report charts as server-side SVG (pygal), each with the numbers behind it as a table.

Pure core: plain numbers in, a :class:`Chart` out (SVG text, a one-line description for ``alt``, and
the same numbers as table rows, already formatted for the reader's language). No Flask, no database.

The SVG carries its own ``<style>``; the page's Content-Security-Policy forbids inline styles, so
pages show a chart as an ``<img>`` with a ``data:`` URI (an image is its own document: no script
runs, its styles are its own). The PDF summary embeds the same SVG through the fetcher's data URIs.

Sizes are chosen for phones: a narrow canvas (480 units) with large type, so that scaled down to
360 px the labels stay around 10 px; long agency names are shortened on the chart and given in full
in the table.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from babel.numbers import format_decimal, format_percent

from lms.i18n import _

if TYPE_CHECKING:
    import pygal
    from pygal.style import Style

FONT_FAMILY = '"LMS Sans", "Noto Sans", "DejaVu Sans", Arial, sans-serif'
WIDTH = 480
OK, WARN, BAD, NEUTRAL, TARGET = "#1d7a46", "#c27a00", "#b3261e", "#0f5fa8", "#8a94a6"
LABEL_CHARS = 24
STATUS_COLORS = {"on_track": OK, "at_risk": WARN, "behind": BAD}
# Characters XML 1.0 cannot carry (a stray control character in an agency name would break the SVG).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG, a description for screen readers and its numbers as table rows."""

    title: str
    svg: str
    description: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def data_uri(self) -> str:
        """The SVG as a data: URI for an ``<img>`` (allowed by the page's CSP)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def fmt_percent(value: float | None, lang: str) -> str:
    """A 0..1 fraction as the reports print it everywhere: one decimal (87,5% in Vietnamese)."""
    if value is None:
        return "—"
    return format_percent(value, "#,##0.0%", locale=lang)


def fmt_int(value: int | None, lang: str) -> str:
    return "—" if value is None else format_decimal(value, "#,##0", locale=lang)


def _style(colors: Sequence[str]) -> Style:
    from pygal.style import Style  # pygal is imported by the first chart a process draws

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2430",
        foreground_strong="#1d2430",
        foreground_subtle="#5b6472",
        colors=tuple(colors),
        font_family=FONT_FAMILY,
        label_font_family=FONT_FAMILY,
        major_label_font_family=FONT_FAMILY,
        value_font_family=FONT_FAMILY,
        value_label_font_family=FONT_FAMILY,
        title_font_family=FONT_FAMILY,
        legend_font_family=FONT_FAMILY,
        tooltip_font_family=FONT_FAMILY,
        no_data_font_family=FONT_FAMILY,
        title_font_size=17,
        label_font_size=14,
        major_label_font_size=14,
        value_font_size=13,
        legend_font_size=14,
        no_data_font_size=16,
        opacity=".95",
        opacity_hover=".95",
        transition="none",
    )


def _config(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "js": [],  # no script in the SVG: it is shown as an image and must work without JS
        "disable_xml_declaration": True,
        "width": WIDTH,
        "truncate_label": LABEL_CHARS,
        "truncate_legend": 30,
        "print_values": True,
        "show_x_guides": False,
        "pretty_print": False,
        "margin": 8,
        "margin_right": 22,
    }
    base.update(overrides)
    return base


def _render(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    # pygal stamps a random id and the render date into the SVG; a stable id makes output repeatable.
    ids = set(re.findall(r'id="(chart-[0-9a-f-]{36})"', svg))
    for n, chart_id in enumerate(sorted(ids)):
        svg = svg.replace(chart_id, f"chart-lms-{n}")
    svg = re.sub(r"<!--Generated with pygal[^>]*-->", "", svg)
    # pygal always embeds its configuration as a script; an image needs none, so it goes.
    return re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Cut a label to ``limit`` characters at a word boundary when possible, with an ellipsis."""
    text = " ".join(NOT_XML.sub("", text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.-–") + "…"


def _percent_axis(lang: str) -> list[dict[str, object]]:
    return [{"value": v, "label": format_percent(v / 100, "#,##0%", locale=lang)} for v in range(0, 101, 25)]


def status_color(actual: float | None, target: float | None, at_risk_ratio: float = 0.8) -> str:
    """Green at or above the target, amber within ``at_risk_ratio`` of it, red below; blue: no target."""
    if target is None or actual is None:
        return NEUTRAL
    if actual >= target:
        return OK
    if actual >= target * at_risk_ratio:
        return WARN
    return BAD


def completion_by_agency(
    items: Sequence[tuple[str, float | None]],
    *,
    lang: str,
    title: str | None = None,
    target: float | None = None,
    statuses: Sequence[str | None] | None = None,
) -> Chart:
    """Horizontal bars: completion (0..1) per agency, coloured by ``statuses`` (on_track, at_risk,
    behind: the same judgement as the page's table) or else against ``target`` when given."""
    title = title or _("Completion per agency")
    import pygal

    chart = pygal.HorizontalBar(
        **_config(
            height=max(140, 70 + 34 * len(items)),
            show_legend=False,
            range=(0, 100),
            include_x_axis=True,
            value_formatter=lambda v: fmt_percent(v / 100, lang) if v is not None else "",
            no_data_text=_("No data"),
            y_labels=_percent_axis(lang),
            show_y_guides=True,
        ),
        style=_style([NEUTRAL]),
    )
    chart.title = NOT_XML.sub("", title)
    # pygal draws the first value at the bottom; reverse so the chart reads in table order.
    colors = [
        STATUS_COLORS.get(status or "", NEUTRAL) if statuses is not None else status_color(value, target)
        for (_name, value), status in zip(items, statuses or [None] * len(items), strict=True)
    ]
    ordered = list(reversed(list(zip(items, colors, strict=True))))
    chart.x_labels = [shorten(name) for (name, _value), _color in ordered]
    chart.add(
        _("Completed"),
        [
            {"value": round(value * 100, 1), "color": color} if value is not None else None
            for (_name, value), color in ordered
        ],
    )
    rows = tuple((name, fmt_percent(value, lang)) for name, value in items)
    if statuses is not None:
        behind = sum(1 for status in statuses if status == "behind")
    else:
        behind = sum(1 for _n, v in items if target is not None and v is not None and v < target)
    description = _(
        "Bar chart of completion for %(count)s agencies; the same numbers are in the table below.",
        count=len(items),
    )
    if statuses is not None:
        description += " " + _("%(behind)s behind the plan.", behind=behind)
    elif target is not None:
        description += " " + _("%(behind)s below the target of %(target)s.", behind=behind,
                               target=fmt_percent(target, lang))
    return Chart(title, _render(chart), description, (_("Agency"), _("Completed")), rows)


def month_label(day: date, lang: str) -> str:
    """05/2024 in Vietnamese, 2024-05 in English: short, unambiguous month labels for axes."""
    return f"{day.month:02d}/{day.year}" if lang == "vi" else f"{day.year}-{day.month:02d}"


def completions_over_time(
    points: Sequence[tuple[date, int]], *, lang: str, title: str | None = None
) -> Chart:
    """A line of completions per month (``points`` are month starts with counts, in order)."""
    title = title or _("Completions per month")
    # Whole-number ticks: pygal's own steps for small counts are 0.1 apart, which the integer formatter
    # showed as a column of 0s and 1s. Values are printed only when there is something to read.
    top = max((count for _day, count in points), default=0)
    step = max(1, -(-top // 5))
    import pygal

    chart = pygal.Line(
        **_config(
            height=300,
            show_legend=False,
            x_label_rotation=-45 if len(points) > 6 else 0,
            show_minor_x_labels=len(points) <= 12,
            x_labels_major_every=max(1, len(points) // 6),
            include_x_axis=True,
            y_labels=list(range(0, max(top, 2) + step, step)),
            print_values=len(points) <= 12 and top > 0,
            value_formatter=lambda v: fmt_int(int(v), lang) if v is not None else "",
            no_data_text=_("No data"),
            dots_size=4,
            stroke_style={"width": 3},
        ),
        style=_style([NEUTRAL]),
    )
    chart.title = NOT_XML.sub("", title)
    chart.x_labels = [month_label(day, lang) for day, _count in points]
    chart.add(_("Completions"), [count for _day, count in points])
    running = 0
    rows = []
    for day, count in points:
        running += count
        rows.append((month_label(day, lang), fmt_int(count, lang), fmt_int(running, lang)))
    description = _(
        "Line chart of completions per month over %(months)s months, %(total)s in all; the same "
        "numbers are in the table below.",
        months=len(points),
        total=fmt_int(running, lang),
    )
    return Chart(
        title, _render(chart), description, (_("Month"), _("Completions"), _("Cumulative")), tuple(rows)
    )


def target_text(minimum: float | None, maximum: float | None, lang: str) -> str:
    """A target as people write it: "≥ 100,0%", "15,0%–20,0%", "≤ 5,0%"."""
    if minimum is not None and maximum is not None:
        return f"{fmt_percent(minimum, lang)}–{fmt_percent(maximum, lang)}"
    if minimum is not None:
        return f"≥ {fmt_percent(minimum, lang)}"
    if maximum is not None:
        return f"≤ {fmt_percent(maximum, lang)}"
    return "—"


def target_vs_actual(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    lang: str,
    title: str | None = None,
) -> Chart:
    """Grouped bars per target: the target (its minimum, or maximum when only that is set) and the
    actual value, both 0..1; the actual bar is coloured by whether the target is met."""
    title = title or _("Targets and actual values")
    import pygal

    chart = pygal.Bar(
        **_config(
            height=320,
            range=(0, 100),
            include_x_axis=True,
            legend_at_bottom=True,
            legend_at_bottom_columns=2,
            value_formatter=lambda v: fmt_percent(v / 100, lang) if v is not None else "",
            no_data_text=_("No data"),
            y_labels=_percent_axis(lang),
        ),
        style=_style([TARGET, NEUTRAL]),
    )
    chart.title = NOT_XML.sub("", title)
    chart.x_labels = [shorten(label, 18) for label, *_rest in items]
    targets, actuals = [], []
    for _label, minimum, maximum, actual in items:
        goal = minimum if minimum is not None else maximum
        targets.append(round(goal * 100, 1) if goal is not None else None)
        met = actual is not None and (minimum is None or actual >= minimum) and (
            maximum is None or actual <= maximum
        )
        color = OK if met else (BAD if actual is not None else NEUTRAL)
        actuals.append({"value": round(actual * 100, 1), "color": color} if actual is not None else None)
    chart.add(_("Target"), targets)
    chart.add(_("Actual"), actuals)
    rows = tuple(
        (label, target_text(minimum, maximum, lang), fmt_percent(actual, lang))
        for label, minimum, maximum, actual in items
    )
    description = _(
        "Bar chart comparing %(count)s targets with their actual values: an actual bar is green when "
        "its target is met and red when it is not; the same numbers are in the table below.",
        count=len(items),
    )
    return Chart(title, _render(chart), description, (_("Target"), _("Goal"), _("Actual")), rows)


def week_label(day: date, lang: str) -> str:
    """The Monday a week starts on: 03/11 in Vietnamese, 11-03 in English (the year is in the table)."""
    return f"{day.day:02d}/{day.month:02d}" if lang == "vi" else f"{day.month:02d}-{day.day:02d}"


def weekly_trend(
    points: Sequence[tuple[date, int]],
    assigned: int,
    pace: Sequence[float | None],
    *,
    lang: str,
    title: str | None = None,
) -> Chart:
    """Two lines over the last weeks: the share of assigned courses completed by the end of each
    week, and where the plan's target says it should be by then (``pace``, 0..1 per week)."""
    title = title or _("Completion over the last weeks")
    import pygal

    chart = pygal.Line(
        **_config(
            height=300,
            range=(0, 100),
            include_x_axis=True,
            legend_at_bottom=True,
            legend_at_bottom_columns=2,
            x_label_rotation=-45 if len(points) > 8 else 0,
            print_values=False,
            value_formatter=lambda v: fmt_percent(v / 100, lang) if v is not None else "",
            no_data_text=_("No data"),
            y_labels=_percent_axis(lang),
            dots_size=3,
            stroke_style={"width": 3},
        ),
        style=_style([NEUTRAL, TARGET]),
    )
    chart.title = NOT_XML.sub("", title)
    chart.x_labels = [week_label(day, lang) for day, _n in points]
    shares = [share_of(done, assigned) for _day, done in points]
    chart.add(_("Completed"), [round(s * 100, 1) if s is not None else None for s in shares])
    chart.add(_("Target pace"), [round(p * 100, 1) if p is not None else None for p in pace],
              stroke_style={"width": 2, "dasharray": "6, 4"}, show_dots=False)
    rows = tuple(
        (_("Week of %(date)s", date=full_day(day, lang)), fmt_int(done, lang), fmt_percent(s, lang),
         fmt_percent(p, lang))
        for (day, done), s, p in zip(points, shares, pace, strict=True)
    )
    last = shares[-1] if shares else None
    description = _(
        "Line chart of the share of assigned courses completed at the end of each of the last "
        "%(weeks)s weeks, now %(now)s, beside the pace the target asks for; the same numbers are in "
        "the table below.",
        weeks=len(points),
        now=fmt_percent(last, lang),
    )
    return Chart(title, _render(chart), description,
                 (_("Week"), _("Completed"), _("Completion"), _("Target pace")), rows)


def full_day(day: date, lang: str) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}" if lang == "vi" else day.isoformat()


def share_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None
