"""The one domain error type.

Services raise a subclass of :class:`DomainError` (``OrgError``, ``QuizError`` ...) with a message
written for the user, in their language, and optionally the name of the form field it is about.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation: ``message`` for the user, ``field`` of the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
