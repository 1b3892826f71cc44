"""The read-only JSON API (blueprint ``api`` at ``/api/v1``) and token management on the profile page
(blueprint ``api_tokens``, ordinary session pages with CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response

from lms import audit, policy
from lms.api import services
from lms.api.forms import RevokeForm, TokenForm
from lms.api.models import ApiToken
from lms.api.spec import Endpoint, Param, ParamError, openapi_document, parse_args
from lms.errors import show_error
from lms.extensions import csrf, db
from lms.i18n import _
from lms.org.fields import simple_api_schema, simple_api_values
from lms.org.models import Agency, AgencyKind
from lms.sqlite import appends, reset_begin_mode, set_begin_mode

API_VERSION = "1.0.0"

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the API accepts bearer tokens only, never the session cookie

SCHEMAS: dict[str, dict[str, Any]] = {}


# Errors and authentication ------------------------------------------------------------------


def error(status: int, message: str, **extra: Any) -> Response:
    titles = {400: _("The request could not be understood"), 401: _("Please sign in"),
              403: _("You do not have access to this page"), 404: _("Page not found")}
    body = {"status": status, "title": titles.get(status, message), "message": message, **extra}
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lms"'
    return response


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, _("Send an API token in the header: Authorization: Bearer <token>."))
    found = services.token_user(token.strip())
    if found is None:
        return error(401, _("This API token is unknown, revoked, or belongs to a disabled account."))
    row, user = found
    _touch(row)
    # The token's owner is the current user for this request only (nothing goes into a session),
    # so policy rules, agency scoping and the language of messages all follow the owner.
    g._login_user = user
    return None


def _touch(row: ApiToken) -> None:
    """Note when the token was last used, in its own short transaction (this is a GET)."""
    if row.last_used_at is not None and row.last_used_at > services.utcnow() - services.LAST_USED_RESOLUTION:
        return
    token = set_begin_mode("IMMEDIATE")
    try:
        with db.engine.begin() as connection:
            connection.execute(services.touch_statement(row.id))
    finally:
        reset_begin_mode(token)  # back to what the request began with, not always DEFERRED


def _allow(rule: str, obj: Any = None) -> None:
    if not policy.can(current_user, rule, obj):
        abort(error(403, _("Your account may not read this.")))


# Endpoint registry --------------------------------------------------------------------------


def endpoint(ep: Endpoint, *, export: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a GET view for ``ep``: arguments are parsed from its declared parameters.

    ``export``: the endpoint hands out officers' training records, so each answer is in the audit log
    like a report export of the web (``api.exported``: the token's owner, the endpoint, its arguments
    and how many rows went out), added after the view's reads as an ``@appends`` view does."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        def view(**path_args: Any) -> Any:
            try:
                args = parse_args(ep, request.args, path_args)
            except ParamError as err:
                return error(400, err.message, parameter=err.name)
            result = fn(args)
            if export and isinstance(result, dict):
                rows = result.get("items", result.get("rows"))
                audit.record("api.exported", actor=current_user, target_type="report", target_id=ep.operation_id,
                             format="json", rows=len(rows) if isinstance(rows, list) else 0,
                             filters={k: v for k, v in request.args.items()})
            return result if isinstance(result, Response) else jsonify(result)

        view.__name__ = ep.operation_id
        if export:
            appends(view)
        view.api_endpoint = ep  # type: ignore[attr-defined]  # read back by the OpenAPI document
        bp.add_url_rule(ep.flask_rule, ep.operation_id, view, methods=["GET"])
        return fn

    return register


def paginate(stmt: Select[*tuple[Any, ...]], args: dict[str, Any], serialize: Callable[[Any], dict[str, Any]],
             *, scalars: bool = True) -> dict[str, Any]:
    """One page of ``stmt`` with total and next/prev links: two statements whatever the size."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    window = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = db.session.scalars(window).all() if scalars else db.session.execute(window).all()
    pages = ceil(total / per_page) if total else 0

    def link(number: int) -> str:
        params = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
        return url_for(request.endpoint or "", _external=True, **params)

    return {
        "items": [serialize(row) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "next": link(page + 1) if page < pages else None,
        "prev": link(min(page - 1, pages)) if page > 1 and pages else None,
    }


# OpenAPI ------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    server = url_for("api.openapi", _external=True).rsplit("/openapi.json", 1)[0]
    return jsonify(openapi_document(registered_endpoints(), SCHEMAS, server_url=server, version=API_VERSION))


def registered_endpoints() -> list[Endpoint]:
    """The API endpoints this application serves, in the order they were declared."""
    found = (getattr(view, "api_endpoint", None) for view in current_app.view_functions.values())
    return [ep for ep in found if ep is not None]


# Who am I -----------------------------------------------------------------------------------

SCHEMAS["Me"] = {
    "type": "object",
    "required": ["id", "username", "full_name", "agency_code", "roles", "all_agencies", "scope"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "full_name": {"type": "string"},
        "agency_code": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "all_agencies": {"type": "boolean"},
        "scope": {"type": "array", "items": {"type": "string"},
                  "description": "Codes of the agencies (with their sub-agencies) the token may read."},
    },
}


@endpoint(Endpoint("/me", "me", "The token's owner and scope",
                   "Who the token acts as, and which agencies it may read.", "Me"))
def me(_args: dict[str, Any]) -> dict[str, Any]:
    user = current_user
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "agency_code": user.agency.code,
        "roles": sorted(user.roles),
        "all_agencies": policy.sees_all_agencies(user),
        "scope": sorted(scope.agency.code for scope in user.hr_scopes) if policy.has_role(user, "hr") else [],
    }


