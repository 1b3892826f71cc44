"""HR report pages: plans and their dashboard, completion by agency (with drill-down to officers and
their transcript), by course, officer search, and exports of exactly what the page shows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from lms import audit, policy
from lms.catalog.models import Course
from lms.db import utcnow
from lms.errors import show_error
from lms.extensions import db
from lms.i18n import N_, _, ngettext
from lms.org import queries as org_queries
from lms.org.models import Agency, AgencyKind, Duty, User
from lms.reports import charts, documents, exports, queries, reminders, services, targets
from lms.reports.forms import (
    FILTER_NAMES,
    AddCourseForm,
    AddMemberForm,
    ConfirmForm,
    PlanForm,
    TargetForm,
    parse_filters,
)
from lms.reports.models import Notice, Plan, PlanStatus
from lms.reports.queries import Filters
from lms.reports.targets import STATUS_LABELS, TARGET_KINDS
from lms.sqlite import appends

bp = Blueprint("reports", __name__, url_prefix="/reports")


OFFICERS_PER_PAGE = 50
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf"}


def _lang() -> str:
    return str(get_locale() or "vi")


@bp.app_template_global()
def target_kind_label(kind: str) -> str:
    return _(TARGET_KINDS[kind][0]) if kind in TARGET_KINDS else kind


TARGET_PARTS = {
    "minority": N_("in ethnic-minority languages"),
    "foreign": N_("in foreign languages"),
    "digital": N_("in digital formats"),
}


@bp.app_template_global()
def target_part_label(part: str) -> str:
    """What one part of the communication-products share counts (the parts come from the query)."""
    return _(TARGET_PARTS[part]) if part in TARGET_PARTS else part


@bp.app_template_global()
def status_label(status: str | None) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else ""  # type: ignore[index]


# Filters ------------------------------------------------------------------------------------


def _filter_input() -> Any:
    plans = set(db.session.scalars(select(Plan.id)))
    courses = set(db.session.scalars(select(Course.id)))
    duties = set(db.session.scalars(select(Duty.id)))
    parsed = parse_filters(request.args, plans=plans, courses=courses, duties=duties)
    for field, message in parsed.errors.items():
        flash(_("Filter “%(field)s”: %(problem)s", field=_filter_label(field), problem=message), "error")
    return parsed


def _filter_label(name: str) -> str:
    return {"plan": _("Plan"), "course": _("Course"), "kind": _("Agency kind"), "duty": _("Duty"),
            "from": _("From"), "to": _("To")}[name]


def _filter_choices() -> dict[str, Any]:
    lang = _lang()
    return {
        "plans": [(p.id, p.name) for p in db.session.scalars(queries.plans_query())],
        "courses": [(c.id, c.title_in(lang)) for c in db.session.scalars(
            select(Course).where(Course.archived_at.is_(None)).order_by(Course.key))],
        "kinds": [k.value for k in AgencyKind],
        "duties": [(d.id, d.name(lang)) for d in org_queries.duties()],
    }


def _filters_summary(filters: Filters) -> list[tuple[Any, ...]]:
    """The active filters as summary lines for exports (the page shows them in its form)."""
    lang = _lang()
    out: list[tuple[Any, ...]] = []
    if filters.plan_id:
        plan = db.session.get(Plan, filters.plan_id)
        out.append((_("Plan"), plan.name if plan else ""))
    if filters.course_id:
        course = db.session.get(Course, filters.course_id)
        out.append((_("Course"), course.title_in(lang) if course else ""))
    if filters.agency_kind:
        out.append((_("Agency kind"), filters.agency_kind))
    if filters.duty_id:
        duty = db.session.get(Duty, filters.duty_id)
        out.append((_("Duty"), duty.name(lang) if duty else ""))
    if filters.date_from:
        out.append((_("From"), filters.date_from))
    if filters.date_to:
        out.append((_("To"), filters.date_to))
    return out


def _scoped_agency(agency_id: int | None) -> Agency | None:
    if not agency_id:
        return None
    agency = db.get_or_404(Agency, agency_id)
    policy.authorize("hr.view_agency", agency)
    return agency


# Index and plans ----------------------------------------------------------------------------


@bp.get("/")
@policy.require("reports.view")
def index() -> str:
    plans = list(db.session.scalars(queries.plans_query()))
    plan = active_plan()
    glance = plan_glance_data(plan, _lang()) if plan is not None else None
    return render_template("reports/index.html", plans=plans, glance=glance)


@bp.route("/plans/new", methods=["GET", "POST"])
@policy.require("reports.manage_plans")
def plan_new() -> str | Response:
    form = PlanForm()
    if request.method == "GET":
        form.year.data = queries.local_today().year
    if form.validate_on_submit():
        try:
            plan = services.create_plan(_plan_data(form), actor=current_user._get_current_object())
        except services.ReportError as err:
            show_error(err, form, field="name")
        else:
            flash(_("Plan created as a draft: add its courses, target group and targets."), "success")
            return redirect(url_for("reports.plan_setup", plan_id=plan.id))
    return render_template("reports/plan_form.html", form=form, plan=None)


def _plan_data(form: PlanForm) -> services.PlanData:
    return services.PlanData(name=form.name.data or "", year=form.year.data or 0,
                             description=form.description.data or "", due_date=form.due_date.data)


def _plan(plan_id: int, rule: str = "reports.view") -> Plan:
    plan = db.get_or_404(Plan, plan_id)
    policy.authorize(rule, plan)
    return plan


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
def plan_edit(plan_id: int) -> str | Response:
    plan = _plan(plan_id, "reports.edit_plan")
    form = PlanForm(obj=plan)
    if form.validate_on_submit():
        try:
            services.update_plan(plan, _plan_data(form), actor=current_user._get_current_object())
        except services.ReportError as err:
            show_error(err, form, field="name")
        else:
            flash(_("Plan saved."), "success")
            return redirect(url_for("reports.plan", plan_id=plan.id))
    return render_template("reports/plan_form.html", form=form, plan=plan)


def _setup_forms(plan: Plan) -> dict[str, Any]:
    lang = _lang()
    in_plan = {pc.course_id for pc in plan.courses}
    course_form = AddCourseForm(prefix="course")
    course_form.course_id.choices = [
        (c.id, f"{c.title_in(lang)} ({c.key})") for c in db.session.scalars(
            select(Course).where(Course.published.is_(True), Course.archived_at.is_(None)).order_by(Course.key))
        if c.id not in in_plan
    ]
    member_form = AddMemberForm(prefix="member")
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    member_form.agency_id.choices = [(0, "—"), *org_queries.agency_choices(viewer)]
    member_form.duty_id.choices = [(0, "—"), *((d.id, d.name(lang)) for d in org_queries.duties())]
    target_form = TargetForm(prefix="target")
    target_form.kind.choices = [(kind, _(label)) for kind, (label, _help) in TARGET_KINDS.items()]
    return {"course_form": course_form, "member_form": member_form, "target_form": target_form,
            "confirm": ConfirmForm()}


@bp.get("/plans/<int:plan_id>/setup")
def plan_setup(plan_id: int) -> str:
    plan = _plan(plan_id, "reports.edit_plan")
    return render_template("reports/plan_setup.html", plan=plan, **_setup_forms(plan))


def _setup_action(plan: Plan, action: Any, success: str) -> Response | tuple[str, int]:
    """Run one plan change; a domain error re-renders the setup page with the message."""
    try:
        action()
    except services.ReportError as err:
        show_error(err)
        return render_template("reports/plan_setup.html", plan=plan, **_setup_forms(plan)), 400
    flash(success, "success")
    return redirect(url_for("reports.plan_setup", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/courses")
def plan_add_course(plan_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    form = _setup_forms(plan)["course_form"]
    if not form.validate_on_submit():
        flash(_("Choose a published course that is not in the plan yet."), "error")
        return redirect(url_for("reports.plan_setup", plan_id=plan.id))
    course = db.get_or_404(Course, form.course_id.data)
    return _setup_action(plan, lambda: services.add_course(plan, course, actor=current_user._get_current_object()),
                         _("Course added to the plan."))


@bp.post("/plans/<int:plan_id>/courses/<int:course_id>/remove")
def plan_remove_course(plan_id: int, course_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _setup_action(plan, lambda: services.remove_course(plan, course_id, actor=current_user._get_current_object()),
                         _("Course removed from the plan; officers keep their progress."))


@bp.post("/plans/<int:plan_id>/members")
def plan_add_member(plan_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    form = _setup_forms(plan)["member_form"]
    if not form.validate_on_submit():
        flash(_("Check the target group fields."), "error")
        return redirect(url_for("reports.plan_setup", plan_id=plan.id))
    kind = form.kind.data
    agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
    duty = db.session.get(Duty, form.duty_id.data) if form.duty_id.data else None
    user = None
    if kind == "user":
        username = (form.username.data or "").strip().lower()
        user = db.session.scalar(select(User).where(User.username == username)) if username else None
        if user is None:
            flash(_("No officer has the username %(username)s.", username=username or "—"), "error")
            return redirect(url_for("reports.plan_setup", plan_id=plan.id))
        agency = user.agency
    if agency is not None:
        policy.authorize("assignments.target", agency)
    elif not policy.can(current_user, "assignments.target", None):
        abort(403)
    return _setup_action(
        plan,
        lambda: services.add_member(plan, kind=kind, agency=agency, include_subtree=form.include_subtree.data,
                                    duty=duty, user=user, actor=current_user._get_current_object()),
        _("Added to the target group."),
    )


@bp.post("/plans/<int:plan_id>/members/<int:member_id>/remove")
def plan_remove_member(plan_id: int, member_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _setup_action(plan, lambda: services.remove_member(plan, member_id, actor=current_user._get_current_object()),
                         _("Removed from the target group; officers keep their progress."))


@bp.post("/plans/<int:plan_id>/targets")
def plan_add_target(plan_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    form = _setup_forms(plan)["target_form"]
    if not form.validate_on_submit():
        for field in (form.min_value, form.max_value, form.kind):
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
        return render_template("reports/plan_setup.html", plan=plan, **_setup_forms(plan)), 400

    def share(value: Decimal | None) -> float | None:
        return float(value) / 100 if value is not None else None

    return _setup_action(
        plan,
        lambda: services.set_target(plan, form.kind.data, share(form.min_value.data), share(form.max_value.data),
                                    form.note.data or "", actor=current_user._get_current_object()),
        _("Target added."),
    )


@bp.post("/plans/<int:plan_id>/targets/<int:target_id>/remove")
def plan_remove_target(plan_id: int, target_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _setup_action(plan, lambda: services.remove_target(plan, target_id, actor=current_user._get_current_object()),
                         _("Target removed."))


@bp.post("/plans/<int:plan_id>/activate")
def plan_activate(plan_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _setup_action(plan, lambda: services.activate_plan(plan, actor=current_user._get_current_object()),
                         _("The plan is active: its courses are now assigned to the target group."))


@bp.post("/plans/<int:plan_id>/close")
def plan_close(plan_id: int) -> Any:
    plan = _plan(plan_id, "reports.edit_plan")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _setup_action(plan, lambda: services.close_plan(plan, actor=current_user._get_current_object()),
                         _("The plan is closed."))


# Plan dashboard -----------------------------------------------------------------------------


def plan_dashboard_data(plan: Plan, parent: Agency | None, lang: str) -> dict[str, Any]:
    """The plan dashboard's numbers (also what its exports and the API read)."""
    filters = Filters(plan_id=plan.id, today=queries.local_today())
    target = queries.plan_main_target(plan)
    start = plan.activated_at.astimezone(queries.LOCAL_TZ).date() if plan.activated_at else None
    # The targets are the whole scope's: they reuse the table's pass unless it is a drill-down (whose
    # pairs and officers are only the parent's subtree).
    whole = parent is None
    report = queries.agency_report(current_user, filters, parent, target=target, start=start, due=plan.due_date,
                                   plan_courses=len(plan.courses) if whole else None)
    officers = (report.officers_done or 0, report.scope.officers) if whole else None
    results = queries.plan_targets(current_user, plan, filters, pairs=report.scope if whole else None,
                                   officers=officers)
    page = documents.agency_page(report, [(_("Plan"), plan.name)], lang, target=target,
                                 title=plan.name if parent is None else f"{plan.name}: {parent.name(lang)}")
    if results:
        page.charts.insert(0, charts.target_vs_actual(
            [(target_kind_label(r.kind), r.minimum, r.maximum, r.actual) for r in results], lang=lang))
    behind = [row for row in report.rows if row.status == "behind"]
    return {"report": report, "results": results, "page": page, "behind": behind, "target": target,
            "filters": filters}


