"""Progress: who takes which course, how far they are, and when they completed it.

Officers enrol themselves in open courses or are reached by assignments (HR assigns a course to chosen
officers, to an agency subtree, or to everyone with a duty, with a due date). Assignments are standing
rules: ``AssignedCourse`` is their materialised result per officer, recomputed in set-based SQL whenever
assignments, agencies or duties change, so the dashboard and reports read one indexed table. Progress is
recorded by lesson id and quiz key, never by language, so completing any translation counts, and lesson
ids survive edits and re-syncs. Completing a course is evaluated in the same transaction as the event
that completes it (a lesson marked done, a quiz passed) and announced to ``COMPLETION_LISTENERS``.
"""