# Agencies -----------------------------------------------------------------------------------

SCHEMAS["Agency"] = {
    "type": "object",
    "required": ["id", "code", "name_vi", "name_en", "kind", "parent_code", "depth", "active",
                 "merged_into_code"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "name_vi": {"type": "string"},
        "name_en": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in AgencyKind]},
        "parent_code": {"type": ["string", "null"]},
        "depth": {"type": "integer", "minimum": 0},
        "active": {"type": "boolean"},
        "merged_into_code": {"type": ["string", "null"]},
    },
}

KIND = Param("kind", "string", "Only agencies of this kind.", enum=tuple(k.value for k in AgencyKind))
UNDER = Param("under", "string", "Only this agency (by code) and its sub-agencies.", max_length=40)


def agency_json(agency: Agency, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "id": agency.id,
        "code": agency.code,
        "name_vi": agency.name_vi,
        "name_en": agency.name_en,
        "kind": agency.kind,
        "parent_code": codes.get(agency.parent_id) if agency.parent_id else None,
        "depth": agency.depth,
        "active": agency.active,
        "merged_into_code": codes.get(agency.merged_into_id) if agency.merged_into_id else None,
    }


def scoped_agency(code: str) -> Agency:
    """The agency with ``code`` if the current user may see it; otherwise a 404 (not a 403: an HR
    user must not learn which codes exist outside their scope)."""
    agency = db.session.scalar(
        select(Agency).where(func.lower(Agency.code) == code.strip().lower(),
                             policy.agency_scope_clause(current_user))
    )
    if agency is None:
        abort(error(404, _("No agency with the code %(code)s in your scope.", code=code)))
    return agency


@endpoint(Endpoint("/agencies", "agencies", "Agencies in scope",
                   "The agencies the token's owner may see, in tree order.", "Agency",
                   params=[KIND, UNDER], paged=True, not_found=True))
def agencies(args: dict[str, Any]) -> dict[str, Any]:
    _allow("hr.view_agency")
    stmt = select(Agency).where(policy.agency_scope_clause(current_user)).order_by(Agency.path, Agency.id)
    if args["kind"]:
        stmt = stmt.where(Agency.kind == args["kind"])
    if args["under"]:
        root = scoped_agency(args["under"])
        stmt = stmt.where(Agency.path.startswith(root.path, autoescape=True))
    page = paginate(stmt, args, lambda a: a)
    # Parent and merge codes of the page's agencies in one query.
    wanted = {a.parent_id for a in page["items"]} | {a.merged_into_id for a in page["items"]}
    wanted.discard(None)
    codes = dict(db.session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(wanted))).all()) \
        if wanted else {}
    page["items"] = [agency_json(a, codes) for a in page["items"]]
    return page


# Token management on the profile page ------------------------------------------------------

tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@tokens_bp.app_context_processor
def _token_helpers() -> dict[str, Any]:
    return {"api_tokens_of": services.user_tokens, "api_token_form": TokenForm,
            "api_revoke_form": RevokeForm}


@tokens_bp.post("")
@policy.require("api.manage_tokens")
def create() -> ResponseReturnValue:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            row, token = services.create_token(current_user._get_current_object(), form.name.data or "")
        except services.TokenError as err:
            show_error(err, form, field="name")
        else:
            # Shown once, in this response only (never in a redirect, a flash or the session).
            return render_template("api/token_created.html", row=row, token=token,
                                   docs_url=url_for("api.openapi"))
    return render_template("api/token_form.html", form=form), 400


@tokens_bp.post("/<int:token_id>/revoke")
@policy.require("api.manage_tokens")
def revoke(token_id: int) -> Response:
    row = db.get_or_404(ApiToken, token_id)
    policy.authorize("api.revoke_token", row)
    if RevokeForm().validate_on_submit():
        services.revoke_token(row, actor=current_user._get_current_object())
        flash(_("The token “%(name)s” is revoked; systems using it are refused from now on.",
                name=row.name), "success")
    return redirect(url_for("auth.profile") + "#api-tokens")



# Plans and completion ------------------------------------------------------------------------

COUNTS_SCHEMA = {
    "type": "object",
    "required": ["officers", "assigned", "completed", "completed_elsewhere", "in_progress", "not_started",
                 "overdue", "completion_rate", "average_score"],
    "properties": {
        "officers": {"type": "integer", "minimum": 0},
        "assigned": {"type": "integer", "minimum": 0, "description": "Assigned (officer, course) pairs."},
        "completed": {"type": "integer", "minimum": 0},
        "completed_elsewhere": {"type": "integer", "minimum": 0,
                                "description": "Of completed: by an in-person workshop or an external certificate."},
        "in_progress": {"type": "integer", "minimum": 0},
        "not_started": {"type": "integer", "minimum": 0},
        "overdue": {"type": "integer", "minimum": 0},
        "completion_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                            "description": "completed / assigned, rounded to 0.1% as on the page."},
        "average_score": {"type": ["number", "null"], "description": "Rounded to one decimal."},
    },
}
SCHEMAS["Counts"] = COUNTS_SCHEMA
SCHEMAS["Target"] = {
    "type": "object",
    "required": ["kind", "min", "max", "actual", "numerator", "denominator", "status"],
    "properties": {
        "kind": {"type": "string", "enum": ["officers_completed", "completed_on_time", "courses_other_language"]},
        "min": {"type": ["number", "null"]},
        "max": {"type": ["number", "null"]},
        "actual": {"type": ["number", "null"]},
        "numerator": {"type": "integer"},
        "denominator": {"type": "integer"},
        "status": {"type": "string", "enum": ["on_track", "at_risk", "behind", "no_data"]},
    },
}
SCHEMAS["Plan"] = {
    "type": "object",
    "required": ["id", "name", "year", "status", "due_date", "courses"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "year": {"type": "integer"},
        "status": {"type": "string", "enum": ["draft", "active", "closed"]},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "courses": {"type": "array", "items": {"type": "string"}, "description": "Course keys."},
        "targets": {"type": "array", "items": {"$ref": "#/components/schemas/Target"}},
    },
}
SCHEMAS["AgencyCompletion"] = {
    "type": "object",
    "required": ["agency_code", "agency_name", "own_officers_only", "counts"],
    "properties": {
        "agency_code": {"type": "string"},
        "agency_name": {"type": "string"},
        "own_officers_only": {"type": "boolean",
                              "description": "The parent's own officers, without its sub-agencies."},
        "counts": {"$ref": "#/components/schemas/Counts"},
    },
}
SCHEMAS["AgencyReport"] = {
    "type": "object",
    "required": ["parent_code", "rows", "total"],
    "properties": {
        "parent_code": {"type": ["string", "null"]},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/AgencyCompletion"}},
        "total": {"$ref": "#/components/schemas/Counts"},
    },
}
SCHEMAS["OfficerCompletion"] = {
    "type": "object",
    "required": ["username", "full_name", "employee_id", "agency_code", "counts"],
    "properties": {
        "username": {"type": "string"},
        "full_name": {"type": "string"},
        "employee_id": {"type": ["string", "null"]},
        **simple_api_schema(),
        "agency_code": {"type": "string", "description": "The officer's current agency."},
        "counts": {"$ref": "#/components/schemas/Counts"},
    },
}
SCHEMAS["Certificate"] = {
    "type": "object",
    "required": ["code", "username", "full_name", "course_key", "completed_on", "issued_on", "expires_on",
                 "status", "agency_code"],
    "properties": {
        "code": {"type": "string"},
        "username": {"type": "string"},
        "full_name": {"type": "string"},
        "course_key": {"type": "string"},
        "completed_on": {"type": "string", "format": "date"},
        "issued_on": {"type": "string", "format": "date"},
        "expires_on": {"type": ["string", "null"], "format": "date"},
        "status": {"type": "string", "enum": ["valid", "revoked", "expired"]},
        "agency_code": {"type": ["string", "null"]},
    },
}

