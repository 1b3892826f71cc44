"""Progress: who takes which course, how far they are, and when they completed it.

Officers enrol themselves in open courses or are reached by assignments (HR assigns a course to chosen
officers, to an agency subtree, or to everyone with a duty, with a due date). Assignments are standing
rules: ``AssignedCourse`` is their materialised result per officer, recomputed in set-based SQL whenever
assignments, agencies or duties change, so the dashboard and reports read one indexed table. Progress is
recorded by lesson id and quiz key, never by language, so completing any translation counts, and lesson
ids survive edits and re-syncs. Completing a course is evaluated in the same transaction as the event
that completes it (a lesson marked done, a quiz passed, an essay graded, a regrade) and announced to
``COMPLETION_LISTENERS``.

A quiz result is not a running maximum: it is recomputed from the officer's attempts each time one is
submitted, graded or regraded, so a regrade may lower it as well as raise it. A completion, once
recorded, is never withdrawn by such a recomputation: certificates are not silently taken back; a
person revokes one when it must go.
"""
