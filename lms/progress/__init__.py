"""Progress: who takes which course, how far they are, and when they completed it.

Officers enrol themselves in open courses or are reached by assignments (HR assigns a course to chosen
officers, to an agency subtree, or to everyone with a duty, with a due date). Assignments are standing
rules: ``AssignedCourse`` is their materialised result per officer, recomputed in set-based SQL whenever
assignments, agencies or duties change, so the dashboard and reports read one indexed table. Progress is
recorded by lesson id and quiz key, never by language, so completing any translation counts, and lesson
ids survive edits and re-syncs. Completing a course is evaluated in the same transaction as the event
that completes it (a lesson marked done, a quiz passed, an essay graded, a regrade) and announced as
``signals.course_completed``.

A quiz result is not a running maximum: it is recomputed from the officer's attempts each time one is
submitted, graded or regraded, so a regrade may lower it as well as raise it. A completion, once
recorded, is never withdrawn by such a recomputation: certificates are not silently taken back; a
person revokes one when it must go.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """Keep assigned courses in step with the organisation; tell the catalogue's pages how far each officer
    is; the "My training" panel and menu entry."""
    from sqlalchemy import event

    from lms import policy, signals, ui
    from lms.catalog import learners as catalog_learners
    from lms.extensions import db
    from lms.i18n import N_
    from lms.progress import learners, services

    # The pairs' denormalised columns follow every ORM write to lesson progress, quiz results,
    # completions and an officer's agency, and every bulk statement on completions (once per process:
    # the session class outlives the apps the tests create).
    if not event.contains(db.session, "after_flush", services.keep_pairs_after_flush):
        event.listen(db.session, "after_flush", services.keep_pairs_after_flush)
    if not event.contains(db.session, "do_orm_execute", services.keep_pairs_around_bulk_writes):
        event.listen(db.session, "do_orm_execute", services.keep_pairs_around_bulk_writes)
    catalog_learners.provide(app, learners)
    signals.users_changed.connect(services.on_users_changed, weak=False)
    signals.course_rule_changed.connect(services.reevaluate_course, weak=False)
    signals.agency_moved.connect(services.on_agency_moved, weak=False)
    signals.agency_merge_preview.connect(services.count_agency_assignments, weak=False)
    signals.agency_merged.connect(services.move_agency_assignments, weak=False)
    ui.add_nav(app, "progress.assignments", N_("Assignments"),
               lambda u: policy.can(u, "assignments.manage"), 65)
    ui.add_nav(app, "progress.workshops", N_("Workshops"), lambda u: policy.can(u, "workshops.manage"), 66)
    ui.add_dashboard_panel(app, "progress/_my_training.html", lambda u: policy.can(u, "catalog.browse"), 20)
    ui.add_profile_section(app, "progress/_profile_calendar.html", order=10)
