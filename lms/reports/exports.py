"""Report exports: CSV, XLSX and a PDF summary, written from plain rows.

Pure core: no Flask, no database. A report hands over an :class:`ExportTable` (typed columns and
rows of plain values) and gets bytes back. The page and every export read the same rows, so they
show the same numbers; rounding lives here once (:func:`percent_number`) and the XLSX stores the
rounded value, so Excel's display agrees with the page to the last digit.

Safety:

* CSV: a text cell starting with ``= + - @``, a tab or a carriage return is prefixed with an
  apostrophe, so spreadsheet programs show it as text instead of running it as a formula.
* XLSX: text cells are written with the string type, never as formulas, whatever they start with;
  characters XML cannot carry are dropped.
* PDF: rendered by WeasyPrint through ``lms.printing``, whose URL fetcher serves only the app's static
  files and the data URIs it registered (the charts), nothing else.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, overload
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from lms import spreadsheets
from lms.i18n import _
from lms.printing import STATIC_ROOT, PrintError, environment, layout, static_fetcher
from lms.reports.charts import Chart, fmt_percent
from lms.spreadsheets import (
    csv_bytes,
    neutralise,
    new_workbook,
    sheet_name,
    workbook_bytes,
    xml_text,
)

if TYPE_CHECKING:
    # openpyxl and WeasyPrint are imported by the functions that write a workbook or a PDF.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from lms.printing_engine import StaticOnlyURLFetcher

DANGEROUS_PREFIXES = spreadsheets.FORMULA_START
LOCAL_TZ = "Asia/Ho_Chi_Minh"
PDF_TEMPLATE = "reports/print/summary.html"


class Kind(enum.StrEnum):
    """How a column's values are typed in exports and formatted on paper."""

    text = "text"
    integer = "integer"
    decimal = "decimal"  # shown with ``Column.digits`` decimals
    percent = "percent"  # a 0..1 fraction, shown as a percentage with ``Column.digits`` decimals
    date = "date"
    datetime = "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = Kind.text
    digits: int = 1


@dataclass(frozen=True)
class ExportTable:
    """A titled table: typed columns and rows of plain values in column order."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class ChartData:
    """A native spreadsheet chart: categories and one or more series of values."""

    title: str
    category_label: str
    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[float | None]]]
    percent: bool = True


@dataclass(frozen=True)
class ExportDocument:
    """One export: the main table, summary lines (filters, totals), an optional chart."""

    title: str
    lang: str
    generated_at: datetime
    table: ExportTable
    # (label, value) or (label, value, Kind): filters and totals; the kind is guessed when left out.
    summary: Sequence[tuple[Any, ...]] = ()
    chart: ChartData | None = None
    charts: Sequence[Chart] = ()  # SVG charts, for the PDF
    extra_tables: Sequence[ExportTable] = field(default_factory=tuple)  # PDF only
    author: str = ""


# Values ------------------------------------------------------------------------------------


@overload
def percent_number(value: float, digits: int = 1) -> Decimal: ...
@overload
def percent_number(value: None, digits: int = 1) -> None: ...
def percent_number(value: float | None, digits: int = 1) -> Decimal | None:
    """A 0..1 fraction as a percentage rounded half-even, as babel rounds the page's numbers."""
    if value is None:
        return None
    step = Decimal(1).scaleb(-digits)
    return (Decimal(str(value)) * 100).quantize(step, rounding=ROUND_HALF_EVEN)


