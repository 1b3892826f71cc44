"""Declarative base, constraint naming and the few column types every domain shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import (
    CursorResult,
    Date,
    DateTime,
    Interval,
    MetaData,
    Result,
    Table,
    TypeDecorator,
    func,
    literal,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import ColumnElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model is mapped to one declared table (no mapping to a join or a select), so the
        # class's table is a ``Table``: Core statements (insert, delete, aliases) accept it as such.
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no zone, so we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def affected_rows(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (``Session.execute`` types its result as a plain ``Result``)."""
    return cast("CursorResult[Any]", result).rowcount or 0


# Calendar days are Vietnam's (UTC+7, no daylight saving): a due date is a local day.
LOCAL_OFFSET = timedelta(hours=7)


def local_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """SQL: the local (UTC+7) calendar day of a stored UTC datetime, comparable with a Date column."""
    if dialect == "sqlite":
        return func.date(column, "+7 hours")
    # The interval is typed: bound as the column's UTCDateTime, a timedelta fails on PostgreSQL.
    return sql_cast(column + literal(LOCAL_OFFSET, Interval()), Date)