PLAN = Param("plan", "integer", "Only this plan's courses and target group (plan id).", minimum=1, maximum=10**9)
AGENCY = Param("agency", "string", "Rows for the sub-agencies of this agency (code); default: the top of "
               "the scope.", max_length=40)
OF_AGENCY = Param("agency", "string", "The agency (code) whose own officers to list.", max_length=40,
                  required=True)
COURSE = Param("course", "string", "Only this course (key).", max_length=60)
FROM = Param("from", "date", "Only completions on or after this day count.")
TO = Param("to", "date", "Only completions on or before this day count.")
PLAN_ID = Param("plan_id", "integer", "Plan id.", location="path", minimum=1, maximum=10**9)


def counts_json(counts: Any) -> dict[str, Any]:
    from lms.reports.exports import decimal_number, percent_number

    rate = percent_number(counts.completion_rate)
    score = decimal_number(counts.average_score)
    return {
        "officers": counts.officers, "assigned": counts.assigned, "completed": counts.completed,
        "completed_elsewhere": counts.completed_elsewhere,
        "in_progress": counts.in_progress, "not_started": counts.not_started, "overdue": counts.overdue,
        "completion_rate": float(rate) / 100 if rate is not None else None,
        "average_score": float(score) if score is not None else None,
    }


def _report_filters(args: dict[str, Any]) -> Any:
    from lms.catalog.models import Course
    from lms.reports.models import Plan
    from lms.reports.queries import Filters, local_today

    course_id = None
    if args.get("course"):
        course_id = db.session.scalar(select(Course.id).where(Course.key == args["course"]))
        if course_id is None:
            abort(error(404, _("No course with the key %(key)s.", key=args["course"])))
    if args.get("plan") and db.session.get(Plan, args["plan"]) is None:
        abort(error(404, _("No plan with the id %(id)s.", id=args["plan"])))
    # A period that ends before it starts is simply empty: no completion counts.
    return Filters(plan_id=args.get("plan"), course_id=course_id, date_from=args.get("from"),
                   date_to=args.get("to"), today=local_today())


def plan_json(plan: Any, results: list[Any] | None = None) -> dict[str, Any]:
    out = {"id": plan.id, "name": plan.name, "year": plan.year, "status": plan.status,
           "due_date": plan.due_date.isoformat() if plan.due_date else None,
           "courses": [pc.course.key for pc in plan.courses]}
    if results is not None:
        out["targets"] = [{"kind": r.kind, "min": r.minimum, "max": r.maximum,
                           "actual": round(r.actual, 4) if r.actual is not None else None,
                           "numerator": r.numerator, "denominator": r.denominator, "status": str(r.status)}
                          for r in results]
    return out


@endpoint(Endpoint("/plans", "plans", "Training plans", "Every training plan with its course keys.", "Plan",
                   paged=True))
def plans(args: dict[str, Any]) -> dict[str, Any]:
    from lms.reports import queries

    _allow("reports.view")
    return paginate(queries.plans_query(), args, plan_json)


@endpoint(Endpoint("/plans/{plan_id}", "plan", "One plan with its targets",
                   "A plan and each target's actual value and status, within the token owner's scope.",
                   "Plan", params=[PLAN_ID], not_found=True))
