"""Admin pages: agencies, users, duties and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from lms import policy, transaction
from lms.audit import AuditEntry
from lms.errors import Conflict, show_error
from lms.extensions import db
from lms.i18n import _
from lms.org import imports, queries, reorg, services
from lms.org import tasks as org_tasks
from lms.org.accounts import issue_activation
from lms.org.fields import SIMPLE_FIELDS
from lms.org.forms import (
    AgencyForm,
    ConfirmForm,
    DutyForm,
    ImportConfirmForm,
    ImportUploadForm,
    MergeForm,
    UserForm,
)
from lms.org.models import Agency, ImportBatch, Role, User
from lms.tasks import queue

bp = Blueprint("org", __name__, url_prefix="/org")


# Agencies -----------------------------------------------------------------------------------


@bp.get("/agencies")
@policy.require("hr.view_agency")
def agencies() -> str:
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    return render_template("org/agencies.html", tree=queries.agency_tree(viewer), form=ConfirmForm())


def _agency_form(agency: Agency | None) -> AgencyForm:
    form = AgencyForm(obj=agency)
    choices = [(0, _("(none: a top-level agency)"))]
    for agency_id, label in queries.agency_choices():
        if agency is None or agency_id != agency.id:
            choices.append((agency_id, label))
    form.parent_id.choices = choices
    if agency is not None and request.method == "GET":
        form.parent_id.data = agency.parent_id or 0
    return form


@bp.route("/agencies/new", methods=["GET", "POST"])
@policy.require("org.manage_agencies")
def agency_new() -> str | Response:
    form = _agency_form(None)
    if request.method == "GET" and request.args.get("parent", "").isdigit():
        form.parent_id.data = int(request.args["parent"])
    if form.validate_on_submit():
        parent = db.session.get(Agency, form.parent_id.data) if form.parent_id.data else None
        try:
            agency = services.create_agency(
                code=form.code.data or "", name_vi=form.name_vi.data or "", name_en=form.name_en.data or "",
                kind=form.kind.data or "other", parent=parent, actor=current_user,
            )
        except services.OrgError as err:
            show_error(err, form, field="code")
        else:
            flash(_("Agency %(name)s created.", name=agency.name_vi), "success")
            return redirect(url_for("org.agencies"))
    return render_template("org/agency_form.html", form=form, agency=None)


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@policy.require("org.manage_agencies")
def agency_edit(agency_id: int) -> str | Response:
    """Edit an agency; a rename or a move is shown as a preview and applied only when confirmed."""
    agency = db.get_or_404(Agency, agency_id)
    form = _agency_form(agency)
    if form.validate_on_submit():
        code, name_vi, name_en = form.code.data or "", form.name_vi.data or "", form.name_en.data or ""
        new_parent = db.session.get(Agency, form.parent_id.data) if form.parent_id.data else None
        moving = (new_parent.id if new_parent else None) != agency.parent_id
        rename = reorg.rename_preview(agency, code=code, name_vi=name_vi, name_en=name_en)
        renaming = bool(rename.changes)
        move = reorg.move_preview(agency, new_parent) if moving else None
        if (renaming or moving) and request.form.get("confirm") != "1":
            return render_template(
                "org/agency_edit_preview.html", form=form, agency=agency,
                rename=rename if renaming else None, move=move,
                kind_changed=form.kind.data != agency.kind,
            )
        try:
            if renaming:
                reorg.rename(agency, code=code, name_vi=name_vi, name_en=name_en, actor=current_user)
            if form.kind.data != agency.kind:
                services.update_agency(agency, code=agency.code, name_vi=agency.name_vi,
                                       name_en=agency.name_en, kind=form.kind.data or "other",
                                       actor=current_user)
            if moving:
                reorg.move(agency, new_parent, actor=current_user)
        except services.OrgError as err:
            show_error(err, form, field="code")
        else:
            flash(_("Agency saved."), "success")
            return redirect(url_for("org.agencies"))
    return render_template("org/agency_form.html", form=form, agency=agency)


# Users --------------------------------------------------------------------------------------


@bp.get("/users")
@policy.require("hr.view_agency")
def users() -> str:
    args = request.args
    active = {"1": True, "0": False}.get(args.get("active", ""))
    role = args.get("role") if args.get("role") in Role.__members__ else None
    agency_id = args.get("agency", type=int)
    stmt = queries.users_query(current_user, text=args.get("q", ""), agency_id=agency_id, role=role,
                               active=active)
    page = db.paginate(stmt, per_page=current_app.config["USERS_PER_PAGE"], error_out=False)
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    return render_template(
        "org/users.html", page=page, agencies=queries.agency_choices(viewer), roles=list(Role),
        args=args,
    )


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    agencies = queries.agency_choices()
    form.agency_id.choices = agencies
    form.hr_agencies.choices = agencies
    lang = str(get_locale() or "vi")
    form.duties.choices = [(d.code, d.name(lang)) for d in queries.duties()]
    if request.method == "GET":
        if user is not None:
            form.roles.data = sorted(user.roles)
            form.duties.data = [d.code for d in user.duties]
            form.hr_agencies.data = [s.agency_id for s in user.hr_scopes]
            for spec in SIMPLE_FIELDS:  # as officers write them (0912 345 678), not as stored
                form[spec.name].data = spec.display(getattr(user, spec.name))
        else:
            form.roles.data = ["officer"]
    return form


def _user_data(form: UserForm) -> services.UserData:
    agency = db.session.get(Agency, form.agency_id.data)
    if agency is None:
        abort(400)
    return services.UserData(
        username=form.username.data or "", full_name=form.full_name.data or "", agency=agency,
        email=form.email.data, job_title=form.job_title.data or "", employee_id=form.employee_id.data,
        locale=form.locale.data or "vi", roles=set(form.roles.data or []),
        duty_codes=set(form.duties.data or []), hr_agency_ids=set(form.hr_agencies.data or []),
        hr_all_agencies=bool(form.hr_all_agencies.data),
        simple={spec.name: spec.read(form[spec.name].data or "") for spec in SIMPLE_FIELDS if spec.read},
    )


@bp.route("/users/new", methods=["GET", "POST"])
@policy.require("org.manage_users")
def user_new() -> str | Response:
    form = _user_form(None)
    if form.validate_on_submit():
        try:
            user = services.create_user(_user_data(form), actor=current_user)
            token = issue_activation(user, current_app.config["ACTIVATION_TOKEN_DAYS"], actor=current_user)
        except services.OrgError as err:
            show_error(err, form, field="username")
        else:
            return render_template("org/activation_link.html", user=user,
                                   link=url_for("auth.activate", token=token, _external=True))
    return render_template("org/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@policy.require("org.manage_users")
def user_edit(user_id: int) -> str | Response:
    user = db.get_or_404(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            services.update_user(user, _user_data(form), actor=current_user)
        except services.OrgError as err:
            show_error(err, form, field="username")
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("org.user_edit", user_id=user.id))
    return render_template("org/user_form.html", form=form, user=user, confirm=ConfirmForm())


@bp.post("/users/<int:user_id>/active")
@policy.require("org.manage_users")
def user_set_active(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enable = request.form.get("active") == "1"
    try:
        services.set_user_active(user, enable, actor=current_user)
    except services.OrgError as err:
        show_error(err)
    else:
        flash(_("Account enabled.") if enable else _("Account disabled; its sessions have ended."), "success")
    return redirect(url_for("org.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/activation")
@policy.require("org.manage_users")
def user_reset(user_id: int) -> str:
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = issue_activation(user, current_app.config["ACTIVATION_TOKEN_DAYS"], actor=current_user)
    return render_template("org/activation_link.html", user=user,
                           link=url_for("auth.activate", token=token, _external=True))


# Duties and audit -------------------------------------------------------------------------


@bp.route("/duties", methods=["GET", "POST"])
@policy.require("org.manage_users")
def duties() -> str | Response:
    form = DutyForm()
    if form.validate_on_submit():
        try:
            services.add_duty(form.code.data or "", form.name_vi.data or "", form.name_en.data or "",
                              actor=current_user)
        except services.OrgError as err:
            show_error(err, form, field="code")
        else:
            flash(_("Duty added."), "success")
            return redirect(url_for("org.duties"))
    return render_template("org/duties.html", form=form, duties=queries.duties())


@bp.get("/audit")
@policy.require("org.view_audit")
def audit_log() -> str:
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    action = request.args.get("action", "").strip()
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    page = db.paginate(stmt, per_page=100, error_out=False)
    return render_template("org/audit.html", page=page, action=action)


# Roster imports ---------------------------------------------------------------------------


_UPLOAD_TEMPLATES = {"officers": "org/import_officers.html", "agencies": "org/import_agencies.html"}


def _upload(kind: str) -> str | Response:
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(imports.MAX_UPLOAD_BYTES + 1)
        if not data:
            form.file.errors.append(_("The file is empty."))
        elif len(data) > imports.MAX_UPLOAD_BYTES:
            form.file.errors.append(
                _("The file is larger than %(max)s MB; split it into smaller files.",
                  max=imports.MAX_UPLOAD_BYTES // (1024 * 1024))
            )
        else:
            batch = imports.create_batch(
                kind, upload.filename or "", data, owner=current_user,
                deactivate_missing=bool(form.deactivate_missing.data),
            )
            return redirect(url_for("org.import_preview", batch_id=batch.id))
    return render_template(_UPLOAD_TEMPLATES[kind], form=form, kind=kind, columns=imports.COLUMNS[kind])


@bp.route("/import/officers", methods=["GET", "POST"])
@policy.require("org.import_roster")
def import_officers() -> str | Response:
    return _upload("officers")


@bp.route("/import/agencies", methods=["GET", "POST"])
@policy.require("org.manage_agencies")
def import_agencies() -> str | Response:
    return _upload("agencies")


@bp.get("/import/<any(officers, agencies):kind>/template-<any(vi, en):lang>.<any(csv, xlsx):fmt>")
@policy.require("org.import_roster")
def import_template(kind: str, lang: str, fmt: str) -> Response:
    policy.authorize(imports.KINDS[kind].rule)
    name = {"officers": {"vi": "danh-sach-can-bo", "en": "officers"},
            "agencies": {"vi": "danh-sach-don-vi", "en": "agencies"}}[kind][lang]  # fmt: skip
    return _download(imports.template_file(kind, lang, fmt), f"{name}.{fmt}", fmt)


_MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(data: bytes, filename: str, fmt: str) -> Response:
    response = Response(data, mimetype=_MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_batch(batch_id: int) -> ImportBatch:
    batch = db.get_or_404(ImportBatch, batch_id)
    policy.authorize("org.use_import_batch", batch)
    if not imports.batch_is_live(batch):
        abort(404)
    return batch


@bp.get("/import/<int:batch_id>")
@policy.require("org.import_roster")
def import_preview(batch_id: int) -> str | Response:
    batch = _own_batch(batch_id)
    if batch.applied_at is not None:
        return redirect(url_for("org.import_result", batch_id=batch.id))
    plan = imports.plan_batch(batch, current_user)
    return render_template(
        "org/import_preview.html", batch=batch, plan=plan, limit=imports.PREVIEW_ROWS,
        form=ImportConfirmForm(fingerprint=plan.fingerprint),
    )


@bp.post("/import/<int:batch_id>/confirm")
@policy.require("org.import_roster")
def import_confirm(batch_id: int) -> Response:
    batch = _own_batch(batch_id)
    if batch.applied_at is not None:
        return redirect(url_for("org.import_result", batch_id=batch.id))
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    plan = imports.plan_batch(batch, current_user)
    if not plan.ok or form.fingerprint.data != plan.fingerprint:
        flash(_("The data changed since the preview was made. Check this new preview, then confirm."),
              "warning")
        return redirect(url_for("org.import_preview", batch_id=batch.id))
    if queue.queued():
        # A worker applies it (a large roster never ties up a web server); its page shows when done.
        transaction.discard()  # planning only read; the run is recorded in a transaction of its own
        run = queue.start(org_tasks.APPLY, batch.id, plan.fingerprint, user=current_user,
                          summary={"next": url_for("org.import_result", batch_id=batch.id)})
        return redirect(url_for("tasks.show", run_id=run.id))
    try:
        imports.apply_batch(batch, plan, actor=current_user)
    except IntegrityError:
        # Someone changed the same officers at the same moment: nothing was written.
        show_error(Conflict(_("Someone changed these records at the same moment; nothing was written. "
                              "Check the preview again.")))
        return redirect(url_for("org.import_preview", batch_id=batch_id))
    return redirect(url_for("org.import_result", batch_id=batch.id))


@bp.get("/import/<int:batch_id>/result")
@policy.require("org.import_roster")
def import_result(batch_id: int) -> str | Response:
    batch = _own_batch(batch_id)
    if batch.applied_at is None:
        return redirect(url_for("org.import_preview", batch_id=batch.id))
    return render_template("org/import_result.html", batch=batch, form=ConfirmForm())


@bp.post("/import/<int:batch_id>/links")
@policy.require("org.import_roster")
def import_links(batch_id: int) -> Response:
    batch = _own_batch(batch_id)
    fmt = request.form.get("fmt", "")
    if batch.applied_at is None or fmt not in _MIMETYPES or not ConfirmForm().validate_on_submit():
        abort(400)
    rows = imports.issue_links(
        batch.new_user_ids, days=current_app.config["ACTIVATION_TOKEN_DAYS"], actor=current_user,
        make_link=lambda token: url_for("auth.activate", token=token, _external=True),
    )
    if not rows:
        flash(_("Every new account has already been activated; there is no link to hand out."), "info")
        return redirect(url_for("org.import_result", batch_id=batch.id))
    return _download(imports.links_file(rows, fmt), f"activation-links-{batch.id}.{fmt}", fmt)


# Merging agencies -------------------------------------------------------------------------


@bp.route("/agencies/<int:agency_id>/merge", methods=["GET", "POST"])
@policy.require("org.manage_agencies")
def agency_merge(agency_id: int) -> str | Response:
    source = db.get_or_404(Agency, agency_id)
    form = MergeForm()
    form.target_id.choices = [(0, _("Choose an agency"))] + [
        (choice_id, label) for choice_id, label in queries.agency_choices() if choice_id != source.id
    ]
    if form.validate_on_submit() and form.target_id.data:
        target = db.session.get(Agency, form.target_id.data)
        if target is None:
            abort(400)
        preview = reorg.merge_preview(source, target)
        if form.confirm.data == "1" and preview.ok:
            reorg.merge_agencies(source, target, actor=current_user)
            flash(_("%(source)s was merged into %(target)s.", source=source.name_vi, target=target.name_vi),
                  "success")
            return redirect(url_for("org.agencies"))
        form.confirm.data = "1"
        return render_template("org/merge_preview.html", form=form, preview=preview)
    return render_template("org/merge.html", form=form, source=source)
