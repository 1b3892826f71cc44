"""Every signal one domain sends for others to act on, in one place (blinker, as Flask and Indico use).

A lower domain never imports a higher one to have its rows fixed: it sends a signal, and each domain
that keeps rows about the thing connects a handler and fixes its own. Handlers are connected only in
the domains' ``connect(app)`` functions, which ``create_app`` calls as the ``connect_domains`` step, so
what runs never depends on what happened to be imported. Every handler runs inside the sender's
transaction and only flushes; the request or command boundary commits (see :mod:`lms.transaction`).

Signals that ask rather than tell (``agency_merge_preview``, ``trainer_course_limits``) collect their
receivers' return values; :func:`values` gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blinker import NamedSignal, Namespace

_signals = Namespace()

# Progress -------------------------------------------------------------------------------------

course_completed: NamedSignal = _signals.signal("course-completed", doc="""
An officer completed (or renewed) a course. Sender: the ``CourseCompletion``; keywords ``user`` and
``course``. The certificates domain issues the certificate here, in the same transaction.
""")

# Organisation ---------------------------------------------------------------------------------

users_changed: NamedSignal = _signals.signal("users-changed", doc="""
Officers' agency, duties or status changed, or officers were created or imported. Sender: None;
keyword ``user_ids`` (a list, or None for possibly everyone). Progress recomputes assigned courses.
""")

agency_merge_preview: NamedSignal = _signals.signal("agency-merge-preview", doc="""
Asked before a merge to count what each domain would move. Sender: the source ``Agency``; keyword
``target``. A receiver returns a list of :class:`MergeCount` (possibly empty).
""")

agency_merged: NamedSignal = _signals.signal("agency-merged", doc="""
``source`` is being merged into ``target``: officers, units and HR scopes have moved, the source is
not yet marked inactive. Sender: the source ``Agency``; keywords ``target`` and ``actor``. Every domain
whose rows point at the source agency as a *current* target (assignments, plan target groups) moves
them here; rows that record history (completions, certificates) stay on the source.
""")

agency_moved: NamedSignal = _signals.signal("agency-moved", doc="""
An agency moved (with its subtree) under another parent; paths are rewritten already. Sender: the
``Agency``; keywords ``old_parent_id`` and ``new_parent_id``. Progress recomputes assigned courses.
""")

agency_renamed: NamedSignal = _signals.signal("agency-renamed", doc="""
An agency's code or names changed. Sender: the ``Agency``; keyword ``changed`` ({field: [before,
after]}). Rows that copy an agency name as history (certificates) deliberately keep the old one.
""")

# Catalog --------------------------------------------------------------------------------------

course_synced: NamedSignal = _signals.signal("course-synced", doc="""
One course from ``content/`` was written by the content sync (not sent for skipped courses). Sender:
the ``Course`` row; keywords ``loaded`` (the loader's course), ``report`` (the ``SyncReport`` to add
lines to) and ``dry_run``. The quizzes domain upserts the course's banks and quizzes here.
""")

course_rule_changed: NamedSignal = _signals.signal("course-rule-changed", doc="""
A course's completion rule or certificate settings changed (settings page or content sync), inside
the transaction. Sender: the ``Course``; keyword ``actor``. A receiver may return counts to report
({name: n}); progress re-evaluates the officers who have not completed the course yet.
""")

trainer_course_limits: NamedSignal = _signals.signal("trainer-course-limits", doc="""
Asked by the policy: which course ids is this trainer limited to? Sender: the user. A receiver returns
a set of course ids (empty: no limit from that receiver).
""")


@dataclass(frozen=True)
class MergeCount:
    """One line of a merge preview contributed by another domain: ``count`` rows of ``label``."""

    key: str
    label: str
    count: int


def values(results: list[tuple[Any, Any]]) -> list[Any]:
    """The return values of ``signal.send(...)``, without the receivers and without ``None``."""
    return [value for _receiver, value in results if value is not None]


ALL: dict[str, NamedSignal] = {
    signal.name: signal
    for signal in (course_completed, users_changed, agency_merge_preview, agency_merged, agency_moved,
                   agency_renamed, course_synced, course_rule_changed, trainer_course_limits)
}
