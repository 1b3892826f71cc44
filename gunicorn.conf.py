"""Gunicorn settings for `make serve` (production-like). Override with GUNICORN_* or LMS_* env vars."""

import multiprocessing
import os

from gunicorn.glogging import Logger

from lms.security import redact_secrets


class RedactingLogger(Logger):
    """Access log lines without the one-time activation tokens that travel in URLs."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_secrets(atoms[key])
        return atoms


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
logger_class = RedactingLogger
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app is built in each worker after fork: database connections are never shared across processes.
preload_app = False
# gunicorn's control socket defaults to one path in the home folder: two servers on one machine would
# take it from each other, and nothing here uses it (stop with SIGTERM, reload with SIGHUP).
control_socket_disable = True
