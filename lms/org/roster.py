"""Read HR roster spreadsheets (officers, agencies) into clean rows and a complete list of errors.

HR keeps officer lists in Excel and CSV files that have been passed around for years: title rows
above the header, merged header cells, Vietnamese or English column names written any which way,
legacy encodings, ids that Excel turned into numbers. This module reads such a file into a
:class:`Table` (:func:`read_table`), then maps it to officers (:func:`parse_officers`) or agencies
(:func:`parse_agencies`). It never raises on bad content: every problem becomes a
:class:`RosterError` carrying the line number a person sees in Excel (1-based, counting title and
header rows), the column header as written, and a translatable reason. Deciding that one bad row
blocks the whole import is the caller's job; this module's job is to report all of them at once.

Generated usernames follow the Vietnamese office convention: the given name (the last word) followed
by the initials of the other words, without diacritics: "Nguyễn Thị Bích Đào" -> "daontb". A clash
with an existing or earlier username adds 2, 3 ...: "daontb2".

Pure functions only: no Flask, no database.
"""

from __future__ import annotations

import csv
import heapq
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from email_validator import EmailNotValidError, validate_email

from lms.i18n import _
from lms.org.fields import OFFICER_FIELDS, SIMPLE_FIELDS, FieldProblem, OfficerField
from lms.org.vnencoding import EncodingProblem, ascii_fold, decode_text, fix_legacy_cell

__all__ = [
    "AGENCY_KINDS",
    "AgencyOrder",
    "AgencyRoster",
    "AgencyRow",
    "OfficerRoster",
    "OfficerRow",
    "RosterError",
    "Row",
    "Table",
    "generate_username",
    "username_base",
    "header_key",
    "parse_agencies",
    "parse_officers",
    "read_table",
]

AGENCY_KINDS = ("province", "department", "district", "commune", "sociopolitical", "press", "other")