def plan(args: dict[str, Any]) -> dict[str, Any]:
    from lms.reports import queries
    from lms.reports.models import Plan

    _allow("reports.view")
    the_plan = db.session.get(Plan, args["plan_id"])
    if the_plan is None:
        abort(error(404, _("No plan with the id %(id)s.", id=args["plan_id"])))
    results = queries.plan_targets(current_user, the_plan, queries.Filters(today=queries.local_today()))
    return plan_json(the_plan, results)


@endpoint(Endpoint("/completion/agencies", "completion_by_agency", "Completion per agency",
                   "The same rows as the report page: each sub-agency with its whole subtree, the parent's "
                   "own officers, and the total.", "AgencyReport",
                   params=[PLAN, AGENCY, COURSE, FROM, TO], not_found=True), export=True)
def completion_by_agency(args: dict[str, Any]) -> dict[str, Any]:
    from lms.reports import queries

    _allow("reports.view")
    filters = _report_filters(args)
    parent = scoped_agency(args["agency"]) if args.get("agency") else None
    report = queries.agency_report(current_user, filters, parent)
    return {
        "parent_code": parent.code if parent else None,
        "rows": [{"agency_code": r.agency.code, "agency_name": r.agency.name_vi, "own_officers_only": r.direct,
                  "counts": counts_json(r.counts)} for r in report.rows],
        "total": counts_json(report.total),
    }


@endpoint(Endpoint("/completion/officers", "completion_by_officer", "Completion per officer",
                   "The officers of one agency (working there now, or whose completions were earned there).",
                   "OfficerCompletion", params=[OF_AGENCY, PLAN, COURSE, FROM, TO], paged=True, not_found=True),
          export=True)
def completion_by_officer(args: dict[str, Any]) -> dict[str, Any]:
    from lms.reports import queries

    _allow("reports.view")
    filters = _report_filters(args)
    agency = scoped_agency(args["agency"])
    stmt, _stats = queries.officer_rows_query(current_user, filters, agency)

    def officer_json(row: Any) -> dict[str, Any]:
        item = queries.officer_row(row)
        return {"username": item.user.username, "full_name": item.user.full_name,
                "employee_id": item.user.employee_id, **simple_api_values(item.user),
                "agency_code": item.user.agency.code,
                "counts": counts_json(item.counts)}

    return paginate(stmt, args, officer_json, scalars=False)


@endpoint(Endpoint("/certificates", "certificates", "Certificates in scope",
                   "Certificates of officers whose current agency is in the token owner's scope.", "Certificate",
                   params=[COURSE, Param("status", "string", "Only valid, revoked or expired ones.",
                                         enum=("valid", "revoked", "expired"))], paged=True, not_found=True),
          export=True)
def certificates(args: dict[str, Any]) -> dict[str, Any]:
    from lms.catalog.models import Course
    from lms.certificates import queries as certificate_queries
    from lms.certificates.models import Certificate
    from lms.db import utcnow
    from lms.org.models import User

    _allow("reports.view")
    now = utcnow()
    stmt = (select(Certificate, User, Agency.code)
            .join(User, User.id == Certificate.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .where(policy.agency_scope_clause(current_user, Agency.path), Certificate.superseded_by_id.is_(None))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    if args.get("course"):
        if db.session.scalar(select(Course.id).where(Course.key == args["course"])) is None:
            abort(error(404, _("No course with the key %(key)s.", key=args["course"])))
        stmt = stmt.where(Certificate.course_key == args["course"])
    status = args.get("status")
    if status in ("revoked", "expired", "valid"):
        # The same states, with the same boundaries, as the certificates page and its export.
        stmt = stmt.where(certificate_queries.state_clause(status, now))

    def certificate_json(row: Any) -> dict[str, Any]:
        cert, user, code = row
        state = cert.state(now).value
        return {"code": cert.code, "username": user.username, "full_name": cert.holder_name,
                "course_key": cert.course_key, "completed_on": cert.completed_at.date().isoformat(),
                "issued_on": cert.issued_at.date().isoformat(),
                "expires_on": cert.expires_at.date().isoformat() if cert.expires_at else None,
                "status": state, "agency_code": code}

    return paginate(stmt, args, certificate_json, scalars=False)
