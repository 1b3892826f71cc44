"""Enrolment and lesson completion (officers), assignments (HR), the "My training" dashboard panel."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from lms import audit, policy, transaction
from lms.catalog import queries as catalog_queries
from lms.catalog.models import Course
from lms.db import utcnow
from lms.errors import show_error, undo
from lms.extensions import db
from lms.i18n import _
from lms.org import queries as org_queries
from lms.org.models import Agency, Duty, User
from lms.progress import calendar, queries, services
from lms.progress import workshops as workshops_service
from lms.progress.forms import (
    KIND_LABELS,
    AssignmentForm,
    AttendanceFileForm,
    ConfirmForm,
    ExternalForm,
    OverrideForm,
    WorkshopDeleteForm,
    WorkshopForm,
)
from lms.progress.models import Assignment, ExternalTraining, Override, Workshop
from lms.sqlite import appends, writes

bp = Blueprint("progress", __name__, url_prefix="/progress")



@bp.app_template_global()
def my_training_rows() -> list[queries.TrainingRow]:
    """The signed-in officer's training list, for the dashboard panel."""
    return queries.my_training(current_user)


def _course_or_404(key: str) -> Course:
    course = catalog_queries.course_by_key(key)
    if course is None:
        abort(404)
    return course


@bp.post("/c/<key>/enrol")
@login_required  # anonymous visitors are sent to sign in (they used to reach is_assigned and a 500)
def enrol(key: str) -> Response:
    course = _course_or_404(key)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    assigned = services.is_assigned(current_user, course)
    policy.authorize("progress.enrol", (course, assigned))
    services.enrol(current_user, course, source="assignment" if assigned else "self")
    outline = catalog_queries.course_outline(course, course.original_language)
    first = outline.lessons[0] if outline.lessons else None
    lang = request.form.get("lang") if request.form.get("lang") in course.languages else None
    if first is None:
        return redirect(url_for("catalog.course", key=course.key, lang=lang))
    flash(_("You are enrolled. Your progress is saved as you go."), "success")
    return redirect(url_for("catalog.lesson", key=course.key, lesson_key=first.key, lang=lang))


@bp.post("/c/<key>/<lesson_key>/complete")
def complete(key: str, lesson_key: str) -> Response:
    course = _course_or_404(key)
    lesson = catalog_queries.lesson_by_key(course, lesson_key)
    if lesson is None or not ConfirmForm().validate_on_submit():
        abort(404 if lesson is None else 400)
    policy.authorize("catalog.view_course", course)
    chosen = request.form.get("lang", "")
    lang = chosen if chosen in course.languages else course.original_language
    if services.enrollment_for(current_user, course) is None:
        assigned = services.is_assigned(current_user, course)
        policy.authorize("progress.enrol", (course, assigned))
        services.enrol(current_user, course, source="assignment" if assigned else "self")
    try:
        completion = services.complete_lesson(current_user, lesson, course, lang)
    except services.ProgressError as err:
        show_error(err)
        return redirect(url_for("catalog.course", key=course.key))
    if completion is not None:
        flash(_("Congratulations: you have completed this course."), "success")
        return redirect(url_for("catalog.course", key=course.key, lang=lang))
    outline = catalog_queries.course_outline(course, lang)
    _before, after = outline.neighbours(lesson.id)
    if after is not None:
        return redirect(url_for("catalog.lesson", key=course.key, lesson_key=after.key, lang=lang))
    return redirect(url_for("catalog.course", key=course.key, lang=lang))


# HR: assignments -----------------------------------------------------------------------------


@bp.get("/assignments")
@policy.require("assignments.manage")
def assignments() -> str:
    course_id = request.args.get("course", type=int)
    show = request.args.get("show", "active")
    active = {"active": True, "inactive": False}.get(show)
    stmt = queries.assignments_query(current_user, course_id=course_id, active=active)
    page = db.paginate(stmt, per_page=50, error_out=False)
    reach = queries.assignment_reach([a.id for a in page.items])
    return render_template(
        "progress/assignments.html", page=page, reach=reach, courses=queries.assignable_courses(),
        course_id=course_id, show=show, form=ConfirmForm(), lang=str(get_locale() or "vi"),
        args=request.args,
    )  # fmt: skip