def active_plan() -> Plan | None:
    """The plan HR opens on: the active plan of the latest year (the latest activated among equals)."""
    plans = list(db.session.scalars(queries.plans_query(PlanStatus.active.value)))
    plans.sort(key=lambda p: (p.year, p.activated_at or utcnow()), reverse=True)
    return plans[0] if plans else None


def plan_glance_data(plan: Plan, lang: str) -> dict[str, Any]:
    """The plan at a glance, for the HR home and the reports home: completion against target per
    course, the agencies behind with their overdue officers, the weekly trend and the targets (a
    bounded number of statements, whatever the number of officers)."""
    filters = Filters(plan_id=plan.id, today=queries.local_today())
    target = queries.plan_main_target(plan)
    start = plan.activated_at.astimezone(queries.LOCAL_TZ).date() if plan.activated_at else None
    courses, total = queries.course_report(current_user, filters)
    behind, behind_count = queries.behind_agencies(current_user, filters, target=target, start=start,
                                                   due=plan.due_date)
    points, assigned = queries.weekly_completion(current_user, filters, assigned=total.assigned)
    pace = [target * targets.elapsed_share(start, plan.due_date, min(day + timedelta(days=6), filters.today))
            if start and day + timedelta(days=6) >= start else None for day, _done in points]
    trend = charts.weekly_trend(points, assigned, pace, lang=lang)
    results = queries.plan_targets(current_user, plan, filters, pairs=total)
    expected = target * targets.elapsed_share(start, plan.due_date, filters.today)
    status = targets.target_status(total.completion_rate, target, None, start=start, due=plan.due_date,
                                   today=filters.today)
    days_left = (plan.due_date - filters.today).days if plan.due_date else None
    return {"plan": plan, "courses": courses, "total": total, "target": target, "expected": expected,
            "status": status, "behind": behind, "behind_count": behind_count, "trend": trend,
            "results": results, "days_left": days_left}


