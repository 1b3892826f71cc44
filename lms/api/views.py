"""The read-only JSON API (blueprint ``api`` at ``/api/v1``) and token management on the profile page
(blueprint ``api_tokens``, ordinary session pages with CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response

from lms import policy
from lms.api import services
from lms.api.forms import RevokeForm, TokenForm
from lms.api.models import ApiToken
from lms.api.spec import Endpoint, Param, ParamError, openapi_document, parse_args
from lms.extensions import csrf, db
from lms.i18n import _
from lms.org.models import Agency, AgencyKind
from lms.sqlite import set_begin_mode

API_VERSION = "1.0.0"

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the API accepts bearer tokens only, never the session cookie

ENDPOINTS: list[Endpoint] = []
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
    set_begin_mode("IMMEDIATE")
    try:
        with db.engine.begin() as connection:
            connection.execute(services.touch_statement(row.id))
    finally:
        set_begin_mode("DEFERRED")


def _allow(rule: str, obj: Any = None) -> None:
    if not policy.can(current_user, rule, obj):
        abort(error(403, _("Your account may not read this.")))


# Endpoint registry --------------------------------------------------------------------------


def endpoint(ep: Endpoint) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a GET view for ``ep``: arguments are parsed from its declared parameters."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        def view(**path_args: Any) -> Any:
            try:
                args = parse_args(ep, request.args, path_args)
            except ParamError as err:
                return error(400, err.message, parameter=err.name)
            result = fn(args)
            return result if isinstance(result, Response) else jsonify(result)

        view.__name__ = ep.operation_id
        bp.add_url_rule(ep.flask_rule, ep.operation_id, view, methods=["GET"])
        ENDPOINTS.append(ep)
        return fn

    return register


def paginate(stmt: Select[Any], args: dict[str, Any], serialize: Callable[[Any], dict[str, Any]],
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
    return jsonify(openapi_document(ENDPOINTS, SCHEMAS, server_url=server, version=API_VERSION))


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
def create() -> str | Response:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            row, token = services.create_token(current_user._get_current_object(), form.name.data or "")
        except services.TokenError as err:
            db.session.rollback()
            form.name.errors.append(err.message)
        else:
            db.session.commit()
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
        db.session.commit()
        flash(_("The token “%(name)s” is revoked; systems using it are refused from now on.",
                name=row.name), "success")
    return redirect(url_for("auth.profile") + "#api-tokens")


def register_profile_section() -> None:
    from lms.auth.views import PROFILE_SECTIONS

    if "api/_profile_tokens.html" not in PROFILE_SECTIONS:
        PROFILE_SECTIONS.append("api/_profile_tokens.html")


register_profile_section()