@overload
def decimal_number(value: float, digits: int = 1) -> Decimal: ...
@overload
def decimal_number(value: None, digits: int = 1) -> None: ...
def decimal_number(value: float | None, digits: int = 1) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def local(value: datetime, tz: str = LOCAL_TZ) -> datetime:
    """An aware datetime as naive local wall time (spreadsheets have no time zones)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in an export")
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def csv_value(value: Any, column: Column) -> str:
    """One cell as CSV text: machine-readable numbers (dot decimals), ISO dates, neutralised text."""
    if value is None:
        return ""
    kind = column.kind
    if kind is Kind.integer:
        return str(int(value))
    if kind is Kind.percent:
        return str(percent_number(value, column.digits))
    if kind is Kind.decimal:
        return str(decimal_number(value, column.digits))
    if kind is Kind.date:
        return value.isoformat() if isinstance(value, date) else neutralise(str(value))
    if kind is Kind.datetime:
        return local(value).isoformat(sep=" ", timespec="minutes")
    return neutralise(str(value))


def csv_label(column: Column) -> str:
    return column.label if column.kind is not Kind.percent or "%" in column.label else f"{column.label} (%)"


def display_value(value: Any, column: Column, lang: str) -> str:
    """One cell as people read it in ``lang`` (the PDF): 87,5%, 1.234, 31/05/2024."""
    if value is None:
        return "—" if column.kind in (Kind.percent, Kind.decimal) else ""
    kind = column.kind
    if kind is Kind.integer:
        return format_decimal(value, "#,##0", locale=lang)
    if kind is Kind.percent:
        return fmt_percent(float(percent_number(value, column.digits) or 0) / 100, lang)
    if kind is Kind.decimal:
        return format_decimal(decimal_number(value, column.digits), "#,##0." + "0" * column.digits,
                              locale=lang)
    if kind is Kind.date:
        return format_date(value, "dd/MM/yyyy" if lang == "vi" else "d MMM yyyy", locale=lang)
    if kind is Kind.datetime:
        return format_datetime(local(value), "HH:mm dd/MM/yyyy" if lang == "vi" else "d MMM yyyy, HH:mm",
                               locale=lang)
    return str(value)


# CSV ---------------------------------------------------------------------------------------


def write_csv(table: ExportTable) -> bytes:
    """The table as CSV: UTF-8 with a BOM (Excel then reads Vietnamese correctly), CRLF lines."""
    header = [neutralise(csv_label(c)) for c in table.columns]
    body = ([csv_value(v, c) for v, c in zip(row, table.columns, strict=True)] for row in table.rows)
    return csv_bytes([header, *body])


# XLSX --------------------------------------------------------------------------------------

NUMBER_FORMATS = {
    Kind.integer: "#,##0",
    Kind.date: "dd/mm/yyyy",
    Kind.datetime: "dd/mm/yyyy hh:mm",
}
HEADER_FILL = "DDE3EA"


def xlsx_value(value: Any, column: Column) -> Any:
    """The value stored in the spreadsheet: real numbers, dates and datetimes, or text."""
    if value is None:
        return None
    kind = column.kind
    if kind is Kind.integer:
        return int(value)
    if kind is Kind.percent:
        return float(percent_number(value, column.digits)) / 100
    if kind is Kind.decimal:
        return float(decimal_number(value, column.digits))
    if kind is Kind.datetime:
        return local(value)
    if kind is Kind.date and isinstance(value, date):
        return value
    return xml_text(str(value))


def number_format(column: Column) -> str:
    if column.kind is Kind.percent:
        return "0." + "0" * column.digits + "%" if column.digits else "0%"
    if column.kind is Kind.decimal:
        return "#,##0." + "0" * column.digits if column.digits else "#,##0"
    return NUMBER_FORMATS.get(column.kind, "General")


def _width(value: Any, column: Column) -> int:
    if column.kind in (Kind.date,):
        return 11
    if column.kind is Kind.datetime:
        return 17
    return len(str(value)) if value is not None else 0


def _cell(ws: Any, value: Any, column: Column | None = None, *, bold: bool = False) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text is text, even when it starts with "="
    if column is not None and value is not None and not isinstance(value, str):
        cell.number_format = number_format(column)
    if bold:
        cell.font = Font(bold=True)
    return cell


def _data_sheet(wb: Workbook, table: ExportTable) -> None:
    from openpyxl.styles import Alignment, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet_name(table.title))
    columns = list(table.columns)
    widths = [max(8, len(c.label) + 2) for c in columns]
    values = [[xlsx_value(v, c) for v, c in zip(row, columns, strict=True)] for row in table.rows]
    for row in values:
        for i, (value, column) in enumerate(zip(row, columns, strict=True)):
            widths[i] = max(widths[i], _width(value, column) + 2)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(width, 60)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{len(values) + 1}"
    header = []
    for column in columns:
        cell = _cell(ws, xml_text(column.label), bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    for row in values:
        ws.append([_cell(ws, v, c) for v, c in zip(row, columns, strict=True)])


def _summary_sheet(wb: Workbook, doc: ExportDocument) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList

    ws = wb.create_sheet(sheet_name(_("Summary")), 0)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 40
    ws.append([_cell(ws, xml_text(doc.title), bold=True)])
    generated = Column("generated", "", Kind.datetime)
    ws.append([_cell(ws, _("Generated")), _cell(ws, local(doc.generated_at), generated)])
    for label, value, column in summary_items(doc):
        ws.append([_cell(ws, xml_text(label)), _cell(ws, xlsx_value(value, column), column)])
    chart = doc.chart
    if chart is None or not chart.categories:
        return
    ws.append([])
    top = len(doc.summary) + 4  # title, generated, summary lines, blank row, then the chart table
    value_column = Column("v", "", Kind.percent if chart.percent else Kind.decimal)
    ws.append([_cell(ws, xml_text(chart.category_label), bold=True)]
              + [_cell(ws, xml_text(name), bold=True) for name, _values in chart.series])
    for i, category in enumerate(chart.categories):
        row = [_cell(ws, xml_text(category))]
        for _name, series in chart.series:
            row.append(_cell(ws, xlsx_value(series[i], value_column), value_column))
        ws.append(row)
    bar = BarChart()
    bar.type = "bar"  # horizontal, like the page
    bar.style = 10
    bar.title = chart.title
    bar.legend = None if len(chart.series) == 1 else bar.legend
    bar.x_axis.scaling.orientation = "maxMin"  # first category on top, in table order
    bar.y_axis.scaling.min = 0
    if chart.percent:
        bar.y_axis.scaling.max = 1
        bar.y_axis.number_format = "0%"
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    data = Reference(ws, min_col=2, max_col=1 + len(chart.series), min_row=top, max_row=top + len(chart.categories))
    categories = Reference(ws, min_col=1, min_row=top + 1, max_row=top + len(chart.categories))
    bar.add_data(data, titles_from_data=True)
    bar.set_categories(categories)
    bar.dataLabels = DataLabelList()
    bar.dataLabels.showVal = True
    bar.height = max(7.5, 1 + 0.7 * len(chart.categories))
    bar.width = 18
    ws.add_chart(bar, "D2")


def summary_items(doc: ExportDocument) -> list[tuple[str, Any, Column]]:
    """The summary lines with a column describing each value's kind."""
    items = []
    for label, value, *kind in doc.summary:
        items.append((label, value, Column("v", "", kind[0] if kind else _kind_of(value))))
    return items