@bp.app_template_global()
def plan_glance() -> dict[str, Any] | None:
    """For the home panel: the active plan at a glance, or None when no plan is active."""
    plan = active_plan()
    return plan_glance_data(plan, _lang()) if plan is not None else None


@bp.get("/plans/<int:plan_id>")
def plan(plan_id: int) -> str:
    the_plan = _plan(plan_id)
    parent = _scoped_agency(request.args.get("agency", type=int))
    data = plan_dashboard_data(the_plan, parent, _lang())
    return render_template("reports/plan.html", plan=the_plan, parent=parent, confirm=ConfirmForm(), **data)


# Agency report ------------------------------------------------------------------------------


def agency_page_data(parent: Agency | None, filters: Filters, lang: str) -> documents.ReportPage:
    # The chart shows the whole scope: from the table's own pass unless the table is a drill-down.
    report = queries.agency_report(current_user, filters, parent, months=None if parent else 12)
    per_month = report.per_month if parent is None else queries.completions_per_month(current_user, filters)
    title = _("Completion by agency") + (f": {parent.name(lang)}" if parent else "")
    page = documents.agency_page(report, _filters_summary(filters), lang, per_month=per_month, title=title)
    page.report = report  # type: ignore[attr-defined]
    return page


@bp.get("/agencies")
@policy.require("reports.view")
def agencies() -> str:
    parsed = _filter_input()
    parent = _scoped_agency(request.args.get("agency", type=int))
    page = agency_page_data(parent, parsed.filters, _lang())
    return render_template("reports/agencies.html", page=page, report=page.report,  # type: ignore[attr-defined]
                           parent=parent, values=parsed.values, errors=parsed.errors, confirm=ConfirmForm(),
                           **_filter_choices())


