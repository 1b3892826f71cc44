"""Declarations of the API's endpoints and parameters, used both to read requests and to write the
OpenAPI document (so the document describes exactly what the views accept and return).

Pure core: no Flask here; views register :class:`Endpoint` objects and call :func:`parse_args`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lms.i18n import _

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50


class ParamError(ValueError):
    """A query or path parameter is wrong; the message names it and says what is expected."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "integer", "string" or "date"
    description: str
    location: str = "query"
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    enum: tuple[str, ...] | None = None
    max_length: int = 100
    required: bool = False

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any]
        if self.kind == "integer":
            out = {"type": "integer"}
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        elif self.kind == "date":
            out = {"type": "string", "format": "date"}
        else:
            out = {"type": "string", "maxLength": self.max_length}
            if self.enum:
                out["enum"] = list(self.enum)
            else:
                # No NUL: every request carrying one is refused with a 400 before the API sees it.
                out["minLength"], out["pattern"] = 1, "^[^\\u0000]*$"
        if self.default is not None:
            out["default"] = self.default
        return out

    def parse(self, raw: str) -> Any:
        if self.kind == "integer":
            if not re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
                raise ParamError(self.name, _("The parameter %(name)s must be a whole number.", name=self.name))
            value = int(raw)
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                if high is None:
                    message = _("The parameter %(name)s must be at least %(low)s.", name=self.name, low=low)
                else:
                    message = _("The parameter %(name)s must be between %(low)s and %(high)s.",
                                name=self.name, low=low, high=high)
                raise ParamError(self.name, message)
            return value
        if self.kind == "date":
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                raise ParamError(
                    self.name, _("The parameter %(name)s must be a date written YYYY-MM-DD.", name=self.name)
                ) from None
        if self.enum and raw not in self.enum:
            raise ParamError(self.name, _("The parameter %(name)s must be one of: %(values)s.",
                                          name=self.name, values=", ".join(self.enum)))
        if not raw or len(raw) > self.max_length:
            raise ParamError(self.name, _("The parameter %(name)s must have 1 to %(num)s characters.",
                                          name=self.name, num=self.max_length))
        return raw


PAGE = Param("page", "integer", "Page number, from 1.", minimum=1, maximum=10**9, default=1)
PER_PAGE = Param("per_page", "integer", f"Items per page (at most {MAX_PER_PAGE}).", minimum=1,
                 maximum=MAX_PER_PAGE, default=DEFAULT_PER_PAGE)


@dataclass
class Endpoint:
    path: str  # OpenAPI style: /plans/{plan_id}
    operation_id: str
    summary: str
    description: str
    item_schema: str  # a name in SCHEMAS
    params: list[Param] = field(default_factory=list)
    paged: bool = False
    not_found: bool = False  # whether the endpoint answers 404 for an unknown id

    @property
    def all_params(self) -> list[Param]:
        return [*self.params, PAGE, PER_PAGE] if self.paged else list(self.params)

    @property
    def flask_rule(self) -> str:
        rule = self.path
        for param in self.params:
            if param.location == "path":
                converter = "int:" if param.kind == "integer" else ""
                rule = rule.replace("{" + param.name + "}", f"<{converter}{param.name}>")
        return rule


def parse_args(endpoint: Endpoint, query: Mapping[str, str], path: Mapping[str, Any]) -> dict[str, Any]:
    """Read an endpoint's parameters from the query string and path; raise ParamError when wrong."""
    known = {p.name for p in endpoint.all_params if p.location == "query"}
    for name in query:
        if name not in known:
            # A typo such as "per-page" would otherwise be ignored silently.
            raise ParamError(name, _("Unknown parameter %(name)s; this address accepts: %(known)s.",
                                     name=name, known=", ".join(sorted(known)) or "-"))
    values: dict[str, Any] = {}
    for param in endpoint.all_params:
        if param.location == "path":
            raw = path.get(param.name)
            values[param.name] = param.parse(str(raw)) if raw is not None else None
            continue
        raw = query.get(param.name)
        if raw is None and param.required:
            raise ParamError(param.name, _("The parameter %(name)s is required.", name=param.name))
        values[param.name] = param.default if raw is None else param.parse(raw)
    return values


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "title", "message"],
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "parameter": {"type": "string"},
            },
        }
    },
}


def page_schema(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages", "next", "prev"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"], "description": "URL of the next page, or null."},
            "prev": {"type": ["string", "null"], "description": "URL of the previous page, or null."},
        },
    }


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document(
    endpoints: list[Endpoint], schemas: Mapping[str, dict[str, Any]], *, server_url: str, version: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``endpoints``."""
    paths: dict[str, Any] = {}
    for ep in endpoints:
        schema = (
            {"$ref": f"#/components/schemas/{ep.item_schema}Page"}
            if ep.paged
            else {"$ref": f"#/components/schemas/{ep.item_schema}"}
        )
        responses: dict[str, Any] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            "400": _error_response("A parameter is wrong; the message names it."),
            "401": _error_response("No token, or an unknown, revoked or disabled one."),
            "403": _error_response("The token's owner may not read this."),
        }
        if ep.not_found:
            responses["404"] = _error_response("No such object in the token owner's scope.")
        paths[ep.path] = {
            "get": {
                "operationId": ep.operation_id,
                "summary": ep.summary,
                "description": ep.description,
                "parameters": [
                    {
                        "name": p.name,
                        "in": p.location,
                        "required": p.location == "path" or p.required,
                        "description": p.description,
                        "schema": p.schema(),
                    }
                    for p in ep.all_params
                ],
                "responses": responses,
            }
        }
    components: dict[str, Any] = {"Error": ERROR_SCHEMA, **schemas}
    for ep in endpoints:
        if ep.paged:
            components[f"{ep.item_schema}Page"] = page_schema(ep.item_schema)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lms API",
            "version": version,
            "description": (
                "Read-only access to training plans, agencies, completion and certificates, limited to "
                "the agencies the token's owner may see. Create a token on your profile page and send it "
                "as `Authorization: Bearer <token>`."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
        },
        "paths": paths,
    }


Serializer = Callable[[Any], dict[str, Any]]
