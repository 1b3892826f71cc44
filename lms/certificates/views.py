"""Certificate pages: public verification, officers' certificates, HR lists and archives, admin actions."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from lms import audit, policy, ratelimit
from lms.certificates import queries, services, tasks
from lms.certificates.codes import DATA_LENGTH, normalise_code
from lms.certificates.designs import LAYOUTS, SOURCE_LABELS
from lms.certificates.forms import (
    SCOPE_LABELS,
    CertificateFilterForm,
    DeleteTemplateForm,
    ReissueForm,
    RenderPdfsForm,
    RevokeForm,
    TemplateForm,
    VerifyForm,
)
from lms.certificates.models import (
    Certificate,
    CertificatePdf,
    CertificateState,
    CertificateTemplate,
)
from lms.certificates.pdf import CertificateRenderError
from lms.db import utcnow
from lms.errors import show_error
from lms.extensions import db
from lms.i18n import N_, _
from lms.org.models import Agency, User
from lms.sqlite import appends, writes
from lms.tasks import queue

bp = Blueprint("certificates", __name__)


VERIFY_BUCKET = "verify-miss"


def _public(rule: str) -> Any:
    """Like ``policy.require`` for pages open to anonymous visitors: the rule decides, no login."""

    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not policy.can(current_user, rule):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _lang() -> str:
    return str(get_locale() or "vi")


def _pdf_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Public verification -------------------------------------------------------------------------


def _verify_limits() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg.get("VERIFY_WINDOW_SECONDS", 15 * 60)), int(cfg.get("VERIFY_MAX_MISSES", 20))


def _client_key() -> str:
    return ratelimit.address_key(request.remote_addr or "")


def _throttled() -> bool:
    window, limit = _verify_limits()
    return ratelimit.recent(VERIFY_BUCKET, _client_key(), window) >= limit


def _throttle_message() -> str:
    window, _limit = _verify_limits()
    return _("Too many unknown codes were tried from your address. Wait %(minutes)s minutes and try "
             "again.", minutes=max(1, window // 60))


@bp.get("/verify")
@_public("certificates.verify")
def verify_form() -> Any:
    form = VerifyForm(request.args)
    if "code" in request.args and form.validate():
        return redirect(url_for("certificates.verify", code=normalise_code(form.code.data or "")))
    status = 400 if form.errors else 200
    return _verify_page(form, status=status)


def _verify_page(form: VerifyForm, *, status: int = 200, **context: Any) -> Any:
    response = Response(render_template("certificates/verify.html", form=form, **context), status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if status == 429:
        response.headers["Retry-After"] = str(_verify_limits()[0])
    return response


def _look_up(raw: str) -> tuple[int, Certificate | None, VerifyForm]:
    """Check a code as typed and find its certificate: (HTTP status, certificate, form with errors)."""
    form = VerifyForm(data={"code": raw}, meta={"csrf": False})
    if not form.validate():
        return 400, None, form
    if _throttled():
        form.code.errors.append(_throttle_message())
        return 429, None, form
    certificate = queries.by_code(normalise_code(raw))
    if certificate is None:
        ratelimit.hit(VERIFY_BUCKET, _client_key())
        form.code.errors.append(
            _("No certificate has this code. Compare it with the certificate once more; if it is "
              "typed correctly, the certificate was not issued through this system.")
        )
        return 404, None, form
    return 200, certificate, form


@bp.get("/verify/<code>")
@_public("certificates.verify")
@writes
def verify(code: str) -> Any:
    if request.args.get("format") == "json":
        return verify_json(code)
    canonical = normalise_code(code)
    if canonical != code and len(canonical.replace("-", "")) == DATA_LENGTH + 1:
        return redirect(url_for("certificates.verify", code=canonical), 301)
    status, certificate, form = _look_up(code)
    if certificate is None:
        return _verify_page(form, status=status, looked_up=True)
    now = utcnow()
    form = VerifyForm(data={"code": ""}, meta={"csrf": False})
    return _verify_page(
        form, certificate=certificate, facts=certificate.public_facts(now),
        valid_until=services.valid_until(certificate), checked_at=now,
    )


def _json_date(value: datetime | None) -> str | None:
    return services.local_date(value).isoformat() if value is not None else None


@bp.get("/verify/<code>.json")
@_public("certificates.verify")
@writes
def verify_json(code: str) -> Any:
    status, certificate, form = _look_up(code)
    body: dict[str, Any]
    if certificate is None:
        body = {"error": {"status": status, "code": normalise_code(code),
                          "message": " ".join(str(e) for e in form.code.errors)}}
        response = jsonify(body)
        response.status_code = status
        if status == 429:
            response.headers["Retry-After"] = str(_verify_limits()[0])
    else:
        facts = certificate.public_facts(utcnow())
        body = {
            key: (_json_date(value) if isinstance(value, datetime) else value)
            for key, value in facts.items()
        }
        if "expires_at" in body and certificate.expires_at is not None:
            until = services.valid_until(certificate)
            body["valid_until"] = until.isoformat() if until else None
        body["verification_url"] = url_for("certificates.verify", code=certificate.code,
                                           _external=True)
        response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# Officers ------------------------------------------------------------------------------------


@bp.get("/certificates/")
@policy.require("certificates.view_own")
def mine() -> str:
    now = utcnow()
    certificates = db.session.scalars(queries.user_certificates_query(current_user.id)).all()
    return render_template(
        "certificates/mine.html", certificates=certificates, now=now,
        states={c.id: c.state(now) for c in certificates},
        valid_until={c.id: services.valid_until(c) for c in certificates},
        soon={c.id for c in db.session.scalars(queries.expiring_soon_query(now, user_id=current_user.id))},
    )


def _certificate_or_404(code: str) -> Certificate:
    certificate = queries.by_code(normalise_code(code))
    if certificate is None:
        abort(404)
    return certificate


@bp.get("/certificates/<code>.pdf")
@writes
def download(code: str) -> ResponseReturnValue:
    certificate = _certificate_or_404(code)
    policy.authorize("certificates.download", certificate)
    if certificate.status == "revoked" and not policy.is_admin(current_user):
        flash(_("This certificate was revoked; it can no longer be downloaded."), "error")
        return redirect(url_for("certificates.mine"))
    if queue.queued():
        return _download_from_queue(certificate)
    try:
        pdf = services.ensure_pdf(certificate)
    except CertificateRenderError:
        return Response(
            render_template("certificates/render_failed.html", certificate=certificate), 503,
            headers={"Retry-After": "300"},
        )
    return _pdf_response(pdf, services.pdf_filename(certificate))


def _download_from_queue(certificate: Certificate) -> Response:
    """With a queue, web servers never render: the stored PDF, or a page that waits for a worker."""
    stored = db.session.get(CertificatePdf, certificate.id)
    if stored is not None:
        return _pdf_response(stored.data, services.pdf_filename(certificate))
    # Asking again heals a failure that was passing (the worker skips a PDF already made).
    queue.enqueue("certificates.render", certificate.id, once_per_seconds=30)
    if certificate.render_error:
        return Response(
            render_template("certificates/render_failed.html", certificate=certificate), 503,
            headers={"Retry-After": "60"},
        )
    return Response(render_template("certificates/preparing.html", certificate=certificate), 202,
                    headers={"Retry-After": "2"})


@bp.get("/certificates/transcript.pdf")
@policy.require("certificates.view_own")
def transcript() -> Response:
    return _transcript_for(current_user)


@bp.get("/certificates/officers/<int:user_id>/transcript.pdf")
@appends  # an HR user's download is recorded in the audit log (the PDF is built without the write lock)
def user_transcript(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    policy.authorize("certificates.view_transcript", user)
    return _transcript_for(user)


def _transcript_for(user: Any) -> Response:
    chosen = request.args.get("lang", "")
    lang = chosen if chosen in services.PDF_LANGUAGES else _lang()
    pdf = services.transcript_pdf(user, lang)
    if user.id != current_user.id:  # an HR user or admin took an officer's transcript
        audit.record("certificates.transcript_exported", actor=current_user, target=user, format="pdf")
    name = (user.employee_id or user.username).replace('"', "")
    return _pdf_response(pdf, f"transcript-{name}.pdf")


@bp.app_template_global()
def certificate_panel() -> dict[str, Any]:
    """Data for the dashboard panel: the certificates expiring soon (one query)."""
    now = utcnow()
    soon = db.session.scalars(queries.expiring_soon_query(now, user_id=current_user.id)).all()
    return {"soon": soon, "valid_until": services.valid_until}


@bp.app_template_global()
def my_certificate_for(course_id: int) -> Certificate | None:
    """The signed-in officer's current certificate for a course (one query per page, cached)."""
    if "my_certificates" not in g:
        g.my_certificates = {}
        for certificate in db.session.scalars(queries.user_certificates_query(current_user.id)):
            if certificate.status != "revoked":
                g.my_certificates.setdefault(certificate.course_id, certificate)
    return g.my_certificates.get(course_id)