def _kind_of(value: Any) -> Kind:
    if isinstance(value, bool):
        return Kind.text
    if isinstance(value, int):
        return Kind.integer
    if isinstance(value, datetime):
        return Kind.datetime
    if isinstance(value, date):
        return Kind.date
    if isinstance(value, float | Decimal):
        return Kind.decimal
    return Kind.text


def write_xlsx(doc: ExportDocument) -> bytes:
    """The document as a workbook: a summary sheet (with a native bar chart) and the data sheet."""
    wb = new_workbook(doc.title, author=doc.author or "lms", lang=doc.lang)
    _summary_sheet(wb, doc)
    _data_sheet(wb, doc.table)
    return workbook_bytes(wb)


# PDF ---------------------------------------------------------------------------------------


class ExportError(PrintError):
    """The PDF could not be rendered (a template asked for a refused resource)."""


def render_pdf_html(doc: ExportDocument, fetcher: StaticOnlyURLFetcher) -> str:
    """The summary as HTML for WeasyPrint, with every chart registered as a data URI."""
    tables = [doc.table, *doc.extra_tables]
    return environment().get_template(PDF_TEMPLATE).render(
        doc=doc,
        lang=doc.lang,
        title=doc.title,
        author=doc.author or "lms",
        description=doc.title,
        keywords="",
        created=local(doc.generated_at),
        generated=display_value(doc.generated_at, Column("g", "", Kind.datetime), doc.lang),
        summary=[(label, display_value(value, column, doc.lang))
                 for label, value, column in summary_items(doc)],
        charts=[(chart, fetcher.data_uri(chart.svg.encode("utf-8"), "image/svg+xml"))
                for chart in doc.charts],
        tables=[
            (
                table,
                [
                    [(display_value(v, c, doc.lang), c.kind) for v, c in zip(row, table.columns, strict=True)]
                    for row in table.rows
                ],
            )
            for table in tables
        ],
        numeric={Kind.integer, Kind.decimal, Kind.percent},
    )


def write_pdf(doc: ExportDocument) -> bytes:
    """The document as an A4 PDF summary: title, summary lines, charts and tables, fonts embedded."""
    fetcher = static_fetcher(STATIC_ROOT)
    html = render_pdf_html(doc, fetcher)
    return layout(html, fetcher, ExportError).write_pdf()
