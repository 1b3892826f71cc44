"""The one domain error type, and the one way a view shows it.

Services raise a subclass of :class:`DomainError` (``OrgError``, ``QuizError`` ...) with a message
written for the user, in their language, and optionally the name of the form field it is about. A view
that catches one calls :func:`show_error`: what the failed service flushed is discarded (unless the
error says the service wrote on purpose, see ``keeps_writes``), and the message goes onto that field of
the form, or is flashed when the form has no such field.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import flash

from lms import transaction


class DomainError(Exception):
    """A rule of the domain refused the operation: ``message`` for the user, ``field`` of the form."""

    # True when the service deliberately wrote before refusing (a login failure counted, an attempt
    # closed at its deadline): the request boundary commits those writes with the refusal.
    keeps_writes: ClassVar[bool] = False

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def messages(self) -> list[str]:
        """The message as the lines a form field shows (one unless a subclass has several)."""
        return [self.message]


class Conflict(DomainError):
    """Someone changed the same rows at the same moment (a unique key or a lock refused the write)."""


def undo(err: DomainError) -> None:
    """Discard what the failed service flushed, unless the error keeps its writes on purpose.

    For views that present an error their own way (JSON, a preview page); others use show_error."""
    if not err.keeps_writes:
        transaction.discard()


def show_error(err: DomainError, form: Any = None, *, field: str | None = None,
               category: str = "error") -> None:
    """Discard the failed service's writes, then put ``err`` on ``form``'s field or flash it.

    The field is the error's own when the form has it, else ``field`` (the view's choice for errors
    that name none); without either the message is flashed with ``category``."""
    undo(err)
    name = err.field if form is not None and err.field and err.field in form else field
    if form is not None and name and name in form:
        form[name].errors = [*form[name].errors, *err.messages]
    else:
        flash(err.message, category)