# HR and admin --------------------------------------------------------------------------------


def _filters() -> tuple[CertificateFilterForm, dict[str, Any] | None]:
    """The filter form and the filters it gives, or None when a filter value is invalid."""
    form = CertificateFilterForm(request.args)
    viewer = None if policy.sees_all_agencies(current_user) else current_user
    from lms.org import queries as org_queries

    form.agency.choices = [(0, _("All agencies in my scope"))] + org_queries.agency_choices(viewer)
    form.course.choices = [(0, _("All courses"))] + queries.course_choices(_lang())
    plans = queries.plan_choices()
    form.plan.choices = [(0, _("All plans"))] + plans
    if not plans:
        del form.plan  # no plans yet: filter by agency and course only
    form.state.choices = [("", _("All but replaced ones")), *[(s, _(STATE_LABELS[s])) for s in queries.STATES]]
    if request.args and not form.validate():
        return form, None
    agency = db.session.get(Agency, form.agency.data) if form.agency.data else None
    if agency is not None and not policy.can(current_user, "hr.view_agency", agency):
        abort(403)
    return form, {
        "agency": agency,
        "course_id": form.course.data or None,
        "plan_id": (form.plan.data or None) if "plan" in form else None,
        "state": form.state.data or None,
        "search": form.q.data or "",
    }


