"""The queue worker's entry point: ``dramatiq lms.tasks.worker --processes 2 --threads 1``.

Dramatiq imports this module in each worker process: it builds the app from the environment (the same
``LMS_*`` settings as the web servers) and hands Dramatiq the broker on which every task is declared.
"""

from __future__ import annotations

import dramatiq

from lms import create_app

app = create_app()
if "lms_tasks" not in app.extensions:
    raise SystemExit(
        "LMS_REDIS_URL is not set: there is no queue to work on (without it, tasks run inside the "
        "web process and no worker is needed)."
    )
broker = app.extensions["lms_tasks"].broker
dramatiq.set_broker(broker)
