"""lms: a training platform for government officers.

``create_app`` builds the Flask application as a list of named steps; nothing else runs at import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory (see house style: defaults -> instance -> env -> test config)."""
    # LMS_INSTANCE_PATH moves instance/ (each server of a scaled-out installation may have its own).
    instance = os.environ.get("LMS_INSTANCE_PATH") or str(ROOT / "instance")
    from lms.transaction import App  # Flask with the one-commit-per-request boundary

    app = App(
        __name__,
        instance_path=instance,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    from lms import setup

    for step in setup.STEPS:
        step(app, test_config)
    return app
