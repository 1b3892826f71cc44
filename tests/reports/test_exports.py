"""The export pure core: CSV, XLSX and PDF written from plain rows, with no app and no database."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pypdf import PdfReader

from lms.reports import charts, exports
from lms.reports.exports import ChartData, Column, ExportDocument, ExportTable, Kind

COLUMNS = [
    Column("agency", "Cơ quan, đơn vị"),
    Column("officers", "Cán bộ", Kind.integer),
    Column("rate", "Tỷ lệ hoàn thành", Kind.percent),
    Column("score", "Điểm trung bình", Kind.decimal),
    Column("due", "Hạn hoàn thành", Kind.date),
    Column("at", "Lần cuối", Kind.datetime),
]
ROWS = [
    ("Sở Tư pháp", 12, 0.875, 8.25, date(2024, 5, 31), datetime(2024, 5, 31, 2, 30, tzinfo=UTC)),
    ("=HYPERLINK(\"http://evil\")", 3, 1 / 3, None, None, None),
    ("Xã A Vương", 0, None, None, date(2024, 12, 31), None),
]


def document(rows=ROWS, **kw) -> ExportDocument:
    table = ExportTable("Theo cơ quan", COLUMNS, rows)
    chart = ChartData("Hoàn thành theo cơ quan", "Cơ quan", [r[0] for r in rows],
                      [("Hoàn thành", [r[2] for r in rows])])
    return ExportDocument(
        "Báo cáo hoàn thành năm 2024", "vi", datetime(2024, 6, 1, 1, 0, tzinfo=UTC), table,
        summary=[("Kế hoạch", "Kế hoạch 2024"), ("Cán bộ trong phạm vi", 15), ("Tỷ lệ", 0.6, Kind.percent)],
        chart=chart, **kw,
    )


# Neutralisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"])
def test_cells_starting_with_a_formula_character_are_prefixed(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Sở Tư pháp", "1+1", "a=b", "", " =1", "'=1"])
def test_ordinary_text_is_left_alone(text):
    assert exports.neutralise(text) == text


@given(st.text())
def test_no_neutralised_cell_starts_with_a_formula_character(text):
    out = exports.neutralise(text)
    assert not out.startswith(exports.DANGEROUS_PREFIXES)
    assert out in (text, "'" + text)


# CSV ---------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_has_bom_header_and_typed_machine_readable_values():
    rows = read_csv(exports.write_csv(document().table))
    assert rows[0] == ["Cơ quan, đơn vị", "Cán bộ", "Tỷ lệ hoàn thành (%)", "Điểm trung bình",
                       "Hạn hoàn thành", "Lần cuối"]
    # Percentages one decimal, half-even like the page; datetimes in Vietnam's local time.
    assert rows[1] == ["Sở Tư pháp", "12", "87.5", "8.2", "2024-05-31", "2024-05-31 09:30"]
    assert rows[2] == ["'=HYPERLINK(\"http://evil\")", "3", "33.3", "", "", ""]
    assert rows[3] == ["Xã A Vương", "0", "", "", "2024-12-31", ""]


def test_csv_lines_end_with_crlf():
    data = exports.write_csv(document().table)
    assert data.count(b"\r\n") == len(ROWS) + 1


text_cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(text_cells, st.integers(-10**9, 10**9),
                          st.floats(0, 1, allow_nan=False)), max_size=8))
def test_csv_round_trip_keeps_every_value(rows):
    columns = [Column("t", "Tên"), Column("n", "Số", Kind.integer), Column("p", "Tỷ lệ", Kind.percent)]
    back = read_csv(exports.write_csv(ExportTable("x", columns, rows)))[1:]
    assert len(back) == len(rows)
    for (text, number, rate), (t, n, p) in zip(rows, back, strict=True):
        assert t == exports.neutralise(text)
        assert int(n) == number
        assert Decimal(p) == exports.percent_number(rate)


def test_percent_rounding_matches_the_page_formatting():
    """Half-way values round the same way in exports and in babel's page formatting."""
    for value in (0.0625, 0.0635, 1 / 3, 2 / 3, 0.99995, 0.0):
        page = charts.fmt_percent(value, "en").rstrip("%")
        assert Decimal(page) == exports.percent_number(value)


# XLSX --------------------------------------------------------------------------------------


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_types_numbers_dates_and_formats():
    wb = load(exports.write_xlsx(document()))
    assert wb.sheetnames == ["Summary", "Theo cơ quan"]
    ws = wb["Theo cơ quan"]
    assert [c.value for c in ws[1]] == [c.label for c in COLUMNS]
    row = ws[2]
    assert row[1].value == 12 and row[1].data_type == "n"
    assert row[2].value == pytest.approx(0.875) and row[2].number_format == "0.0%"
    assert row[3].value == pytest.approx(8.2) and row[3].number_format == "#,##0.0"
    assert row[4].value == datetime(2024, 5, 31) and row[4].number_format == "dd/mm/yyyy"
    assert row[5].value == datetime(2024, 5, 31, 9, 30)
    # The rounded value is stored, so Excel shows exactly the page's 33,3%.
    assert ws["C3"].value == pytest.approx(0.333)