def _assignment_form() -> AssignmentForm:
    form = AssignmentForm()
    lang = str(get_locale() or "vi")
    form.course_id.choices = [(c.id, c.title_in(lang)) for c in queries.assignable_courses()]
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    form.agency_id.choices = [(0, _("(choose an agency)"))] + org_queries.agency_choices(viewer)
    form.duty_id.choices = [(0, _("(choose a duty)"))] + [(d.id, d.name(lang)) for d in org_queries.duties()]
    return form


def _officers(raw: str) -> tuple[list[User], list[str]]:
    """Officers named by username or employee id, in the viewer's scope; and the names not found."""
    names = [n for n in re.split(r"[\s,;]+", raw.strip()) if n]
    if not names:
        return [], []
    lowered = {n.lower() for n in names}
    stmt = (
        select(User)
        .join(User.agency)
        .where(
            or_(func.lower(User.username).in_(lowered), User.employee_id.in_(names)),
            User.active.is_(True),
            policy.agency_scope_clause(current_user),
        )
    )
    found = list(db.session.scalars(stmt))
    known = {u.username.lower() for u in found} | {(u.employee_id or "") for u in found}
    missing = [n for n in names if n.lower() not in known and n not in known]
    return found, missing


@bp.route("/assignments/new", methods=["GET", "POST"])
@policy.require("assignments.manage")
def assignment_new() -> str | Response:
    form = _assignment_form()
    preset = request.args.get("course", type=int)
    if request.method == "GET" and preset:
        form.course_id.data = preset
    if form.validate_on_submit():
        course = db.session.get(Course, form.course_id.data)
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        duty = db.session.get(Duty, form.duty_id.data) if form.duty_id.data else None
        kind = form.kind.data or "agency"
        users: list[User] = []
        error: tuple[str, str] | None = None
        if course is None:
            error = ("course_id", _("Choose a course."))
        elif kind == "user":
            users, missing = _officers(form.usernames.data or "")
            if missing:
                error = ("usernames", _("Not found among the officers you manage: %(names)s",
                                        names=", ".join(missing)))
        elif kind == "agency" and agency is None:
            error = ("agency_id", _("Choose an agency."))
        if error is None and kind in ("agency", "duty") and not policy.can(current_user, "assignments.target", agency):
            error = ("agency_id", _("Choose an agency in your scope.") if agency is None or kind == "agency"
                     else _("This agency is outside your scope."))
        if error is None and course is not None:  # no course is an error above
            try:
                rows = services.create_assignments(
                    course, kind=kind, due_date=form.due_date.data, actor=current_user, users=users,
                    agency=agency, include_subtree=bool(form.include_subtree.data), duty=duty,
                )  # fmt: skip
            except services.ProgressError as err:
                undo(err)
                error = (err.field or "course_id", err.message)
            else:
                reach = queries.assignment_reach([r.id for r in rows])
                officers = sum(r["officers"] for r in reach.values())
                flash(_("Assigned: %(num)s officer(s) now have this course.", num=officers), "success")
                return redirect(url_for("progress.assignments", course=course.id))
        if error is not None:
            field, message = error
            form[field].errors = [*form[field].errors, message]
    return render_template("progress/assignment_new.html", form=form, kinds=KIND_LABELS)


@bp.post("/assignments/<int:assignment_id>/deactivate")
@policy.require("assignments.manage")
def assignment_deactivate(assignment_id: int) -> Response:
    assignment = db.get_or_404(Assignment, assignment_id)
    policy.authorize("assignments.edit", assignment)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.deactivate_assignment(assignment, actor=current_user)
    flash(_("Unassigned. Officers keep the progress they made."), "success")
    return redirect(url_for("progress.assignments", course=assignment.course_id))


# Personal calendar feed -------------------------------------------------------------------------


def calendar_events(user: User) -> list[calendar.DueEvent]:
    """Every assigned course of ``user`` that has a due date, as calendar events in their language."""
    lang = user.locale or "vi"
    events = []
    with force_locale(lang):
        for row in queries.my_training(user):
            if not row.assigned or row.due_date is None:
                continue
            title = row.course.title_in(lang)
            done = row.status == "completed"
            events.append(calendar.DueEvent(
                uid=f"due-{user.id}-{row.course.key}@lms",
                title=(_("Completed: %(course)s", course=title) if done
                       else _("Due: %(course)s", course=title)),
                due=row.due_date,
                url=url_for("catalog.course", key=row.course.key, _external=True),
                description=_("Assigned course; complete it by %(date)s.", date=format_date(row.due_date)),
            ))
    return events