MAX_ROWS = 100_000
# A workbook is a zip: a 10 MB upload can inflate to gigabytes that openpyxl would hold in memory
# (shared strings) or parse for minutes. Python's zipfile never inflates a member beyond its declared
# size, so the declared sizes bound the work. 100,000 ordinary rows unpack to about 45 MB.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Columns read from a sheet; a cell in column XFD would otherwise make its row 16,384 cells wide.
MAX_COLUMNS = 200
# Excel often formats thousands of empty rows below the data; stop looking after this many.
_MAX_EMPTY_RUN = 5_000
# The header is looked for among the first rows only (title rows are few).
_HEADER_SEARCH_ROWS = 30
# Column sizes of the user and agency tables.
_MAX_NAME = 200
_MAX_JOB_TITLE = 200
_MAX_EMPLOYEE_ID = 40
_MAX_AGENCY_CODE = 40
_MAX_AGENCY_NAME = 255
_MAX_GENERATED_USERNAME = 30


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterError:
    """One problem in the file; ``line`` is None for file-level problems."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line %(line)s", line=self.line))
        if self.column:
            where.append(_("column '%(column)s'", column=self.column))
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Row:
    """A non-empty row: its line number as Excel shows it and its cells as text, trailing empties cut."""

    line: int
    cells: tuple[str, ...]

    def get(self, index: int) -> str:
        return self.cells[index] if index < len(self.cells) else ""


@dataclass(frozen=True)
class _Merge:
    """A merged range: first/last line (1-based) and first/last column (0-based)."""

    top: int
    left: int
    bottom: int
    right: int


@dataclass(frozen=True)
class Table:
    """The rows of one sheet or CSV file, with the header row located.

    ``rows`` holds every non-empty row (title rows too); ``header`` the column names as written, read
    from ``header_lines`` (two lines when the header has merged group cells above sub-headers);
    ``body`` the rows below the header. ``errors`` is non-empty when the file could not be read.
    """

    rows: tuple[Row, ...] = ()
    header: tuple[str, ...] = ()
    header_lines: tuple[int, ...] = ()
    header_index: int = 0  # position of the header's first line in ``rows``
    body: tuple[Row, ...] = ()
    errors: tuple[RosterError, ...] = ()
    encoding: str | None = None
    sheet: str | None = None
    # Cells that were typed in a TCVN3/VNI font and converted to Unicode.
    converted_cells: int = 0
    merges: tuple[_Merge, ...] = field(default=(), repr=False)

    def with_header_at(self, index: int) -> Table:
        """This table with the header taken from ``rows[index]``."""
        header, lines, body_start = _header_from(self.rows, self.merges, index)
        return replace(
            self,
            header=header,
            header_lines=lines,
            header_index=index,
            body=self.rows[body_start:],
        )

    def with_header_matching(self, known_keys: Collection[str]) -> Table:
        """This table with the header moved to the early row naming the most ``known_keys`` columns.

        Candidates are judged with their merged second line, so a two-line header is not mistaken
        for its own sub-header line. The guessed header wins ties.
        """
        if not self.rows:
            return self
        current = self.header_index
        best_index, best_hits = current, _count_matches(self.header, known_keys)
        for index in range(min(len(self.rows), _HEADER_SEARCH_ROWS)):
            if index == current:
                continue
            names = _header_from(self.rows, self.merges, index)[0]
            hits = _count_matches(names, known_keys)
            if hits > best_hits:
                best_index, best_hits = index, hits
        if best_index == current or best_hits <= 0:
            return self
        return self.with_header_at(best_index)


def _count_matches(names: Iterable[str], known_keys: Collection[str]) -> int:
    return sum(1 for name in names if name and _matches(name, known_keys))


def _matches(cell: str, known_keys: Collection[str]) -> bool:
    return any(key in known_keys for key in _header_keys(cell))


# --- reading files -----------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> Table:
    """Read a ``.csv`` or ``.xlsx`` upload into a :class:`Table`; problems go to ``Table.errors``."""
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)  # a workbook whatever its name says
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return _file_error(
            _(
                "This is an old Excel 97-2003 (.xls) file; open it in Excel and save it as "
                "'Excel Workbook (.xlsx)' or 'CSV UTF-8'."
            )
        )
    if suffix in (".xlsx", ".xlsm"):
        return _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _read_csv(data)
    return _file_error(
        _(
            "Files of type '%(suffix)s' cannot be read; upload an Excel workbook (.xlsx) or a CSV "
            "file.",
            suffix=suffix,
        )
    )


def _file_error(message: str) -> Table:
    return Table(errors=(RosterError(None, None, message),))


_DELIMITERS = (",", ";", "\t")
_SEP_LINE_RE = re.compile(r"\A\"?sep=(.)\"?[ \t]*(?:\r\n|\n|\r|\Z)", re.IGNORECASE)


def _read_csv(data: bytes) -> Table:
    try:
        decoded = decode_text(data)
    except EncodingProblem as problem:
        return _file_error(problem.message)
    text = decoded.text
    first_line = 1
    delimiter = None
    sep = _SEP_LINE_RE.match(text)
    if sep:  # Excel's "sep=;" hint line
        delimiter, text, first_line = sep.group(1), text[sep.end() :], 2
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    fix = not decoded.legacy
    rows: list[Row] = []
    converted = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record_number, record in enumerate(reader, start=first_line):
            cells = []
            for raw in record:
                cell = _clean_text(raw)
                if fix and cell and not cell.isascii():
                    fixed = fix_legacy_cell(cell)
                    if fixed != cell:
                        converted += 1
                        cell = fixed
                cells.append(cell)
            row = _row(record_number, cells)
            if row is not None:
                if len(rows) >= MAX_ROWS:
                    return _too_many_rows()
                rows.append(row)
    except csv.Error:
        return _file_error(
            _(
                "The CSV file could not be read near line %(line)s; check its quotes.",
                line=reader.line_num + first_line - 1,
            )
        )
    return _finish_table(rows, (), decoded.encoding, None, converted)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most fields.

    Trailing empty fields do not count, so Excel's padded title rows ("DANH SÁCH;;;;") weigh
    nothing, and a few semicolons inside comma-separated text lose to the commas of every row.
    """
    lines = text[:65536].splitlines()[:50]
    best, best_splits = ",", 0
    for delimiter in _DELIMITERS:
        splits = 0
        try:
            for record in csv.reader(lines, delimiter=delimiter):
                width = len(record)
                while width > 1 and not record[width - 1].strip():
                    width -= 1
                splits += width - 1
        except csv.Error:
            continue
        if splits > best_splits:
            best, best_splits = delimiter, splits
    return best


def _too_many_rows() -> Table:
    return _file_error(
        _("The file has more than %(max)s rows; split it into smaller files.", max=MAX_ROWS)
    )


_SPACE_RE = re.compile(r"\s+")


# Invisible characters that come with text pasted from web pages and PDFs.
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\u200c": None, "\ufeff": None})


def _clean_text(value: str) -> str:
    value = value.translate(_INVISIBLE).strip()
    if value and not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return value


def _row(line: int, cells: list[str]) -> Row | None:
    while cells and not cells[-1]:
        cells.pop()
    return Row(line, tuple(cells)) if cells else None


