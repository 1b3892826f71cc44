"""HTTP hardening shared by every response: headers, the session cookie's Secure flag."""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with ``SESSION_COOKIE_SECURE = "auto"`` following the request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SESSION_COOKIE_SECURE"]
        if setting == "auto":
            return bool(request) and request.is_secure
        return bool(setting)


def add_security_headers(response: Response) -> Response:
    """Set the headers every page needs; views may set a stricter CSP of their own."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Personal pages, downloads and API answers must not linger in shared caches or the back-button
        # cache of a shared PC (static files keep their own caching headers).
        headers.setdefault("Cache-Control", "no-store")
    return response


_SECRET_PATHS = re.compile(r"(/auth/activate/)[^\s?#\"]+")


def redact_secrets(text: str) -> str:
    """Hide one-time tokens carried in URLs before a request line reaches an access log."""
    return _SECRET_PATHS.sub(r"\1[redacted]", text)
