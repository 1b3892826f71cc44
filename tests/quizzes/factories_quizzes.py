"""Factory functions for quiz tests: banks and quizzes built directly, without content files."""

from __future__ import annotations

from typing import Any

from lms.extensions import db
from lms.questionformat.questions import Answer, MatchPair, NumericalAnswer
from lms.questionformat.questions import Question as Q
from lms.quizzes import presentation, services
from lms.quizzes.engine import Pick
from lms.quizzes.models import Attempt, Question, Quiz
from tests.catalog.factories_catalog import course  # noqa: F401 - re-exported for quiz tests

RIGHT_FEEDBACK = "Chính xác-FEEDBACK-RIGHT"
WRONG_FEEDBACK = "Chưa đúng-FEEDBACK-WRONG"
GENERAL_FEEDBACK = "Phản hồi chung-GENERAL"


def every_type(category: str = "m1") -> list[Q]:
    """One question of each gradable type (plus a description), with recognisable keys."""
    return [
        Q("single", "q-single", "Tuyên ngôn được thông qua năm nào?", category=category,
          answers=(Answer("1948", 1.0, RIGHT_FEEDBACK), Answer("1966", 0.0, WRONG_FEEDBACK),
                   Answer("1945", 0.0, WRONG_FEEDBACK)),
          general_feedback=GENERAL_FEEDBACK),
        Q("multi", "q-multi", "Chọn các đặc điểm đúng", category=category,
          answers=(Answer("Tính phổ biến", 0.5, RIGHT_FEEDBACK),
                   Answer("Tính không thể phân chia", 0.5, RIGHT_FEEDBACK),
                   Answer("Chỉ cho công dân", -1.0, WRONG_FEEDBACK))),
        Q("truefalse", "q-tf", "Việt Nam là thành viên ICCPR.", category=category,
          answers=(Answer("true", 1.0, RIGHT_FEEDBACK), Answer("false", 0.0, WRONG_FEEDBACK))),
        Q("short", "q-short", "Điền: Tuyên ngôn toàn thế giới về ...", category=category,
          answers=(Answer("phẩm giá vốn có", 1.0, RIGHT_FEEDBACK),), ignore_diacritics=True),
        Q("numerical", "q-num", "Việt Nam là thành viên bao nhiêu công ước cốt lõi?",
          category=category, numerical=(NumericalAnswer(value=7.0, feedback=RIGHT_FEEDBACK),)),
        Q("matching", "q-match", "Ghép công ước với năm", category=category,
          pairs=(MatchPair("ICCPR", "1966"), MatchPair("CRC", "1989"), MatchPair("", "2006"))),
    ]


def essay(name: str = "q-essay", category: str = "essay") -> Q:
    return Q("essay", name, "Trình bày vai trò người phát ngôn.", category=category)


def bank(course: Any, questions: list[Q], lang: str = "vi", source: str = "files") -> list[Question]:
    for question in questions:
        services.upsert_question(course, lang, question, source=source)
    db.session.flush()
    return services.bank_rows(course.id, lang)


def quiz(course: Any, key: str = "quiz-1", picks: list[Pick] | None = None, **settings: Any) -> Quiz:
    row = Quiz(course_id=course.id, key=key, course=course, title={"vi": "Bài kiểm tra",
                                                                     "en": "A quiz"},
               picks=[p.to_dict() for p in picks or [Pick(category="m1", count=6)]],
               pass_mark=settings.pop("pass_mark", 70), shuffle_choices=True)
    for name, value in settings.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def setup_quiz(**settings: Any) -> tuple[Any, Quiz]:
    """A published open course with a bank of every type and a quiz drawing all six questions."""
    c = course(quizzes=[{"key": "quiz-1", "title": {"vi": "Bài kiểm tra"}, "module": None,
                         "final": False, "pass_mark": 70}])
    bank(c, every_type())
    return c, quiz(c, **settings)


def right_values(attempt: Attempt) -> dict[int, list[str]]:
    """Form values (display positions) answering every slot right."""
    out = {}
    for slot in attempt.slots:
        q, order = slot["question"], slot["order"]
        kind = q["type"]
        if kind in ("single", "multi"):
            right = [i for i, a in enumerate(q["answers"]) if a["weight"] > 0]
            out[slot["slot"]] = [str(order.index(i)) for i in right]
        elif kind == "truefalse":
            out[slot["slot"]] = ["true" if q["answers"][0]["weight"] > 0 else "false"]
        elif kind == "short":
            out[slot["slot"]] = ["Pham gia von co"]
        elif kind == "numerical":
            out[slot["slot"]] = ["7"]
        elif kind == "matching":
            options = presentation.public_view(q, order)["options"]
            by_text = {o["text"]: o["value"] for o in options}
            out[slot["slot"]] = [f"{i}:{by_text[p['right']]}" for i, p in enumerate(q["pairs"])
                                 if p["left"]]
        elif kind == "ordering":
            shown = order if order is not None else list(range(len(q["answers"])))
            out[slot["slot"]] = [f"{pos}:{item + 1}" for pos, item in enumerate(shown)]
        elif kind == "essay":
            out[slot["slot"]] = ["Người phát ngôn cung cấp thông tin kịp thời, chính xác."]
    return out
