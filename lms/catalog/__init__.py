"""The catalog: courses as trainers write them, read from files into plain data.

A course lives in a folder under ``content/`` (format: ``content/README.md``): a ``course.yaml`` manifest,
one folder of Markdown lessons and GIFT question banks per language edition, and shared ``files/``.
Courses, modules, lessons, quizzes and questions carry stable keys and the course a version, so officers'
progress, attempts and certificates point at keys that survive re-imports, file renames and new
translations. ``loader`` turns folders into frozen dataclasses plus a list of errors that each name a
file and line; ``render`` turns lesson Markdown into sanitised HTML. Both are pure: no Flask app, no
database; the sync service writes what the loader returns.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """Menu entries, and the answer to the policy's question which courses a trainer is limited to."""
    from lms import policy, signals, ui
    from lms.catalog import services
    from lms.i18n import N_

    ui.add_nav(app, "catalog.index", N_("Courses"), lambda u: policy.can(u, "catalog.browse"), 10)
    ui.add_nav(app, "catalog.author", N_("Course editor"), lambda u: policy.can(u, "catalog.author"), 60)
    ui.add_nav(app, "catalog.trainers", N_("Trainers"),
               lambda u: policy.can(u, "catalog.manage_trainers"), 73)
    signals.trainer_course_limits.connect(services.trainer_limits_receiver, weak=False)
