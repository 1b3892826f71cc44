"""Report results as typed tables: one definition of the columns feeds the page, the exports
(CSV, XLSX, PDF), the CLI and the API, so every one of them shows the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lms.db import utcnow
from lms.i18n import _
from lms.org.fields import SIMPLE_FIELDS
from lms.reports import charts, queries
from lms.reports.exports import ChartData, Column, ExportDocument, ExportTable, Kind
from lms.reports.queries import AgencyReport, Counts, CourseRow, OfficerRow

COUNT_KEYS = ("officers", "assigned", "completed", "completed_elsewhere", "in_progress", "not_started",
              "overdue", "completion_rate", "average_score")


def count_columns() -> list[Column]:
    return [
        Column("officers", _("Officers"), Kind.integer),
        Column("assigned", _("Assigned courses"), Kind.integer),
        Column("completed", _("Completed"), Kind.integer),
        Column("completed_elsewhere", _("Of which in person or external"), Kind.integer),
        Column("in_progress", _("In progress"), Kind.integer),
        Column("not_started", _("Not started"), Kind.integer),
        Column("overdue", _("Overdue"), Kind.integer),
        Column("completion_rate", _("Completion"), Kind.percent),
        Column("average_score", _("Average score"), Kind.decimal),
    ]


def count_values(counts: Counts) -> list[Any]:
    return [counts.officers, counts.assigned, counts.completed, counts.completed_elsewhere,
            counts.in_progress, counts.not_started, counts.overdue, counts.completion_rate, counts.average_score]


def agency_label(row: queries.AgencyRow, lang: str) -> str:
    name = row.agency.name(lang)
    return _("%(name)s (own officers)", name=name) if row.direct else name


def agency_table(report: AgencyReport, lang: str) -> ExportTable:
    columns = [Column("code", _("Code")), Column("agency", _("Agency")), *count_columns()]
    rows = [[r.agency.code, agency_label(r, lang), *count_values(r.counts)] for r in report.rows]
    rows.append(["", _("Total"), *count_values(report.total)])
    title = report.parent.name(lang) if report.parent else _("Completion by agency")
    return ExportTable(title, columns, rows)


def course_table(rows: Sequence[CourseRow], total: Counts, lang: str) -> ExportTable:
    columns = [Column("key", _("Course key")), Column("course", _("Course")), *count_columns()[1:]]
    out = [[r.course.key, r.course.title_in(lang), *count_values(r.counts)[1:]] for r in rows]
    out.append(["", _("Total"), *count_values(total)[1:]])
    return ExportTable(_("Completion by course"), columns, out)


def officer_table(rows: Sequence[OfficerRow], title: str) -> ExportTable:
    columns = [Column("username", _("Username")), Column("name", _("Full name")),
               Column("employee_id", _("Employee id")),
               *(Column(f.name, str(f.heading)) for f in SIMPLE_FIELDS), *count_columns()[1:]]
    out = [[r.user.username, r.user.full_name, r.user.employee_id or "",
            *(f.display(getattr(r.user, f.name)) for f in SIMPLE_FIELDS), *count_values(r.counts)[1:]]
           for r in rows]
    return ExportTable(title, columns, out)


@dataclass
class ReportPage:
    """Everything a report page, its exports and the API show."""

    title: str
    table: ExportTable
    summary: list[tuple[Any, ...]]
    charts: list[charts.Chart]
    chart_data: ChartData | None


def agency_page(report: AgencyReport, filters_summary: list[tuple[Any, ...]], lang: str,
                per_month: list[tuple[Any, int]] | None = None, target: float | None = None,
                title: str | None = None) -> ReportPage:
    table = agency_table(report, lang)
    items = [(agency_label(r, lang), r.counts.completion_rate) for r in report.rows]
    statuses = [str(r.status) if r.status else None for r in report.rows]
    has_status = any(statuses)
    chart_list = [charts.completion_by_agency(items, lang=lang, target=None if has_status else target,
                                              statuses=statuses if has_status else None)] if items else []
    if per_month is not None:
        chart_list.append(charts.completions_over_time(per_month, lang=lang))
    summary = [
        *filters_summary,
        (_("Officers"), report.total.officers, Kind.integer),
        (_("Assigned courses"), report.total.assigned, Kind.integer),
        (_("Completed"), report.total.completed, Kind.integer),
        (_("Of which in person or external"), report.total.completed_elsewhere, Kind.integer),
        (_("Overdue"), report.total.overdue, Kind.integer),
        (_("Completion"), report.total.completion_rate, Kind.percent),
    ]
    chart_data = ChartData(_("Completion per agency"), _("Agency"), [name for name, _v in items],
                           [(_("Completion"), [v for _n, v in items])]) if items else None
    return ReportPage(title or table.title, table, summary, chart_list, chart_data)


def document(page: ReportPage, lang: str, author: str = "") -> ExportDocument:
    return ExportDocument(page.title, lang, utcnow(), page.table, summary=page.summary,
                          chart=page.chart_data, charts=page.charts, author=author)
