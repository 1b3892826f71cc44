"""Extension objects, created without an app and bound in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from lms.db import Base

# Far beyond any list here, and small enough that page x per_page fits the database's OFFSET.
MAX_PAGE = 10**9


class _SQLAlchemy(SQLAlchemy):
    def paginate(self, select: Any, *, page: int | None = None, **kwargs: Any) -> Any:
        """Flask-SQLAlchemy's paginate, with ``?page=`` clamped: a 30-digit page was a 500."""
        if page is None and has_request_context():
            page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
        return super().paginate(select, page=page, **kwargs)


db = _SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

# The base every model derives from. At run time it is Flask-SQLAlchemy's ``db.Model`` (our ``Base`` with
# its session and naming helpers); type checkers see ``Base`` itself, so mapped columns stay typed.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