@bp.get("/calendar/<token>.ics")
@writes  # notes when the feed was last read
def calendar_feed(token: str) -> Response:
    """The officer's due dates for a calendar app (no sign-in: the secret in the URL is the key)."""
    user = services.calendar_feed_user(token)
    if user is None:
        abort(404)
    body = calendar.due_calendar(calendar_events(user), now=utcnow(),
                                 name=_("Training due dates: %(name)s", name=user.full_name))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="lms-due-dates.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/calendar")
@policy.require("catalog.browse")
def calendar_create() -> str | Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = services.create_calendar_feed(current_user._get_current_object())
    # Shown once, in this response only (never in a redirect, a flash or the session).
    url = url_for("progress.calendar_feed", token=token, _external=True)
    response = Response(render_template("progress/calendar_created.html", url=url))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/calendar/remove")
@policy.require("catalog.browse")
def calendar_remove() -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if services.remove_calendar_feed(current_user._get_current_object()):
        flash(_("Your calendar link is switched off; calendars using it get nothing from now on."), "success")
    return redirect(url_for("auth.profile") + "#calendar")


@bp.app_template_global()
def calendar_feed_state() -> Any:
    return services.calendar_feed_of(current_user)


@bp.app_template_global()
def calendar_form() -> ConfirmForm:
    return ConfirmForm()


# Arrangements for one officer (HR) ----------------------------------------------------------------


def _officer_in_scope(user_id: int) -> User:
    officer = db.get_or_404(User, user_id)
    policy.authorize("progress.override", officer)
    return officer


@bp.route("/officers/<int:user_id>/overrides", methods=["GET", "POST"])
def overrides(user_id: int) -> str | Response:
    """More time, more attempts or a later due date for one officer, with the reason."""
    officer = _officer_in_scope(user_id)
    form = OverrideForm()
    courses = queries.assignable_courses()
    form.course_id.choices = [(c.id, c.title_in(str(get_locale()))) for c in courses]
    preset = request.args.get("course", type=int)
    if request.method == "GET" and preset:
        form.course_id.data = preset
    if form.validate_on_submit():
        course = next((c for c in courses if c.id == form.course_id.data), None)
        if course is None:
            abort(400)
        data = services.OverrideData(
            extra_minutes=form.extra_minutes.data or 0, extra_attempts=form.extra_attempts.data or 0,
            due_date=form.due_date.data, reason=form.reason.data or "",
        )  # fmt: skip
        try:
            services.set_override(officer, course, data, actor=current_user)
        except services.ProgressError as err:
            show_error(err, form, field="reason")
        else:
            flash(_("Arrangement saved for %(name)s; it is in the audit log and shown to the officer.",
                    name=officer.full_name), "success")
            return redirect(url_for("progress.overrides", user_id=officer.id))
    return render_template("progress/overrides.html", officer=officer, form=form,
                           rows=queries.overrides_of(officer.id), confirm=ConfirmForm())


@bp.post("/officers/<int:user_id>/overrides/<int:override_id>/remove")
def override_remove(user_id: int, override_id: int) -> Response:
    officer = _officer_in_scope(user_id)
    row = db.get_or_404(Override, override_id)
    if row.user_id != officer.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_override(row, actor=current_user)
    flash(_("Arrangement removed."), "success")
    return redirect(url_for("progress.overrides", user_id=officer.id))


# In-person workshops and external certificates (HR) ------------------------------------------------


def _lang() -> str:
    return str(get_locale() or "vi")


def _workshop_or_404(workshop_id: int) -> Workshop:
    workshop = db.get_or_404(Workshop, workshop_id)
    if not policy.agency_in_scope(current_user, workshop.agency):
        abort(404)
    return workshop


@bp.get("/workshops")
@policy.require("workshops.manage")
def workshops() -> str:
    rows = list(db.session.scalars(queries.workshops_query(current_user).limit(200)))
    return render_template("progress/workshops.html", rows=rows,
                           counts=queries.attendance_counts([w.id for w in rows]))


