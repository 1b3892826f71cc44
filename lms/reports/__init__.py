"""Reports: training plans and their targets, completion per officer and agency, charts, exports,
reminders.

HR and plan managers see who is trained and who is behind, always within their own agency scope
(``policy.agency_scope_clause``). Every report is a few aggregate SQL queries (``queries.py``); the page,
the CSV/XLSX/PDF exports and the JSON API all read the same query results, so the numbers agree.
Completions count under the agency the officer belonged to when they completed
(``CourseCompletion.agency_id``), so merging or moving agencies does not rewrite history.
"""