@bp.get("/agencies/<int:agency_id>/officers")
@policy.require("reports.view")
def agency_officers(agency_id: int) -> str:
    agency = _scoped_agency(agency_id)
    assert agency is not None
    parsed = _filter_input()
    overdue = request.args.get("overdue") == "1"
    stmt, _stats = queries.officer_rows_query(current_user, parsed.filters, agency, overdue_only=overdue)
    pager = db.paginate(stmt, per_page=OFFICERS_PER_PAGE, error_out=False, count=True)
    rows = [queries.officer_row(row) for row in db.session.execute(
        stmt.limit(OFFICERS_PER_PAGE).offset((pager.page - 1) * OFFICERS_PER_PAGE)).all()]
    breadcrumb = queries.breadcrumb(current_user, agency)
    return render_template("reports/officers.html", agency=agency, rows=rows, pager=pager, values=parsed.values,
                           breadcrumb=breadcrumb, confirm=ConfirmForm(), overdue=overdue)


@bp.get("/officers/<int:user_id>")
@policy.require("reports.view")
def transcript(user_id: int) -> str:
    user = db.get_or_404(User, user_id)
    policy.authorize("org.view_user", user)
    from lms.progress import queries as progress_queries

    return render_template("reports/transcript.html", user=user, rows=queries.transcript(user),
                           workshops=progress_queries.workshops_of(user.id),
                           external=progress_queries.external_of(user.id))