def _workshop_form(form: WorkshopForm) -> list[Course]:
    """Fill the form's choices (agencies in scope, assignable courses); return the courses."""
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    form.agency_id.choices = org_queries.agency_choices(viewer)
    courses = queries.assignable_courses()
    form.course_id.choices = [(0, _("(no course: give the topic)"))] + [(c.id, c.title_in(_lang())) for c in courses]
    return courses


def _workshop_data(form: WorkshopForm, courses: list[Course]) -> workshops_service.WorkshopData:
    return workshops_service.WorkshopData(
        title=form.title.data or "", held_on=form.held_on.data, place=form.place.data or "",
        agency=db.session.get(Agency, form.agency_id.data), trainer=form.trainer.data or "",
        hours=float(form.hours.data) if form.hours.data is not None else None,
        course=next((c for c in courses if c.id == form.course_id.data), None),
        topic=form.topic.data or "", counts_as_completion=bool(form.counts_as_completion.data),
    )  # fmt: skip


@bp.route("/workshops/new", methods=["GET", "POST"])
@policy.require("workshops.manage")
def workshop_new() -> str | Response:
    form = WorkshopForm()
    courses = _workshop_form(form)
    if form.validate_on_submit():
        try:
            workshop = workshops_service.create_workshop(_workshop_data(form, courses), actor=current_user)
        except services.ProgressError as err:
            show_error(err, form, field="title")
        else:
            flash(_("Workshop recorded. Now tick who attended, or upload the attendance sheet."), "success")
            return redirect(url_for("progress.workshop", workshop_id=workshop.id))
    return render_template("progress/workshop_new.html", form=form)


@bp.route("/workshops/<int:workshop_id>/edit", methods=["GET", "POST"])
@policy.require("workshops.manage")
def workshop_edit(workshop_id: int) -> Response:
    item = _workshop_or_404(workshop_id)
    form = WorkshopForm(obj=item)
    if request.method == "GET":
        form.course_id.data = item.course_id or 0
    courses = _workshop_form(form)
    if item.course is not None and item.course not in courses:  # archived since: keep it choosable
        courses.append(item.course)
        form.course_id.choices.append((item.course.id, item.course.title_in(_lang())))
    if form.validate_on_submit():
        try:
            counts = workshops_service.update_workshop(item, _workshop_data(form, courses), actor=current_user)
        except services.ProgressError as err:
            show_error(err, form, field="title")
        else:
            if not counts["changed"]:
                flash(_("Nothing was changed."), "info")
            else:
                flash(_("Workshop saved. Completions it gave: %(made)s new, %(withdrawn)s withdrawn.",
                        made=counts["completions"], withdrawn=counts["withdrawn"]), "success")
            return redirect(url_for("progress.workshop", workshop_id=item.id))
    status = 400 if form.errors else 200
    return Response(render_template("progress/workshop_edit.html", form=form, workshop=item), status)


@bp.route("/workshops/<int:workshop_id>/delete", methods=["GET", "POST"])
@policy.require("workshops.manage")
def workshop_delete(workshop_id: int) -> Response:
    """Delete a workshop; with an attendance list, only once HR has ticked the confirmation."""
    item = _workshop_or_404(workshop_id)
    form = WorkshopDeleteForm()
    attended = len(item.attendance)
    if form.validate_on_submit():
        if attended and not form.confirm.data:
            form.confirm.errors.append(_("Tick the box to confirm: %(num)s officers attended this workshop.",
                                         num=attended))
        else:
            try:
                counts = workshops_service.delete_workshop(item, actor=current_user)
            except services.ProgressError as err:
                show_error(err, form, field="confirm")
            else:
                flash(_("Workshop deleted with its attendance list (%(num)s officers); %(withdrawn)s "
                        "completions it gave were withdrawn.", num=counts["attended"],
                        withdrawn=counts["withdrawn"]), "success")
                return redirect(url_for("progress.workshops"))
    status = 400 if request.method == "POST" else 200
    return Response(render_template(
        "progress/workshop_delete.html", form=form, workshop=item, attended=attended,
        withdrawn=workshops_service.withdrawn_by_deleting(item)), status)


