"""The chart pure core: SVG from plain numbers, with the same numbers as a table, no script."""

from __future__ import annotations

import base64
from datetime import date
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def texts(svg: str) -> list[str]:
    return [el.text for el in parse(svg).iter() if el.text and el.tag == SVG + "text"]


AGENCIES = [("Sở Tư pháp", 0.9), ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Sơn Hà", 0.55),
            ("Xã A Vương", 0.72), ("Báo Sơn Hà", None)]


def test_completion_chart_table_matches_the_bars():
    chart = charts.completion_by_agency(AGENCIES, lang="vi", target=0.8)
    assert chart.headers == ("Agency", "Completed")
    assert chart.rows == (("Sở Tư pháp", "90,0%"), ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Sơn Hà", "55,0%"),
                          ("Xã A Vương", "72,0%"), ("Báo Sơn Hà", "—"))
    labels = texts(chart.svg)
    for value in ("90,0%", "55,0%", "72,0%"):
        assert value in labels
    assert "2 below the target of 80,0%." in chart.description


def test_bars_are_coloured_by_status_against_the_target():
    assert charts.status_color(0.9, 0.8) == charts.OK
    assert charts.status_color(0.7, 0.8) == charts.WARN
    assert charts.status_color(0.5, 0.8) == charts.BAD
    assert charts.status_color(0.5, None) == charts.NEUTRAL
    svg = charts.completion_by_agency(AGENCIES, lang="vi", target=0.8).svg
    for color in (charts.OK, charts.WARN, charts.BAD):
        assert color in svg


def test_long_names_are_shortened_on_the_chart_but_complete_in_the_table():
    chart = charts.completion_by_agency(AGENCIES, lang="vi")
    labels = texts(chart.svg)
    assert "Ủy ban Mặt trận Tổ quốc…" in labels
    assert all(len(label) <= charts.LABEL_CHARS for label in labels)
    assert chart.rows[1][0] == "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Sơn Hà"


def test_svg_has_no_script_and_escapes_names():
    chart = charts.completion_by_agency([("<script>alert(1)</script>", 0.5)], lang="vi")
    root = parse(chart.svg)
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert "<script>" not in chart.svg
    assert "on" + "load=" not in chart.svg


def test_data_uri_decodes_to_the_svg():
    chart = charts.completion_by_agency(AGENCIES, lang="en")
    prefix = "data:image/svg+xml;base64,"
    assert chart.data_uri.startswith(prefix)
    assert base64.b64decode(chart.data_uri[len(prefix):]).decode() == chart.svg


def test_svg_is_repeatable():
    """No random ids or render dates: the same numbers give the same bytes."""
    a = charts.completion_by_agency(AGENCIES, lang="vi").svg
    b = charts.completion_by_agency(AGENCIES, lang="vi").svg
    assert a == b


def test_over_time_table_has_counts_and_running_total():
    points = [(date(2024, 1, 1), 3), (date(2024, 2, 1), 0), (date(2024, 3, 1), 1200)]
    chart = charts.completions_over_time(points, lang="vi")
    assert chart.rows == (("01/2024", "3", "3"), ("02/2024", "0", "3"), ("03/2024", "1.200", "1.203"))
    assert "1.203" in chart.description
    assert charts.completions_over_time(points, lang="en").rows[2] == ("2024-03", "1,200", "1,203")


def test_target_chart_writes_ranges_and_colours_met_targets():
    chart = charts.target_vs_actual(
        [("Cán bộ hoàn thành", 1.0, None, 0.62), ("Ngôn ngữ dân tộc", 0.15, 0.20, 0.18),
         ("Quá hạn", None, 0.05, None)],
        lang="vi",
    )
    assert chart.rows == (("Cán bộ hoàn thành", "≥ 100,0%", "62,0%"),
                          ("Ngôn ngữ dân tộc", "15,0%–20,0%", "18,0%"), ("Quá hạn", "≤ 5,0%", "—"))
    assert charts.OK in chart.svg and charts.BAD in chart.svg


@pytest.mark.parametrize("make", [
    lambda: charts.completion_by_agency([], lang="vi"),
    lambda: charts.completions_over_time([], lang="vi"),
    lambda: charts.target_vs_actual([], lang="vi"),
])
def test_empty_data_gives_a_valid_chart(make):
    chart = make()
    parse(chart.svg)
    assert chart.rows == ()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=60), st.one_of(st.none(), st.floats(0, 1))),
                max_size=12))
def test_any_names_and_values_give_well_formed_svg_with_a_row_each(items):
    items = [(name.replace("\x00", ""), value) for name, value in items]
    chart = charts.completion_by_agency(items, lang="vi", target=0.5)
    parse(chart.svg)
    assert len(chart.rows) == len(items)


def test_shorten_cuts_at_a_word():
    assert charts.shorten("Sở Tư pháp") == "Sở Tư pháp"
    assert charts.shorten("Phòng Văn hóa - Xã hội xã A Vương", 20) == "Phòng Văn hóa - Xã…"
    assert len(charts.shorten("x" * 100)) == charts.LABEL_CHARS


def test_bars_take_the_tables_statuses_when_given():
    chart = charts.completion_by_agency([("A", 0.9), ("B", 0.2)], lang="en", target=1.0,
                                        statuses=["on_track", "behind"])
    assert charts.OK in chart.svg and charts.BAD in chart.svg and charts.WARN not in chart.svg
    assert "1 behind the plan." in chart.description


@pytest.mark.parametrize("counts", [[0, 0, 0], [0, 1, 0], [3, 7, 40]])
def test_monthly_chart_axis_shows_distinct_whole_numbers_even_when_nothing_was_completed(counts):
    points = [(date(2024, month, 1), n) for month, n in enumerate(counts, start=1)]
    svg = parse(charts.completions_over_time(points, lang="vi").svg)
    ticks = [t.text for g in svg.iter(f"{SVG}g") if "axis" in (g.get("class") or "") and "y" in
             (g.get("class") or "").split() for t in g.iter(f"{SVG}text") if t.text]
    assert ticks, "the chart has no y-axis labels"
    assert len(set(ticks)) == len(ticks), f"repeated y-axis labels: {ticks}"
    assert all(t.replace(".", "").isdigit() for t in ticks), ticks
    assert max(int(t.replace(".", "")) for t in ticks) >= max(counts)
