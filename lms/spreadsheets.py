"""Spreadsheet files every domain writes the same way: CSV that Excel opens, XLSX, inert cells.

The one place for the rules a file handed to HR must keep, whoever writes it (roster templates and
activation links in ``org``, reports in ``reports``): CSV is UTF-8 with a BOM (Excel then reads the
Vietnamese diacritics) and CRLF lines; text that a spreadsheet would run as a formula is neutralised;
XLSX cells never hold characters XML cannot carry, and sheet names are ones Excel accepts.
Pure functions over plain rows: no Flask, no database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
BOM = b"\xef\xbb\xbf"
# The control characters XML 1.0 cannot carry (all below U+0020 but tab, LF and CR); openpyxl refuses
# a cell holding one. openpyxl itself is imported when a workbook is built, not with this module.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """Text that would start a formula gets a leading apostrophe, so the cell stays text."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    """Rows of already formatted cells as CSV: UTF-8 with a BOM, comma-separated, CRLF lines."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return BOM + out.getvalue().encode("utf-8")


def sheet_name(title: str) -> str:
    """A valid worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return _SHEET_NAME_BAD.sub(" ", title)[:31].strip() or "Sheet"


def xml_text(text: str) -> str:
    """Drop characters XML cannot carry; line breaks become LF, as any XML reader would make them."""
    return _XML_ILLEGAL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def new_workbook(title: str = "", *, author: str = "lms", lang: str = "") -> Workbook:
    """A write-only workbook with its document properties set."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    if title:
        workbook.properties.title = xml_text(title)
    workbook.properties.creator = author
    if lang:
        workbook.properties.language = lang
    return workbook


def text_cell(sheet: Any, value: str, *, bold: bool = False) -> WriteOnlyCell:
    """A cell that is text even when it starts with "=" (never a formula)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=xml_text(value))
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def text_xlsx(rows: Sequence[Sequence[str]], title: str) -> bytes:
    """A one-sheet workbook of text cells, the first row in bold as the header."""
    workbook = new_workbook(title)
    sheet = workbook.create_sheet(sheet_name(title))
    for index, row in enumerate(rows):
        sheet.append([text_cell(sheet, value, bold=index == 0) for value in row])
    return workbook_bytes(workbook)
