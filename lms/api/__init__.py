"""The JSON API for the province's other systems: read-only ``/api/v1``.

Callers authenticate with a personal API token (``Authorization: Bearer lms_...``) that its owner
creates and revokes on the profile page; only a SHA-256 of the token is stored, and the token is
shown once. A token acts as its owner, so the API applies exactly the policy rules and agency scoping
of the pages; session cookies are ignored here, which is why the API can be exempt from CSRF. The
OpenAPI document at ``/api/v1/openapi.json`` is built from the same parameter declarations the views
use to read their arguments, so the two cannot drift apart.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """The personal API tokens section of the profile page."""
    from lms import ui

    ui.add_profile_section(app, "api/_profile_tokens.html")
