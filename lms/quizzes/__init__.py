"""Quizzes: question banks, attempts and grading.

Trainers rarely write questions from scratch: they bring question banks from Moodle in GIFT, Aiken or
Moodle XML files, or write new ones next to a course's lessons. What a question is and how those files
read and write it lives one layer down, in :mod:`lms.questionformat`, which the content loader shares;
each question keeps a stable ``name`` that attempts and item analysis point at, so re-importing a
corrected bank never orphans an officer's history.

When an officer starts an attempt, every question is snapshotted into the attempt as a plain dict
(``question_to_dict``). Grading (``grading.py``) reads only that snapshot and the officer's response, so
an attempt is always graded by the rule it was taken under, even after the bank changes. Each question
type's grader, normaliser and widgets are one row of ``lms.questionformat.qtypes.TABLE``.
"""

from __future__ import annotations

from flask import Flask, url_for


def connect(app: Flask) -> None:
    """Sync a course's banks and quizzes with the course; link course pages to quizzes; menu entries."""
    from lms import policy, signals, ui
    from lms.i18n import N_
    from lms.quizzes import sync

    signals.course_synced.connect(sync.sync_course_quizzes, weak=False)
    ui.set_quiz_url(app, quiz_url)
    ui.add_nav(app, "quizzes.index", N_("Quizzes"), lambda u: policy.can(u, "quizzes.manage"), 61)
    ui.add_nav(app, "quizzes.grading", N_("Grading"), lambda u: policy.can(u, "quizzes.manage"), 62)


def quiz_url(course: object, key: str) -> str:
    return url_for("quizzes.quiz", course_key=course.key, quiz_key=key)  # type: ignore[attr-defined]
