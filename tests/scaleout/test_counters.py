"""Shared counters on Redis: every server counts into the same sorted sets (run by .ci/run)."""

from __future__ import annotations

import os
import uuid

import pytest

from lms import create_app, ratelimit
from lms.extensions import db
from lms.ratelimit import RateEvent

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL")
pytestmark = [pytest.mark.scaleout, pytest.mark.skipif(not REDIS_URL, reason="needs LMS_TEST_REDIS_URL")]


@pytest.fixture
def servers(tmp_path):
    namespace = f"scaleout-counters-{uuid.uuid4().hex[:8]}"
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}", "SECRET_KEY": "k" * 40,
              "REDIS_URL": REDIS_URL, "QUEUE_NAMESPACE": namespace, "TESTING": True,
              "PUBLIC_BASE_URL": "https://lms.test"}
    apps = create_app(config), create_app(config)
    with apps[0].app_context():
        db.create_all()
    yield apps
    client = apps[0].extensions["lms_tasks"].redis
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)


def test_events_counted_on_one_server_are_seen_by_the_other_and_write_no_rows(servers):
    a, b = servers
    with a.app_context():
        for _ in range(3):
            ratelimit.hit("login-user", "nguyenvana")
    with b.app_context():
        ratelimit.hit("login-user", "nguyenvana")
        assert ratelimit.recent("login-user", "nguyenvana", 900) == 4
        assert ratelimit.recent("login-user", "other", 900) == 0
        assert ratelimit.recent("login-ip", "nguyenvana", 900) == 0  # buckets are separate
        assert db.session.query(RateEvent).count() == 0
    with a.app_context():
        ratelimit.clear("login-user", "nguyenvana")
    with b.app_context():
        assert ratelimit.recent("login-user", "nguyenvana", 900) == 0


def test_only_events_inside_the_window_count(servers):
    a, _ = servers
    with a.app_context():
        state = a.extensions["lms_tasks"]
        name = f"{state.namespace}:rate:verify-miss:203.0.113.9"
        import time

        state.redis.zadd(name, {"old": time.time() - 3600})
        ratelimit.hit("verify-miss", "203.0.113.9")
        assert ratelimit.recent("verify-miss", "203.0.113.9", 600) == 1
        assert ratelimit.recent("verify-miss", "203.0.113.9", 7200) == 2