def _read_xlsx(data: bytes) -> Table:
    # openpyxl is imported here so that CSV-only callers do not pay for it.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        return _file_error(
            _("The workbook is larger than %(max)s MB once unpacked; split it into smaller files.",
              max=MAX_UNPACKED_BYTES // (1024 * 1024))
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for broken files
        return _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    try:
        sheet = _pick_sheet(workbook)
        if sheet is None:
            return _file_error(_("The workbook has no worksheet."))
        merges = _read_merges(data, getattr(sheet, "_worksheet_path", None))
        sheet.reset_dimensions()  # some generators write a wrong <dimension>; read what is there
        rows: list[Row] = []
        converted = 0
        empty_run = 0
        for line, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            cells = []
            for value in values:
                cell = _cell_text(value)
                if isinstance(value, str) and cell and not cell.isascii():
                    fixed = fix_legacy_cell(cell)
                    if fixed != cell:
                        converted += 1
                        cell = fixed
                cells.append(cell)
            row = _row(line, cells)
            if row is None:
                empty_run += 1
                if empty_run >= _MAX_EMPTY_RUN:
                    break
                continue
            empty_run = 0
            if len(rows) >= MAX_ROWS:
                return _too_many_rows()
            rows.append(row)
    except Exception:  # a corrupt sheet part fails only when it is read
        return _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    finally:
        workbook.close()
    return _finish_table(rows, merges, None, sheet.title, converted)


# Sheet names that say "this is the list", folded to ASCII and lower case.
_SHEET_HINTS = ("danh sach", "officer", "can bo", "roster", "agenc", "don vi")


def _pick_sheet(workbook):
    sheets = [
        ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"
    ]
    sheets = sheets or list(workbook.worksheets)
    if not sheets:
        return None
    for ws in sheets:
        name = ascii_fold(ws.title).lower()
        if any(hint in name for hint in _SHEET_HINTS):
            return ws
    return sheets[0]


# Each tag is looked at within a bounded window, and only so many tags: one regex spanning the tag made
# a crafted sheet of unclosed "<mergeCell" tags take time quadratic in its size.
_MERGE_START_RE = re.compile(rb"<(?:\w{1,40}:)?mergeCell\b")
_MERGE_REF_RE = re.compile(rb'\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"')
_MAX_MERGE_TAG = 512
_MAX_MERGES = 10_000


def _read_merges(data: bytes, sheet_path: str | None) -> tuple[_Merge, ...]:
    """Merged ranges of the sheet; read-only openpyxl does not expose them, so read the XML."""
    if not sheet_path:
        return ()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(sheet_path.lstrip("/"))
    except (KeyError, zipfile.BadZipFile, OSError):
        return ()
    merges = []
    for index, tag in enumerate(_MERGE_START_RE.finditer(xml)):
        if index >= _MAX_MERGES:
            break
        end = xml.find(b">", tag.end(), tag.end() + _MAX_MERGE_TAG)
        ref = _MERGE_REF_RE.search(xml, tag.end(), end) if end != -1 else None
        if ref is not None:
            left, top, right, bottom = ref.groups()
            first, last = _column_index(left), min(_column_index(right), MAX_COLUMNS - 1)
            if first <= last:  # only the columns that are read (see MAX_COLUMNS)
                merges.append(_Merge(int(top), first, int(bottom), last))
    return tuple(merges)


def _column_index(letters: bytes) -> int:
    index = 0
    for byte in letters:
        index = index * 26 + (byte - 64)
    return index - 1


def _cell_text(value: object) -> str:
    """A typed Excel value as the text a person typed: 1234.0 -> "1234", dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return _clean_text(str(value))


def _finish_table(
    rows: list[Row],
    merges: tuple[_Merge, ...],
    encoding: str | None,
    sheet: str | None,
    converted: int,
) -> Table:
    table = Table(
        rows=tuple(rows),
        encoding=encoding,
        sheet=sheet,
        converted_cells=converted,
        merges=merges,
    )
    if not rows:
        return replace(table, errors=(RosterError(None, None, _("The file has no data.")),))
    return table.with_header_at(_guess_header_index(table.rows))


def _is_texty(cell: str) -> bool:
    return bool(cell) and not _NUMBERISH_RE.fullmatch(cell)


_NUMBERISH_RE = re.compile(r"[\d\s.,:/+-]+")


def _guess_header_index(rows: tuple[Row, ...]) -> int:
    """The first early row that looks like column names: >= 2 text cells and about as wide as the data."""
    window = rows[:_HEADER_SEARCH_ROWS]
    for index, row in enumerate(window):
        filled = [cell for cell in row.cells if cell]
        if len(filled) < 2 or not all(_is_texty(cell) for cell in filled):
            continue
        following = [sum(1 for c in r.cells if c) for r in rows[index + 1 : index + 6]]
        if not following or len(filled) * 2 >= max(following):
            return index
    return 0


def _header_from(
    rows: tuple[Row, ...], merges: tuple[_Merge, ...], index: int
) -> tuple[tuple[str, ...], tuple[int, ...], int]:
    """Column names from ``rows[index]``, widened to a second line under merged group cells.

    Returns the names, the header's line numbers and the index of the first body row.
    """
    top_row = rows[index]
    line = top_row.line
    by_line = {row.line: row for row in rows[max(0, index - _HEADER_SEARCH_ROWS) : index + 2]}
    width = max([len(top_row.cells)] + [m.right + 1 for m in merges if m.top <= line <= m.bottom])
    top = [top_row.get(c) for c in range(width)]
    covering = [m for m in merges if m.top <= line <= m.bottom]
    # A cell merged down from a title area above shows its value in every header line it covers.
    for m in covering:
        if m.top < line and m.top in by_line:
            top[m.left] = top[m.left] or by_line[m.top].get(m.left)

    sub_row = by_line.get(line + 1)
    if sub_row is None or not _is_sub_header(top_row, sub_row, covering, line):
        return tuple(top), (line,), index + 1

    width = max(width, len(sub_row.cells))
    top += [""] * (width - len(top))
    # Group cells ("Liên hệ" over "Email" and "Điện thoại") give their name to every column below.
    group = list(top)
    for m in covering:
        for c in range(m.left, min(m.right, width - 1) + 1):
            group[c] = group[c] or top[m.left]
    names = []
    for c in range(width):
        sub = sub_row.get(c)
        names.append(sub or group[c])
    body_start = index + 2 if rows[index + 1].line == line + 1 else index + 1
    return tuple(names), (line, line + 1), body_start


def _is_sub_header(top_row: Row, sub_row: Row, covering: list[_Merge], line: int) -> bool:
    # Columns merged down across both lines ("STT", "Họ và tên") are the usual sign of a 2-line header.
    if any(m.top <= line and m.bottom >= line + 1 for m in covering):
        return True
    # Without them: sub-header text only under group cells, and blank under ordinary header cells.
    groups = [m for m in covering if m.right > m.left and m.top == line]
    if not groups:
        return False
    under_group = {c for m in groups for c in range(m.left, m.right + 1)}
    filled = [c for c, cell in enumerate(sub_row.cells) if cell]
    if not filled or not all(c in under_group and _is_texty(sub_row.cells[c]) for c in filled):
        return False
    return any(
        top_row.get(c) and c not in under_group and not sub_row.get(c)
        for c in range(len(top_row.cells))
    )


# --- header names ------------------------------------------------------------------------------

# Innermost brackets only: "[^)]*" let a cell of unclosed "(" take quadratic time.
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=8192)
def header_key(text: str) -> str:
    """Fold a header for matching: no diacritics, no case, no spaces or punctuation ("Họ và tên" -> "hovaten")."""
    return _NON_ALNUM_RE.sub("", ascii_fold(text).lower())


def _header_keys(text: str) -> tuple[str, ...]:
    """The header's key, then its key without bracketed notes ("Ngôn ngữ (vi/en)" -> "ngonngu")."""
    full = header_key(text)
    bare = header_key(_PAREN_RE.sub("", text))
    return (full, bare) if bare and bare != full else (full,)


def _alias_table(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {
        header_key(alias): field_name for field_name, names in aliases.items() for alias in names
    }


def _map_columns(
    header: tuple[str, ...],
    aliases: dict[str, str],
    ignored: frozenset[str],
    required: Mapping[str, str],
) -> tuple[dict[str, int], list[RosterError]]:
    """Column index per field, plus file-level errors for unknown, repeated and missing columns."""
    columns: dict[str, int] = {}
    errors: list[RosterError] = []
    for index, name in enumerate(header):
        if not name:
            continue
        keys = _header_keys(name)
        field_name = next((aliases[k] for k in keys if k in aliases), None)
        if field_name is None:
            if not any(k in ignored for k in keys):
                errors.append(
                    RosterError(
                        None,
                        name,
                        _("Unknown column; rename it to one of the expected names or delete it."),
                    )
                )
            continue
        if field_name in columns:
            errors.append(
                RosterError(
                    None,
                    name,
                    _(
                        "The column appears twice (also '%(other)s').",
                        other=header[columns[field_name]],
                    ),
                )
            )
            continue
        columns[field_name] = index
    for field_name, label in required.items():
        if field_name not in columns:
            errors.append(
                RosterError(
                    None, label, _("Required column '%(column)s' is missing.", column=label)
                )
            )
    return columns, errors


# Columns HR files often carry that the import does not need; they are skipped without complaint.
_IGNORED_HEADERS = frozenset(
    header_key(name)
    for name in (
        "STT", "TT", "Số TT", "Số thứ tự", "No", "No.", "#",
        "Ghi chú", "Note", "Notes", "Remarks",
        "Ngày sinh", "Năm sinh", "Date of birth", "DOB", "Birthday",
        "Giới tính", "Gender", "Sex",
        "Telephone",  # the phone number itself is a field now (lms.org.fields)
        "Tên đơn vị", "Đơn vị", "Đơn vị công tác", "Agency name", "Agency",
        "Dân tộc", "Ethnicity", "Trình độ", "Education", "Quê quán", "Hometown",
        "Phòng", "Phòng ban", "Department name",
    )
)  # fmt: skip


# --- officers ----------------------------------------------------------------------------------

_OFFICER_ALIASES = _alias_table({f.name: f.aliases for f in OFFICER_FIELDS})
_OFFICER_REQUIRED = {f.name: f.header_vi for f in OFFICER_FIELDS if f.required}
_OFFICER_KEYS = frozenset(_OFFICER_ALIASES)

_LANGUAGES = {
    header_key(name): code
    for code, names in {
        "vi": ("vi", "vie", "vn", "Tiếng Việt", "Việt", "Vietnamese"),
        "en": ("en", "eng", "Tiếng Anh", "Anh", "English"),
    }.items()
    for name in names
}
_DUTY_SPLIT_RE = re.compile(r"[,;\n]")
_USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
_FOLDED_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class OfficerRow:
    """One valid officer row, cleaned: NFC name, lower-case email, duty codes, a username."""

    line: int
    full_name: str
    agency_code: str
    job_title: str = ""
    email: str | None = None
    username: str = ""
    username_generated: bool = False
    duties: tuple[str, ...] = ()
    employee_id: str | None = None
    language: str | None = None
    # The simple fields of lms.org.fields (phone ...), by name, cleaned by their own reader.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OfficerRoster:
    """Valid officer rows and every error found; ``columns`` maps field -> header as written."""

    officers: tuple[OfficerRow, ...]
    errors: tuple[RosterError, ...]
    columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def username_base(full_name: str) -> str:
    """The username a name gives before any number is added: given name + initials, ASCII."""
    words = _FOLDED_WORD_RE.findall(ascii_fold(full_name).lower())
    base = (words[-1] + "".join(w[0] for w in words[:-1])) if words else ""
    base = base[:_MAX_GENERATED_USERNAME] or "canbo"
    if len(base) < 2:
        base += "0"  # usernames have at least two characters
    return base


def generate_username(full_name: str, taken: Collection[str] = ()) -> str:
    """Given name + initials of the other words, ASCII: "Nguyễn Thị Bích Đào" -> "daontb" (then "daontb2" ...)."""
    base = username_base(full_name)
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate


_NUMBERING_RE = re.compile(r"\(?(\d{1,2})\)?")


def _data_rows(table: Table) -> Iterable[Row]:
    """The body without the rows that only repeat the header.

    Government forms often number their columns in the line under the header ("(1)", "(2)" ...),
    and long sheets printed over several pages repeat the header row.
    """
    header = tuple(header_key(name) for name in table.header)
    for position, row in enumerate(table.body):
        if position == 0 and _is_column_numbering(row):
            continue
        if len(row.cells) >= 2 and tuple(map(header_key, row.cells)) == header[: len(row.cells)]:
            continue
        yield row


def _is_column_numbering(row: Row) -> bool:
    numbers = []
    for cell in row.cells:
        if not cell:
            continue
        match = _NUMBERING_RE.fullmatch(cell)
        if match is None:
            return False
        numbers.append(int(match.group(1)))
    return len(numbers) >= 3 and numbers == sorted(set(numbers))


def _no_rows() -> RosterError:
    return RosterError(None, None, _("The file has a header row but no rows below it."))


def _collapse(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def parse_officers(
    table: Table,
    *,
    known_agency_codes: Collection[str],
    known_duties: Mapping[str, str],
    existing_usernames: Collection[str] | Callable[[set[str]], Iterable[str]] = (),
) -> OfficerRoster:
    """Map a roster table to officers, reporting every bad row (``known_duties`` maps alias -> code).

    ``existing_usernames`` are the accounts' usernames, or a function that, given the bases of the
    usernames to generate (:func:`username_base`), returns at least the existing ones that are such
    a base, alone or followed by a number: a province of 200,000 officers need not be held in memory.
    """
    if table.errors:
        return OfficerRoster((), table.errors)
    table = table.with_header_matching(_OFFICER_KEYS)
    columns, errors = _map_columns(
        table.header, _OFFICER_ALIASES, _IGNORED_HEADERS, _OFFICER_REQUIRED
    )
    header_names = {name: table.header[index] for name, index in columns.items()}
    if any(name not in columns for name in _OFFICER_REQUIRED):
        return OfficerRoster((), tuple(errors), header_names)
    body = list(_data_rows(table))
    if not body:
        errors.append(_no_rows())

    reader = _OfficerReader(columns, header_names, known_agency_codes, known_duties)
    drafts = [reader.read(row) for row in body]
    errors.extend(reader.errors)

    # Usernames are generated in file order for every named row, valid or not, so that fixing one
    # row does not change the usernames proposed for the others.
    if callable(existing_usernames):
        bases = {username_base(d.full_name) for d in drafts if d.username is None and d.full_name}
        existing: Iterable[str] = existing_usernames(bases) if bases else ()
    else:
        existing = existing_usernames
    taken = {name.casefold() for name in existing}
    taken.update(reader.seen_usernames)
    officers = []
    for draft in drafts:
        generated = draft.username is None and bool(draft.full_name)
        if generated:
            draft.username = generate_username(draft.full_name, taken)
            taken.add(draft.username)
        if draft.ok:
            officers.append(
                OfficerRow(
                    line=draft.line,
                    full_name=draft.full_name,
                    agency_code=draft.agency_code or "",
                    job_title=draft.job_title,
                    email=draft.email,
                    username=draft.username or "",
                    username_generated=generated,
                    duties=draft.duties,
                    employee_id=draft.employee_id,
                    language=draft.language,
                    extra=dict(draft.extra),
                )
            )
    return OfficerRoster(tuple(officers), tuple(errors), header_names)


@dataclass
class _OfficerDraft:
    line: int
    full_name: str = ""
    agency_code: str | None = None
    job_title: str = ""
    email: str | None = None
    username: str | None = None
    duties: tuple[str, ...] = ()
    employee_id: str | None = None
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


class _OfficerReader:
    """Reads officer rows one by one, remembering usernames and ids to catch duplicates."""

    def __init__(
        self,
        columns: Mapping[str, int],
        header_names: Mapping[str, str],
        known_agency_codes: Collection[str],
        known_duties: Mapping[str, str],
    ) -> None:
        self.columns = columns
        self.header_names = header_names
        self.agencies = {code.casefold(): code for code in known_agency_codes}
        self.duties = {header_key(code): code for code in known_duties.values()}
        self.duties.update({header_key(alias): code for alias, code in known_duties.items()})
        self.errors: list[RosterError] = []
        self.seen_usernames: dict[str, int] = {}
        self.seen_ids: dict[str, int] = {}
        self._draft = _OfficerDraft(0)

    def read(self, row: Row) -> _OfficerDraft:
        self._draft = draft = _OfficerDraft(row.line)
        draft.full_name = self._full_name(self._cell(row, "full_name"))
        draft.agency_code = self._agency_code(self._cell(row, "agency_code"))
        draft.job_title = self._job_title(_collapse(self._cell(row, "job_title")))
        draft.email = self._email(self._cell(row, "email"))
        draft.username = self._username(self._cell(row, "username").lower())
        draft.duties = self._duties(self._cell(row, "duties"))
        draft.employee_id = self._employee_id(self._cell(row, "employee_id"))
        draft.language = self._language(self._cell(row, "language"))
        for spec in SIMPLE_FIELDS:
            if spec.name in self.columns:
                draft.extra[spec.name] = self._simple(spec, self._cell(row, spec.name))
        return draft

    def _simple(self, spec: OfficerField, raw: str) -> Any:
        assert spec.read is not None
        try:
            return spec.read(raw)
        except FieldProblem as problem:
            self._error(spec.name, str(problem))
            return None

    def _cell(self, row: Row, field_name: str) -> str:
        index = self.columns.get(field_name)
        return "" if index is None else row.get(index).strip()

    def _error(self, field_name: str, message: str) -> None:
        self._draft.ok = False
        self.errors.append(
            RosterError(self._draft.line, self.header_names.get(field_name), message)
        )

    def _full_name(self, raw: str) -> str:
        name = _collapse(raw)
        if not name:
            self._error("full_name", _("The name is empty."))
        elif len(name) > _MAX_NAME:
            self._error(
                "full_name", _("The name is longer than %(max)s characters.", max=_MAX_NAME)
            )
        return name

    def _agency_code(self, raw: str) -> str | None:
        code = self.agencies.get(raw.casefold())
        if not raw:
            self._error("agency_code", _("The agency code is empty."))
        elif code is None:
            self._error("agency_code", _("Unknown agency code '%(code)s'.", code=raw))
        return code

    def _job_title(self, title: str) -> str:
        if len(title) > _MAX_JOB_TITLE:
            self._error(
                "job_title",
                _("The job title is longer than %(max)s characters.", max=_MAX_JOB_TITLE),
            )
        return title

    def _email(self, raw: str) -> str | None:
        if not raw:
            return None
        email = _clean_email(raw)
        if email is None:
            self._error("email", _("'%(email)s' is not a valid email address.", email=raw))
        return email

    def _username(self, raw: str) -> str | None:
        if not raw:
            return None
        if not _USERNAME_RE.fullmatch(raw):
            self._error(
                "username",
                _(
                    "The username '%(username)s' may only use letters a-z, digits, '.', '_' "
                    "and '-' (2 to 80 characters, without diacritics).",
                    username=raw,
                ),
            )
        elif raw in self.seen_usernames:
            self._error(
                "username",
                _(
                    "The username '%(username)s' is also on line %(other)s.",
                    username=raw,
                    other=self.seen_usernames[raw],
                ),
            )
        else:
            self.seen_usernames[raw] = self._draft.line
        return raw

    def _duties(self, raw: str) -> tuple[str, ...]:
        codes: list[str] = []
        for token in _DUTY_SPLIT_RE.split(raw):
            token = _collapse(token)
            if not token:
                continue
            code = self.duties.get(header_key(token))
            if code is None:
                self._error("duties", _("Unknown duty '%(duty)s'.", duty=token))
            elif code not in codes:
                codes.append(code)
        return tuple(codes)

    def _employee_id(self, raw: str) -> str | None:
        if not raw:
            return None
        folded = raw.casefold()
        if len(raw) > _MAX_EMPLOYEE_ID:
            self._error(
                "employee_id",
                _("The employee id is longer than %(max)s characters.", max=_MAX_EMPLOYEE_ID),
            )
        elif folded in self.seen_ids:
            self._error(
                "employee_id",
                _(
                    "The employee id '%(id)s' is also on line %(other)s.",
                    id=raw,
                    other=self.seen_ids[folded],
                ),
            )
        else:
            self.seen_ids[folded] = self._draft.line
        return raw

    def _language(self, raw: str) -> str | None:
        if not raw:
            return None
        language = _LANGUAGES.get(header_key(raw))
        if language is None:
            self._error(
                "language", _("Unknown language '%(language)s'; use 'vi' or 'en'.", language=raw)
            )
        return language


def _clean_email(raw: str) -> str | None:
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


# --- agencies ----------------------------------------------------------------------------------

_AGENCY_ALIASES = _alias_table(
    {
        "code": ("Mã đơn vị", "Mã ĐV", "Mã cơ quan", "Mã", "code", "agency_code", "Agency code"),
        "name_vi": ("Tên đơn vị", "Tên cơ quan", "Tên", "Tên tiếng Việt", "Tên đơn vị (tiếng Việt)",
                    "name", "name_vi", "Vietnamese name", "Agency name"),
        "name_en": ("Tên tiếng Anh", "Tên đơn vị (tiếng Anh)", "Tên đơn vị tiếng Anh", "name_en",
                    "English name"),
        "kind": ("Loại", "Loại đơn vị", "Loại hình", "Cấp", "kind", "type", "Agency type"),
        "parent_code": ("Mã đơn vị cấp trên", "Mã cấp trên", "Đơn vị cấp trên", "Cấp trên",
                        "Đơn vị chủ quản", "Mã đơn vị cha", "parent", "parent_code", "Parent code",
                        "Parent agency"),
    }
)  # fmt: skip
_AGENCY_REQUIRED = {"code": "Mã đơn vị", "name_vi": "Tên đơn vị"}
_IGNORED_HEADERS_AGENCY = frozenset(
    header_key(name)
    for name in ("STT", "TT", "Số TT", "No", "No.", "#", "Ghi chú", "Note", "Notes", "Remarks",
                 "Địa chỉ", "Address", "Số điện thoại", "Điện thoại", "Phone", "Email", "Website")
)  # fmt: skip
_AGENCY_KEYS = frozenset(_AGENCY_ALIASES)

_KIND_NAMES = {
    header_key(name): kind
    for kind, names in {
        "province": ("province", "Tỉnh", "Cấp tỉnh", "UBND tỉnh", "Thành phố trực thuộc trung ương"),
        "department": ("department", "Sở", "Ban", "Ngành", "Sở, ban, ngành", "Sở ban ngành",
                       "Cơ quan chuyên môn", "board"),
        "district": ("district", "Huyện", "Quận", "Thị xã", "Thành phố thuộc tỉnh", "Cấp huyện"),
        "commune": ("commune", "Xã", "Phường", "Thị trấn", "Cấp xã", "ward"),
        "sociopolitical": ("sociopolitical", "socio-political", "Tổ chức chính trị - xã hội",
                           "Chính trị - xã hội", "Đoàn thể", "Mặt trận", "mass organisation",
                           "mass organization"),
        "press": ("press", "Báo chí", "Cơ quan báo chí", "Báo", "Đài", "media"),
        "other": ("other", "Khác"),
    }.items()
    for name in names
}  # fmt: skip
_AGENCY_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


@dataclass(frozen=True)
class AgencyRow:
    """One valid agency row; ``parent_code`` is a code in the file or an existing one, or None."""

    line: int
    code: str
    name_vi: str
    name_en: str = ""
    kind: str = "other"
    parent_code: str | None = None


@dataclass(frozen=True)
class AgencyOrder:
    """Agencies with every parent before its children, and the rows that cannot be placed."""

    agencies: tuple[AgencyRow, ...]
    errors: tuple[RosterError, ...]


@dataclass(frozen=True)
class AgencyRoster:
    """Valid agency rows and every error found; ``columns`` maps field -> header as written."""

    agencies: tuple[AgencyRow, ...]
    errors: tuple[RosterError, ...]
    columns: Mapping[str, str] = field(default_factory=dict)
    existing_codes: frozenset[str] = frozenset()
    # code (casefolded) -> line of rows that had errors, so that their children are explained.
    rejected: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def dependency_order(self) -> AgencyOrder:
        """Sort parents before children (file order otherwise); report cycles and unknown parents."""
        column = self.columns.get("parent_code")
        by_code = {row.code.casefold(): row for row in self.agencies}
        children: dict[str, list[AgencyRow]] = {}
        waiting: dict[str, int] = {}  # code -> number of unplaced parents in the file (0 or 1)
        errors: list[RosterError] = []
        ready: list[tuple[int, str]] = []
        blocked: set[str] = set()
        for row in self.agencies:
            key = row.code.casefold()
            parent = row.parent_code.casefold() if row.parent_code else None
            if parent is None or (parent in self.existing_codes and parent not in by_code):
                heapq.heappush(ready, (row.line, key))
            elif parent in by_code:
                children.setdefault(parent, []).append(row)
                waiting[key] = 1
            elif parent in self.rejected:
                blocked.add(key)
                errors.append(
                    RosterError(
                        row.line,
                        column,
                        _(
                            "The parent agency '%(parent)s' on line %(other)s has errors.",
                            parent=row.parent_code,
                            other=self.rejected[parent],
                        ),
                    )
                )
            else:
                blocked.add(key)
                errors.append(
                    RosterError(
                        row.line,
                        column,
                        _(
                            "Unknown parent agency '%(parent)s': it is neither in the file nor "
                            "in the system.",
                            parent=row.parent_code,
                        ),
                    )
                )
        ordered: list[AgencyRow] = []
        while ready:
            _line, key = heapq.heappop(ready)
            ordered.append(by_code[key])
            for child in children.get(key, ()):
                child_key = child.code.casefold()
                waiting[child_key] -= 1
                if waiting[child_key] == 0:
                    heapq.heappush(ready, (child.line, child_key))

        placed = {row.code.casefold() for row in ordered}
        unplaced = [row for row in self.agencies if row.code.casefold() not in placed | blocked]
        errors.extend(self._cycle_errors(unplaced, by_code, column))
        errors.sort(key=lambda e: e.line or 0)
        return AgencyOrder(tuple(ordered), tuple(errors))

    @staticmethod
    def _cycle_errors(
        unplaced: list[AgencyRow], by_code: dict[str, AgencyRow], column: str | None
    ) -> list[RosterError]:
        """Each unplaced row is in a cycle or below one (or below a blocked row); name which."""
        errors = []
        in_cycle: set[str] = set()
        for row in unplaced:
            key = row.code.casefold()
            if key in in_cycle:
                continue
            # Walk up the parents until a code repeats: that repeated stretch is the cycle.
            path: list[str] = []
            seen: dict[str, int] = {}
            current: str | None = key
            while current is not None and current in by_code and current not in seen:
                seen[current] = len(path)
                path.append(current)
                parent = by_code[current].parent_code
                current = parent.casefold() if parent else None
            if current is None or current not in seen or current in in_cycle:
                continue
            cycle = path[seen[current] :]
            in_cycle.update(cycle)
            members = [by_code[k] for k in cycle]
            first = min(members, key=lambda r: r.line)
            description = " → ".join(
                f"{r.code} ({_('line %(line)s', line=r.line)})" for r in members
            )
            errors.append(
                RosterError(
                    first.line,
                    column,
                    _(
                        "These agencies are each other's parents: %(cycle)s → %(code)s.",
                        cycle=description,
                        code=members[0].code,
                    ),
                )
            )
        for row in unplaced:
            key = row.code.casefold()
            if key in in_cycle:
                continue
            errors.append(
                RosterError(
                    row.line,
                    column,
                    _(
                        "The parent agency '%(parent)s' cannot be placed (see the errors above).",
                        parent=row.parent_code,
                    ),
                )
            )
        return errors


def parse_agencies(table: Table, *, existing_codes: Collection[str] = ()) -> AgencyRoster:
    """Map an agency table to agencies (code, names, kind, parent), reporting every bad row."""
    existing = frozenset(code.casefold() for code in existing_codes)
    if table.errors:
        return AgencyRoster((), table.errors, existing_codes=existing)
    table = table.with_header_matching(_AGENCY_KEYS)
    columns, errors = _map_columns(
        table.header, _AGENCY_ALIASES, _IGNORED_HEADERS_AGENCY, _AGENCY_REQUIRED
    )
    header_names = {name: table.header[index] for name, index in columns.items()}
    if any(name not in columns for name in _AGENCY_REQUIRED):
        return AgencyRoster((), tuple(errors), header_names, existing)
    body = list(_data_rows(table))
    if not body:
        errors.append(_no_rows())

    col = columns.get
    code_col, vi_col = columns["code"], columns["name_vi"]
    en_col, kind_col, parent_col = col("name_en"), col("kind"), col("parent_code")

    def error(line: int, field_name: str, message: str) -> None:
        errors.append(RosterError(line, header_names.get(field_name), message))

    agencies: list[AgencyRow] = []
    seen: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for row in body:
        line = row.line
        before = len(errors)
        code = row.get(code_col).strip()
        if not code:
            error(line, "code", _("The agency code is empty."))
        elif not _AGENCY_CODE_RE.fullmatch(code):
            error(
                line,
                "code",
                _(
                    "The agency code '%(code)s' may only use letters a-z, digits, '.', '_' and "
                    "'-' (at most 40 characters).",
                    code=code,
                ),
            )
        elif code.casefold() in seen:
            error(
                line,
                "code",
                _(
                    "The agency code '%(code)s' is also on line %(other)s.",
                    code=code,
                    other=seen[code.casefold()],
                ),
            )
        else:
            seen[code.casefold()] = line

        name_vi = _collapse(row.get(vi_col))
        if not name_vi:
            error(line, "name_vi", _("The agency name is empty."))
        elif len(name_vi) > _MAX_AGENCY_NAME:
            error(
                line,
                "name_vi",
                _("The name is longer than %(max)s characters.", max=_MAX_AGENCY_NAME),
            )
        name_en = _collapse(row.get(en_col)) if en_col is not None else ""
        if len(name_en) > _MAX_AGENCY_NAME:
            error(
                line,
                "name_en",
                _("The name is longer than %(max)s characters.", max=_MAX_AGENCY_NAME),
            )

        kind = "other"
        raw_kind = _collapse(row.get(kind_col)) if kind_col is not None else ""
        if raw_kind:
            found = _KIND_NAMES.get(header_key(raw_kind))
            if found is None:
                error(
                    line,
                    "kind",
                    _(
                        "Unknown agency kind '%(kind)s'; use province, department, district, "
                        "commune, sociopolitical, press or other (or Tỉnh, Sở, Huyện, Xã, Tổ chức "
                        "chính trị - xã hội, Báo chí, Khác).",
                        kind=raw_kind,
                    ),
                )
            else:
                kind = found

        parent = row.get(parent_col).strip() if parent_col is not None else ""
        if parent and code and parent.casefold() == code.casefold():
            error(line, "parent_code", _("The agency cannot be its own parent."))

        if len(errors) > before:
            if code:
                rejected.setdefault(code.casefold(), line)
            continue
        agencies.append(AgencyRow(line, code, name_vi, name_en, kind, parent or None))
    return AgencyRoster(tuple(agencies), tuple(errors), header_names, existing, rejected)