@bp.get("/workshops/<int:workshop_id>")
@policy.require("workshops.manage")
def workshop(workshop_id: int) -> str:
    item = _workshop_or_404(workshop_id)
    ticked = {a.user_id for a in item.attendance}
    return render_template("progress/workshop.html", workshop=item, ticked=ticked,
                           officers=queries.workshop_candidates(current_user, item),
                           confirm=ConfirmForm(), file_form=AttendanceFileForm())


@bp.post("/workshops/<int:workshop_id>/attendance")
@policy.require("workshops.manage")
def workshop_attendance(workshop_id: int) -> Response:
    item = _workshop_or_404(workshop_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = {int(v) for v in request.form.getlist("user_id") if v.isdigit()}
    try:
        counts = workshops_service.set_attendance(item, ids, actor=current_user)
    except services.ProgressError as err:
        show_error(err)
    else:
        flash(_("Attendance saved: %(num)s officers attended; %(made)s completed the course by it.",
                num=len(ids), made=counts["completions"]), "success")
    return redirect(url_for("progress.workshop", workshop_id=item.id))


@bp.post("/workshops/<int:workshop_id>/attendance/file")
@policy.require("workshops.manage")
def workshop_attendance_file(workshop_id: int) -> str | Response:
    item = _workshop_or_404(workshop_id)
    form = AttendanceFileForm()
    if not form.validate_on_submit():
        flash(_("Choose the attendance sheet to upload."), "error")
        return redirect(url_for("progress.workshop", workshop_id=item.id))
    upload = form.file.data
    sheet = workshops_service.read_attendance_sheet(upload.filename or "", upload.read(), actor=current_user)
    if sheet.errors:
        transaction.discard()
        ticked = {a.user_id for a in item.attendance}
        return Response(render_template(
            "progress/workshop.html", workshop=item, ticked=ticked, sheet_errors=sheet.errors,
            officers=queries.workshop_candidates(current_user, item), confirm=ConfirmForm(), file_form=form,
        ), 400)  # fmt: skip
    present = {a.user_id for a in item.attendance}
    counts = workshops_service.set_attendance(item, present | set(sheet.user_ids), actor=current_user,
                                              source="file")
    flash(_("Attendance sheet read: %(num)s officers, %(added)s of them new; %(made)s completed the course by it.",
            num=len(sheet.user_ids), added=counts["added"], made=counts["completions"]), "success")
    return redirect(url_for("progress.workshop", workshop_id=item.id))


@bp.route("/officers/<int:user_id>/external", methods=["GET", "POST"])
def external(user_id: int) -> str | Response:
    """Certificates from elsewhere for one officer: list, and upload a new one."""
    officer = _officer_in_scope(user_id)
    form = ExternalForm()
    courses = queries.assignable_courses()
    form.course_id.choices = [(0, _("(none)"))] + [(c.id, c.title_in(_lang())) for c in courses]
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data = workshops_service.ExternalData(
            title=form.title.data or "", issuer=form.issuer.data or "",
            hours=float(form.hours.data) if form.hours.data is not None else None,
            completed_on=form.completed_on.data,
            course=next((c for c in courses if c.id == form.course_id.data), None),
            counts_as_completion=bool(form.counts_as_completion.data),
        )  # fmt: skip
        try:
            workshops_service.add_external(officer, data, upload.filename or "", upload.read(), actor=current_user)
        except services.ProgressError as err:
            show_error(err, form, field="title")
            status = 400
        else:
            flash(_("Certificate from elsewhere recorded for %(name)s.", name=officer.full_name), "success")
            return redirect(url_for("progress.external", user_id=officer.id))
    elif request.method == "POST":
        status = 400
    return Response(render_template("progress/external.html", officer=officer, form=form,
                                    rows=queries.external_of(officer.id)), status)


@bp.get("/external/<int:external_id>.pdf")
@appends  # HR taking an officer's uploaded certificate is recorded in the audit log
def external_file(external_id: int) -> Response:
    row = db.get_or_404(ExternalTraining, external_id)
    officer = db.get_or_404(User, row.user_id)
    own = current_user.is_authenticated and current_user.id == officer.id
    if not own and not policy.can(current_user, "progress.override", officer):
        abort(403)
    if not own:
        audit.record("progress.external_file_exported", actor=current_user, target=officer,
                     external_id=row.id, format="pdf")
    response = Response(row.file_data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="external-{row.id}.pdf"'
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
