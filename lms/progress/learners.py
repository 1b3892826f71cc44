"""The progress facts the catalogue's learner pages ask for (``lms.catalog.learners.Learners``),
provided to the catalog by ``lms.progress.connect``."""

from __future__ import annotations

from typing import Any

from lms.progress import queries, services


def catalogue_progress(user: Any, course_ids: list[int]) -> dict[int, Any]:
    return queries.catalogue_progress(user, course_ids)


def lesson_counts(course_ids: list[int]) -> dict[int, int]:
    return queries.lesson_counts(course_ids)


def course_state(user: Any, course: Any) -> Any:
    return queries.course_state(user, course)


def lesson_opened(user: Any, course: Any, lesson: Any, state: Any) -> None:
    """Assigned officers are enrolled as soon as they open a lesson; everyone enrolled resumes here."""
    if state.enrollment is None and state.assigned is not None and course.published:
        state.enrollment = services.enrol(user, course, source="assignment")
    if state.enrollment is not None:
        services.note_lesson_opened(state.enrollment, lesson)


def has_access(user: Any, course: Any) -> bool:
    return services.enrollment_for(user, course) is not None or services.is_assigned(user, course)


def missing_requirements(course: Any, state: Any, lessons: Any, lang: str) -> list[Any]:
    return queries.missing_requirements(course, state, lessons, lang)


def required_quiz_keys(course: Any) -> Any:
    return services.required_quiz_keys(course)
