"""Translation helpers that work inside and outside a Flask request.

Pure cores (content loader, GIFT parser, roster reader, PDF building) mark their user-facing messages
with ``_`` from here. Inside an app context the message is translated by Flask-Babel; outside one (a
plain unit test, a worker without an app) the English source string is formatted and returned.
"""

from __future__ import annotations

from typing import Any

from flask import has_app_context


def _(message: str, **params: Any) -> str:
    """Translate ``message`` and fill ``%(name)s`` placeholders from ``params``."""
    if has_app_context():
        from flask_babel import gettext

        return gettext(message, **params)
    return message % params if params else message


def ngettext(singular: str, plural: str, num: int, **params: Any) -> str:
    """Plural-aware ``_``; ``num`` is available to the message as ``%(num)s``."""
    if has_app_context():
        from flask_babel import ngettext as babel_ngettext

        return babel_ngettext(singular, plural, num, **params)
    params.setdefault("num", num)
    return (singular if num == 1 else plural) % params


def lazy(message: str, **params: Any):
    """A lazy string for module-level constants (form labels, choice lists)."""
    from flask_babel import lazy_gettext

    return lazy_gettext(message, **params)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message
