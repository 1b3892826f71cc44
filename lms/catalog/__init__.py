"""The catalog: courses as trainers write them, read from files into plain data.

A course lives in a folder under ``content/`` (format: ``content/README.md``): a ``course.yaml`` manifest,
one folder of Markdown lessons and GIFT question banks per language edition, and shared ``files/``.
Courses, modules, lessons, quizzes and questions carry stable keys and the course a version, so officers'
progress, attempts and certificates point at keys that survive re-imports, file renames and new
translations. ``loader`` turns folders into frozen dataclasses plus a list of errors that each name a
file and line; ``render`` turns lesson Markdown into sanitised HTML. Both are pure: no Flask app, no
database; the sync service writes what the loader returns.
"""