@bp.get("/officers")
@policy.require("reports.view")
def officer_search() -> str:
    text = (request.args.get("q") or "").strip()[:100]
    pager = None
    if text:
        pager = db.paginate(org_queries.users_query(current_user, text=text, active=True),
                            per_page=OFFICERS_PER_PAGE, error_out=False)
    return render_template("reports/search.html", q=text, pager=pager)


@bp.get("/courses")
@policy.require("reports.view")
def courses() -> str:
    parsed = _filter_input()
    rows, total = queries.course_report(current_user, parsed.filters)
    return render_template("reports/courses.html", rows=rows, total=total, values=parsed.values,
                           errors=parsed.errors, **_filter_choices())


# Exports ------------------------------------------------------------------------------------


def _send(doc: exports.ExportDocument, fmt: str, stem: str) -> Response:
    if fmt == "csv":
        body = exports.write_csv(doc.table)
    elif fmt == "xlsx":
        body = exports.write_xlsx(doc)
    else:
        body = exports.write_pdf(doc)
    # Every export of officers' data is in the audit log: who took which report, in which format.
    audit.record("reports.exported", actor=current_user, target_type="report", target_id=stem, format=fmt,
                 rows=len(doc.table.rows), filters={k: v for k, v in request.args.items()})
    stamp = queries.local_today().isoformat()
    response = Response(body, mimetype=MIME[fmt].split(";")[0])
    response.headers["Content-Type"] = MIME[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/agencies/export.<fmt>")
@policy.require("reports.view")
@appends  # the export is recorded in the audit log, without holding the write lock while it is built
def agencies_export(fmt: str) -> Response:
    if fmt not in MIME:
        abort(404)
    parsed = _filter_input()
    parent = _scoped_agency(request.args.get("agency", type=int))
    page = agency_page_data(parent, parsed.filters, _lang())
    return _send(documents.document(page, _lang(), current_user.full_name), fmt, "completion-by-agency")


@bp.get("/plans/<int:plan_id>/export.<fmt>")
@appends  # the export is recorded in the audit log, without holding the write lock while it is built
def plan_export(plan_id: int, fmt: str) -> Response:
    if fmt not in MIME:
        abort(404)
    the_plan = _plan(plan_id)
    parent = _scoped_agency(request.args.get("agency", type=int))
    data = plan_dashboard_data(the_plan, parent, _lang())
    page = data["page"]
    for r in data["results"]:
        page.summary.append((target_kind_label(r.kind), r.actual, exports.Kind.percent))
        # The communication-products target, part by part (courses counted for each).
        page.summary += [(f"{target_kind_label(r.kind)}: {_(targets.PRODUCT_PARTS[key][0])}", count,
                          exports.Kind.integer) for key, count in r.parts]
    return _send(documents.document(page, _lang(), current_user.full_name), fmt, f"plan-{the_plan.id}")


@bp.get("/courses/export.<fmt>")
@policy.require("reports.view")
@appends  # the export is recorded in the audit log, without holding the write lock while it is built
def courses_export(fmt: str) -> Response:
    if fmt not in MIME:
        abort(404)
    parsed = _filter_input()
    lang = _lang()
    rows, total = queries.course_report(current_user, parsed.filters)
    table = documents.course_table(rows, total, lang)
    page = documents.ReportPage(table.title, table, _filters_summary(parsed.filters), [], None)
    return _send(documents.document(page, lang, current_user.full_name), fmt, "completion-by-course")


@bp.get("/agencies/<int:agency_id>/officers/export.<fmt>")
@policy.require("reports.view")
@appends  # the export is recorded in the audit log, without holding the write lock while it is built
def officers_export(agency_id: int, fmt: str) -> Response:
    if fmt not in MIME:
        abort(404)
    agency = _scoped_agency(agency_id)
    assert agency is not None
    parsed = _filter_input()
    stmt, _stats = queries.officer_rows_query(current_user, parsed.filters, agency,
                                              overdue_only=request.args.get("overdue") == "1")
    rows = [queries.officer_row(row) for row in db.session.execute(stmt).all()]
    table = documents.officer_table(rows, agency.name(_lang()))
    page = documents.ReportPage(table.title, table, _filters_summary(parsed.filters), [], None)
    return _send(documents.document(page, _lang(), current_user.full_name), fmt, f"officers-{agency.code}")


@bp.app_template_global()
def plan_statuses() -> dict[str, str]:
    return {s.value: s.value for s in PlanStatus}


@bp.app_context_processor
def _report_helpers() -> dict[str, Any]:
    args = {name: value for name in FILTER_NAMES if (value := request.args.get(name, "").strip())}
    return {"filter_args": args}


# Reminders and notices ------------------------------------------------------------------------


@bp.post("/agencies/<int:agency_id>/remind")
def remind_agency(agency_id: int) -> Response:
    agency = db.get_or_404(Agency, agency_id)
    policy.authorize("reports.remind", agency)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    plan_id = request.form.get("plan", type=int)
    filters = Filters(plan_id=plan_id) if plan_id and db.session.get(Plan, plan_id) else None
    todo = reminders.overdue_reminders(agency, current_user, reminders.today(), filters)
    sent, emailed = reminders.send(todo, reminders.MailSettings.from_config(current_app.config),
                                   actor=current_user._get_current_object())
    audit.record("reports.reminded", actor=current_user, target=agency, reminders=sent, emails=emailed)
    if sent:
        # The e-mails are in the outbox (lms.mail), sent after this request commits: "queued", not "sent".
        flash(ngettext("Reminder sent to %(num)s overdue course; e-mails queued for sending: %(emails)s.",
                        "Reminders sent for %(num)s overdue courses; e-mails queued for sending: %(emails)s.",
                        sent, emails=emailed),
              "success")
    else:
        flash(_("Nothing to send: these officers were already reminded today."), "warning")
    back = url_for("reports.plan", plan_id=plan_id, agency=agency.id) if filters else url_for(
        "reports.agencies", agency=agency.id)
    return redirect(back)


@bp.post("/notices/<int:notice_id>/read")
def notice_read(notice_id: int) -> Response:
    notice = db.get_or_404(Notice, notice_id)
    if not current_user.is_authenticated or notice.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        notice.read_at = utcnow()
    return redirect(url_for("home.index"))


@bp.app_template_global()
def my_notices() -> list[Any]:
    return reminders.unread_notices(current_user)


@bp.app_template_global()
def notice_message(notice: Any) -> str:
    return reminders.notice_text(notice, _lang())


@bp.app_template_global()
def notice_form() -> ConfirmForm:
    return ConfirmForm()



@bp.app_template_global()
def merge_args(*dicts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """URL arguments from dicts and keywords; None values are left out."""
    out: dict[str, Any] = {}
    for d in (*dicts, extra):
        out.update({k: v for k, v in d.items() if v is not None})
    return out
