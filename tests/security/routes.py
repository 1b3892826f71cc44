"""How to call every route of the app with real ids that belong to someone else, and how to read
the answer as allowed or denied."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule

# Path arguments by name; the value is a key of ``World.ids`` (or a literal in ``LITERALS``).
ARGUMENTS = {
    "key": "course_key", "course_key": "course_key", "lesson_key": "lesson_key", "module_key": "module_key",
    "name": "asset", "quiz_key": "quiz_key", "code": "certificate", "user_id": "user:officer_a",
    "agency_id": "justice", "batch_id": "batch", "plan_id": "plan", "course_id": "course_x",
    "member_id": "plan_member", "target_id": "plan_target", "assignment_id": "assignment",
    "quiz_id": "quiz", "question_id": "question", "attempt_id": "attempt_open",
    "answer_id": "essay_answer", "notice_id": "notice", "token_id": "api_token", "token": "activation",
    "run_id": "task_run", "override_id": "override", "workshop_id": "workshop", "external_id": "external",
    "template_id": "certificate_template",
}
LITERALS = {"kind": "officers", "lang": "vi", "fmt": "csv", "filename": "css/app.css", "image": "seal"}
# Endpoints where an argument means a different object than the default above.
OVERRIDES: dict[str, dict[str, str]] = {
    "quizzes.review": {"attempt_id": "attempt_done"},
    "catalog.trainer_limits": {"user_id": "user:trainer_owner"},
}


# Query strings some endpoints need to get past argument checks to their access check.
QUERIES = {"api.completion_by_officer": "agency=STP"}


def path_values(rule: Rule, ids: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name in LITERALS and name not in OVERRIDES.get(rule.endpoint, {}):
            values[name] = LITERALS[name]
            continue
        key = OVERRIDES.get(rule.endpoint, {}).get(name) or ARGUMENTS.get(name)
        if key is None:
            raise AssertionError(f"{rule.endpoint}: no value for the path argument <{name}>; add it to "
                                 "tests/security/routes.py ARGUMENTS")
        values[name] = ids[key]
    return values


def url_for_rule(rule: Rule, ids: dict[str, Any]) -> str:
    _domain, path = rule.build(path_values(rule, ids), append_unknown=False)
    query = QUERIES.get(rule.endpoint)
    return f"{path}?{query}" if query else path


def verdict(response: Any) -> str:
    """``ok`` (past authorisation), ``deny`` (401/403/404, or sent to the login page) or ``error``."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status in (401, 403, 404):
        return "deny"
    location = response.location or ""
    if status in (301, 302, 303, 307, 308) and "/auth/login" in location and "next=" in location:
        return "deny"  # sent to sign in first (a plain redirect to the login page is a logout)
    return "ok"


def methods(rule: Rule) -> list[str]:
    return sorted(m for m in rule.methods or () if m in ("GET", "POST"))