def test_xlsx_formula_text_stays_text():
    ws = load(exports.write_xlsx(document()))["Theo cơ quan"]
    assert ws["A3"].value == '=HYPERLINK("http://evil")'
    assert ws["A3"].data_type == "s"


def test_xlsx_has_frozen_header_filter_and_widths():
    ws = load(exports.write_xlsx(document()))["Theo cơ quan"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    assert ws.column_dimensions["A"].width >= len('=HYPERLINK("http://evil")')
    assert ws.column_dimensions["A"].width <= 60


def test_xlsx_summary_has_lines_and_a_native_bar_chart_over_its_numbers():
    ws = load(exports.write_xlsx(document()))["Summary"]
    values = [tuple(c.value for c in row[:2]) for row in ws.iter_rows(max_row=5)]
    assert values[0][0] == "Báo cáo hoàn thành năm 2024"
    assert values[2:5] == [("Kế hoạch", "Kế hoạch 2024"), ("Cán bộ trong phạm vi", 15), ("Tỷ lệ", 0.6)]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.tagname == "barChart" and chart.type == "bar"
    # The chart's table: category and value per agency, the same rounded values as the data sheet.
    table = [tuple(c.value for c in row[:2]) for row in ws.iter_rows(min_row=7, max_row=10)]
    assert table == [("Cơ quan", "Hoàn thành"), ("Sở Tư pháp", 0.875),
                     ('=HYPERLINK("http://evil")', pytest.approx(0.333)), ("Xã A Vương", None)]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(text_cells, st.integers(-10**12, 10**12), st.dates()), min_size=1, max_size=6))
def test_xlsx_round_trip_keeps_text_numbers_and_dates(rows):
    columns = [Column("t", "Tên"), Column("n", "Số", Kind.integer), Column("d", "Ngày", Kind.date)]
    doc = ExportDocument("T", "vi", datetime(2024, 1, 1, tzinfo=UTC), ExportTable("Data", columns, rows))
    ws = load(exports.write_xlsx(doc))["Data"]
    back = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2)]
    for (text, number, day), (t, n, d) in zip(rows, back, strict=True):
        cleaned = ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        assert (t or "") == cleaned  # an empty string comes back as an empty cell
        assert n == number
        assert d.date() == day


def test_sheet_names_are_made_valid():
    assert exports.sheet_name("Báo cáo: quý 1/2024 [bản nháp]*?" * 2) == "Báo cáo  quý 1 2024  bản nháp"[:31]
    assert len(exports.sheet_name("x" * 50)) == 31
    assert exports.sheet_name("///") == "Sheet"


# PDF ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory):
    chart = charts.completion_by_agency([(r[0], r[2]) for r in ROWS], lang="vi", target=0.8)
    data = exports.write_pdf(document(charts=[chart]))
    path = tmp_path_factory.mktemp("pdf") / "summary.pdf"
    path.write_bytes(data)
    return path


def test_pdf_shows_the_same_formatted_numbers_with_diacritics(pdf_file):
    text = subprocess.run(["pdftotext", "-layout", str(pdf_file), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Báo cáo hoàn thành năm 2024" in text
    for needle in ("87,5%", "33,3%", "31/05/2024", "09:30 31/05/2024", "Xã A Vương", "Kế hoạch 2024", "60,0%"):
        assert needle in text


def test_pdf_embeds_every_font(pdf_file):
    out = subprocess.run(["pdffonts", str(pdf_file)], capture_output=True, text=True, check=True).stdout
    fonts = out.splitlines()[2:]
    assert fonts, "no fonts at all"
    for line in fonts:
        assert line.split()[-5] == "yes", line  # the "emb" column
        assert "LMS" in line


def test_pdf_metadata_and_page_size(pdf_file):
    reader = PdfReader(pdf_file)
    assert reader.metadata.title == "Báo cáo hoàn thành năm 2024"
    box = reader.pages[0].mediabox
    assert round(float(box.width) * 25.4 / 72) == 210 and round(float(box.height) * 25.4 / 72) == 297


def test_pdf_escapes_text_and_fetches_nothing_outside_static(tmp_path):
    rows = [('<img src="file:///etc/passwd">', 1, 0.5, None, None, None)]
    data = exports.write_pdf(document(rows=rows))
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
    assert '<img src="file:///etc/passwd">' in text.decode("utf-8")


def test_pdf_fetcher_refuses_files_outside_static():
    from lms.printing import ResourceRefused
    from lms.printing_engine import StaticOnlyURLFetcher

    fetcher = StaticOnlyURLFetcher(exports.STATIC_ROOT)
    with pytest.raises(ResourceRefused):
        fetcher.fetch("file:///etc/passwd")