STATE_LABELS = {
    "valid": N_("Valid"),
    "expiring": N_("Expiring soon"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
    "superseded": N_("Replaced"),
}


@bp.get("/certificates/manage")
@policy.require("certificates.manage")
def manage() -> Any:
    form, filters = _filters()
    now = utcnow()
    page = None
    if filters is not None:
        stmt = queries.scoped_certificates_query(current_user, now=now, **filters)
        page = db.paginate(stmt, per_page=current_app.config.get("USERS_PER_PAGE", 50),
                           error_out=False, count=True)
    expiring = db.session.scalar(queries.count_of(
        queries.scoped_certificates_query(current_user, now=now, state="expiring")
    ))
    body = render_template(
        "certificates/manage.html", form=form, page=page, now=now, args=request.args,
        expiring=expiring, valid_until=services.valid_until, state_labels=STATE_LABELS,
        render_form=RenderPdfsForm(),
    )
    return Response(body, 200 if page is not None else 400)


@bp.get("/certificates/manage/export.zip")
@policy.require("certificates.manage")
@writes
def export_zip() -> ResponseReturnValue:
    form, filters = _filters()
    if filters is None:
        flash(_("The filters are not valid: %(errors)s", errors="; ".join(
            f"{getattr(form, name).label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        )), "error")
        return redirect(url_for("certificates.manage"))
    stmt = queries.scoped_certificates_query(current_user, now=utcnow(), **filters)
    ids = list(db.session.scalars(queries.ids_of(stmt)))
    if not ids:
        flash(_("No certificate matches these filters: there is nothing to download."), "warning")
        return redirect(_manage_url())
    agency = filters["agency"]
    name = f"certificates-{agency.code if agency else 'all'}-{utcnow():%Y%m%d}.zip"
    audit.record("certificates.exported", actor=current_user, target_type="certificate", format="zip",
                 certificates=len(ids), filters={k: v for k, v in request.args.items()})
    response = Response(stream_with_context(services.zip_stream(ids, after_batch=db.session.commit)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _manage_url() -> str:
    """The certificate list with the filters of this request."""
    filters: dict[str, Any] = request.args.to_dict()
    return url_for("certificates.manage", **filters)


@bp.post("/certificates/manage/render")
@policy.require("certificates.manage")
def render_missing() -> ResponseReturnValue:
    """Render, in the background, the missing PDFs of the certificates the filters select."""
    if not RenderPdfsForm().validate_on_submit():
        abort(400)
    form, filters = _filters()
    if filters is None:
        return redirect(url_for("certificates.manage"))
    stmt = queries.scoped_certificates_query(current_user, now=utcnow(), **filters)
    ids = list(db.session.scalars(queries.without_pdf(stmt)))
    if not ids:
        flash(_("Every certificate in this list already has its PDF."), "success")
        return redirect(_manage_url())
    run = tasks.start_bulk_render(ids, user=current_user, base_url=request.host_url,
                                  summary={"back": _manage_url()})
    return redirect(url_for("tasks.show", run_id=run.id))


@bp.get("/certificates/<code>")
def detail(code: str) -> str:
    certificate = _certificate_or_404(code)
    policy.authorize("certificates.download", certificate)
    now = utcnow()
    revoke_form = RevokeForm()
    reissue_form = ReissueForm(data={"holder_name": certificate.user.full_name,
                                     "agency_name": certificate.agency_name})
    return _detail_page(certificate, now, revoke_form, reissue_form)


def _detail_page(certificate: Certificate, now: datetime, revoke_form: RevokeForm,
                 reissue_form: ReissueForm, status: int = 200) -> Any:
    from lms.audit import AuditEntry

    chain = queries.history(certificate)
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.target_type == "certificate",
            AuditEntry.target_id.in_([str(c.id) for c in chain]),
        ).order_by(AuditEntry.at)
    ).all() if policy.is_admin(current_user) else []
    body = render_template(
        "certificates/detail.html", certificate=certificate, state=certificate.state(now),
        valid_until=services.valid_until(certificate), chain=chain, entries=entries,
        revoke_form=revoke_form, reissue_form=reissue_form, States=CertificateState, now=now,
        layouts=LAYOUTS, source_labels=SOURCE_LABELS,
    )
    return Response(body, status)


@bp.post("/certificates/<code>/revoke")
def revoke(code: str) -> Any:
    certificate = _certificate_or_404(code)
    policy.authorize("certificates.revoke", certificate)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke_certificate(certificate, actor=current_user, reason=form.reason.data or "")
        except services.CertificateError as err:
            show_error(err, form, field="reason")
        else:
            flash(_("Certificate %(code)s is revoked. Its verification page now says so.",
                    code=certificate.code), "success")
            return redirect(url_for("certificates.detail", code=certificate.code))
    return _detail_page(certificate, utcnow(), form, ReissueForm(
        data={"holder_name": certificate.user.full_name, "agency_name": certificate.agency_name}
    ), status=400)


@bp.post("/certificates/<code>/reissue")
def reissue(code: str) -> Any:
    certificate = _certificate_or_404(code)
    policy.authorize("certificates.reissue", certificate)
    form = ReissueForm()
    if form.validate_on_submit():
        try:
            replacement = services.reissue_certificate(
                certificate, actor=current_user, reason=form.reason.data or "",
                holder_name=form.holder_name.data, agency_name=form.agency_name.data,
            )
        except services.CertificateError as err:
            show_error(err, form, field="reason")
        else:
            flash(_("A corrected certificate was issued with code %(code)s; the old code now says it "
                    "was replaced.", code=replacement.code), "success")
            return redirect(url_for("certificates.detail", code=replacement.code))
    return _detail_page(certificate, utcnow(), RevokeForm(), form, status=400)


# Templates (admin) ---------------------------------------------------------------------------


def _template_or_404(template_id: int) -> CertificateTemplate:
    """Load a template or 404, then check the admin may manage templates (403)."""
    template = db.get_or_404(CertificateTemplate, template_id)
    policy.authorize("certificates.manage_templates", template)
    return template


@bp.get("/certificates/manage/templates")
@policy.require("certificates.manage_templates")
def templates() -> str:
    rows = db.session.scalars(queries.templates_query()).unique().all()
    return render_template("certificates/templates.html", templates=rows, layouts=LAYOUTS,
                           scope_labels=SCOPE_LABELS, delete_form=DeleteTemplateForm(), lang=_lang())


def _template_form(template: CertificateTemplate | None) -> TemplateForm:
    if template is not None and request.method == "GET":
        form = TemplateForm(obj=template, scope=template.scope, agency_id=template.agency_id or 0,
                            course_id=template.course_id or 0)
    else:
        form = TemplateForm()
    form.layout.choices = [(name, f"{_(layout.label)}: {_(layout.description)}")
                           for name, layout in LAYOUTS.items()]
    from lms.org import queries as org_queries

    form.agency_id.choices = [(0, _("(choose an agency)")), *org_queries.agency_choices()]
    courses = queries.all_course_choices(_lang())
    if template is not None and template.course is not None and template.course_id not in dict(courses):
        courses.append((template.course.id, template.course.key))  # archived since: keep it choosable
    form.course_id.choices = [(0, _("(choose a course)")), *courses]
    return form


def _upload(field: Any) -> bytes | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    body: bytes = storage.read()
    return body or b""


def _save_template(template: CertificateTemplate | None) -> Any:
    form = _template_form(template)
    if form.validate_on_submit():
        data = services.TemplateData(
            name=form.name.data or "", layout=form.layout.data or "", issuer_vi=form.issuer_vi.data or "",
            issuer_en=form.issuer_en.data or "", signer_name=form.signer_name.data or "",
            signer_title_vi=form.signer_title_vi.data or "", signer_title_en=form.signer_title_en.data or "",
            scope=form.scope.data or "none", agency_id=form.agency_id.data or None,
            course_id=form.course_id.data or None,
        )
        try:
            saved = services.save_template(
                template, data, actor=current_user, seal=_upload(form.seal),
                signature=_upload(form.signature), remove_seal=bool(form.remove_seal.data),
                remove_signature=bool(form.remove_signature.data),
            )
        except services.CertificateError as err:
            show_error(err, form, field="name")
        else:
            flash(_("Template %(name)s is saved. Certificates issued from now on use it; those issued "
                    "before keep their design.", name=saved.name), "success")
            return redirect(url_for("certificates.template_edit", template_id=saved.id))
    status = 400 if form.errors or request.method == "POST" else 200
    body = render_template("certificates/template_form.html", form=form, template=template,
                           delete_form=DeleteTemplateForm())
    return Response(body, status)


@bp.route("/certificates/manage/templates/new", methods=["GET", "POST"])
@policy.require("certificates.manage_templates")
def template_new() -> Any:
    return _save_template(None)


@bp.route("/certificates/manage/templates/<int:template_id>", methods=["GET", "POST"])
def template_edit(template_id: int) -> Any:
    return _save_template(_template_or_404(template_id))


@bp.post("/certificates/manage/templates/<int:template_id>/delete")
def template_delete(template_id: int) -> ResponseReturnValue:
    template = _template_or_404(template_id)
    if not DeleteTemplateForm().validate_on_submit():
        abort(400)
    name = template.name
    services.delete_template(template, actor=current_user)
    flash(_("Template %(name)s is deleted. Certificates issued with it keep their design.", name=name),
          "success")
    return redirect(url_for("certificates.templates"))


@bp.get("/certificates/manage/templates/<int:template_id>/preview.pdf")
def template_preview(template_id: int) -> ResponseReturnValue:
    template = _template_or_404(template_id)
    chosen = request.args.get("lang", "")
    lang = chosen if chosen in services.PDF_LANGUAGES else _lang()
    try:
        pdf = services.preview_pdf(template, lang)
    except CertificateRenderError as error:
        flash(_("The preview could not be printed: %(error)s", error=str(error)), "error")
        return redirect(url_for("certificates.template_edit", template_id=template.id))
    response = _pdf_response(pdf, f"template-{template.id}-{lang}.pdf")
    response.headers["Content-Disposition"] = f'inline; filename="template-{template.id}-{lang}.pdf"'
    return response


@bp.get("/certificates/manage/templates/<int:template_id>/<any(seal, signature):image>")
def template_image(template_id: int, image: str) -> ResponseReturnValue:
    """The template's seal or signature, for its thumbnail on the edit page."""
    template = _template_or_404(template_id)
    stored = template.seal_image if image == "seal" else template.signature_image
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.mime_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
