"""Rate limits that hold across every server process: counts live in Redis, or in the database.

Used for login throttling (per account and per address) and for certificate-code guessing. With
``REDIS_URL`` set (a scaled-out installation) each (bucket, key) is a Redis sorted set of event times:
counting the last N seconds is one ZCOUNT, and no web request writes a database row for it. Without
Redis (the embedded default) each event is one row; counting recent rows is an indexed range query, and
old rows are pruned by the daily jobs. Either way every server and worker sees the same counts.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, affected_rows, utcnow
from lms.extensions import Model, db


class RateEvent(Model):
    __tablename__ = "rate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (db.Index("ix_rate_event_bucket_key_at", "bucket", "key", "at"),)


def address_key(address: str) -> str:
    """The key a client address is counted under: an IPv6 address by its /64 network.

    A household, an office or a rented server gets a whole /64 and may use any address in it, so
    counting single IPv6 addresses would give a guesser billions of fresh keys.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


KEEP_SECONDS = 86_400  # no window is longer than a day


def _redis() -> tuple[Any, str] | None:
    state = current_app.extensions.get("lms_tasks")
    return (state.redis, state.namespace) if state is not None else None


def _redis_key(namespace: str, bucket: str, key: str) -> str:
    return f"{namespace}:rate:{bucket}:{key[:200]}"


def hit(bucket: str, key: str) -> None:
    """Count one event for ``key`` in ``bucket``."""
    shared = _redis()
    if shared is not None:
        client, namespace = shared
        name, now = _redis_key(namespace, bucket, key), time.time()
        with client.pipeline() as pipe:
            pipe.zadd(name, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
            pipe.zremrangebyscore(name, 0, now - KEEP_SECONDS)
            pipe.expire(name, KEEP_SECONDS)
            pipe.execute()
        return
    db.session.add(RateEvent(bucket=bucket, key=key[:200]))


def recent(bucket: str, key: str, window_seconds: int) -> int:
    """How many events ``key`` had in ``bucket`` during the last ``window_seconds``."""
    shared = _redis()
    if shared is not None:
        client, namespace = shared
        return int(client.zcount(_redis_key(namespace, bucket, key), time.time() - window_seconds, "+inf"))
    since = utcnow() - timedelta(seconds=window_seconds)
    stmt = select(func.count()).where(
        RateEvent.bucket == bucket, RateEvent.key == key[:200], RateEvent.at >= since
    )
    return db.session.scalar(stmt) or 0


def clear(bucket: str, key: str) -> None:
    """Forget ``key``'s events in ``bucket`` (a successful login clears the account's failures)."""
    shared = _redis()
    if shared is not None:
        client, namespace = shared
        client.delete(_redis_key(namespace, bucket, key))
        return
    db.session.execute(delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.key == key[:200]))


def prune(older_than_seconds: int = 86_400) -> int:
    """Delete events older than a day (or the given age); returns how many went."""
    since = utcnow() - timedelta(seconds=older_than_seconds)
    result = db.session.execute(delete(RateEvent).where(RateEvent.at < since))
    return affected_rows(result)
