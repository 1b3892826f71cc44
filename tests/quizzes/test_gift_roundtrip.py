"""GIFT export and import are inverses: ``parse_gift(export_gift(qs)).questions == qs``.

The questions are generated with awkward text: GIFT's control characters, backslashes, line breaks,
format tags, percent signs, the missing-word blank and Vietnamese with all its diacritics.
"""

from __future__ import annotations

import re
import string
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.questionformat.gift import category_path, export_gift, parse_gift
from lms.questionformat.questions import (
    Answer,
    MatchPair,
    NumericalAnswer,
    Question,
    truefalse_answers,
)

VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
ALPHABET = string.ascii_letters + string.digits + " \t\n~=#{}:\\[]%->/_*.,!?'\"" + VIETNAMESE
AWKWARD = [
    "_____",
    "->",
    "[html]",
    "[note]",
    "[Markdown]",
    "%50%",
    "\\n",
    "::",
    "####",
    "//",
    "$CATEGORY:",
    "{#",
    "TRUE",
    "Quyền con người",
    "Đ",
]
WEIGHT_PATTERN = re.compile(r"\s*%-?\d+(?:\.\d+)?%")


def canonical(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


texts = (
    st.lists(
        st.one_of(st.text(ALPHABET, max_size=8), st.sampled_from(AWKWARD)), min_size=1, max_size=5
    )
    .map("".join)
    .map(canonical)
    .filter(bool)
)
optional_texts = st.one_of(st.just(""), texts)
single_line = texts.filter(lambda t: "\n" not in t)
weights = st.one_of(
    st.integers(-100, 100).map(lambda p: p / 100),
    st.floats(-1, 1, allow_nan=False),
)
non_negative_weights = weights.map(abs)
numbers = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def answers_with_one_right(draw, others_weight, text_strategy=texts):
    right = Answer(draw(text_strategy), 1.0, draw(optional_texts))
    others = draw(
        st.lists(
            st.builds(Answer, text_strategy, others_weight, optional_texts), min_size=0, max_size=4
        )
    )
    position = draw(st.integers(0, len(others)))
    return tuple(others[:position] + [right] + others[position:])


@st.composite
def multi_answers(draw):
    right_count = draw(st.integers(1, 4))
    right = [Answer(draw(texts), 1 / right_count, draw(optional_texts)) for _ in range(right_count)]
    wrong = draw(
        st.lists(
            st.builds(Answer, texts, weights.map(lambda w: -abs(w)), optional_texts),
            min_size=1,
            max_size=3,
        )
    )
    return tuple(draw(st.permutations(right + wrong)))


numerical_answer = st.one_of(
    st.builds(
        NumericalAnswer,
        value=numbers,
        tolerance=st.floats(0, 1e9),
        weight=non_negative_weights,
        feedback=optional_texts,
    ),
    st.tuples(numbers, numbers)
    .map(sorted)
    .flatmap(
        lambda bounds: st.builds(
            NumericalAnswer,
            minimum=st.just(bounds[0]),
            maximum=st.just(bounds[1]),
            weight=non_negative_weights,
            feedback=optional_texts,
        )
    ),
)


@st.composite
def numerical_answers(draw):
    answers = draw(st.lists(numerical_answer, min_size=1, max_size=3))
    first = answers[0]
    answers[0] = NumericalAnswer(
        first.value, first.tolerance, first.minimum, first.maximum, 1.0, first.feedback
    )
    answers = list(draw(st.permutations(answers)))
    if draw(st.booleans()):
        # Moodle's "any other answer" (GIFT ``~#feedback``): always last, worth nothing.
        answers.append(NumericalAnswer(weight=0.0, feedback=draw(optional_texts), other=True))
    return tuple(answers)


match_items = texts.filter(lambda t: "->" not in t and not WEIGHT_PATTERN.match(t))


@st.composite
def match_pairs(draw):
    items = draw(st.lists(st.builds(MatchPair, match_items, texts), min_size=2, max_size=4))
    distractors = draw(st.lists(st.builds(MatchPair, st.just(""), texts), max_size=2))
    if len(items) + len(distractors) < 3:
        distractors.append(MatchPair("", draw(texts)))
    return tuple(items + distractors)


@st.composite
def questions(draw):
    kind = draw(
        st.sampled_from(
            [
                "single",
                "multi",
                "truefalse",
                "short",
                "numerical",
                "matching",
                "essay",
                "description",
            ]
        )
    )
    parts: dict = {}
    if kind == "single":
        parts["answers"] = draw(answers_with_one_right(weights))
        if len(parts["answers"]) < 2:
            parts["answers"] += (Answer(draw(texts), draw(weights)),)
    elif kind == "multi":
        parts["answers"] = draw(multi_answers())
    elif kind == "truefalse":
        parts["answers"] = truefalse_answers(
            draw(st.booleans()), draw(optional_texts), draw(optional_texts)
        )
    elif kind == "short":
        no_arrow = texts.filter(lambda t: "->" not in t)
        parts["answers"] = tuple(
            Answer(a.text, a.weight, a.feedback.replace("->", "- >"))
            for a in draw(answers_with_one_right(non_negative_weights, no_arrow))
        )
        parts["ignore_case"] = draw(st.booleans())
        parts["ignore_diacritics"] = draw(st.booleans())
    elif kind == "numerical":
        parts["numerical"] = draw(numerical_answers())
    elif kind == "matching":
        parts["pairs"] = draw(match_pairs())
    if kind != "description":
        parts["general_feedback"] = draw(optional_texts)
    return Question(
        type=kind,
        name=draw(texts),
        text=draw(texts),
        text_format=draw(st.sampled_from(["moodle", "html", "plain", "markdown"])),
        category=draw(st.one_of(st.just(""), st.sampled_from(["Nhân quyền", "A/B"]),
                                single_line.map(category_path))),
        tags=tuple(draw(st.lists(single_line, max_size=3, unique=True))),
        idnumber=draw(st.one_of(st.just(""), single_line)),
        **parts,
    )


question_lists = st.lists(questions(), min_size=1, max_size=6, unique_by=lambda q: q.name).map(
    # GIFT cannot go back to "no category" once a $CATEGORY line was written.
    lambda qs: sorted(qs, key=lambda q: q.category != "")
)


@settings(max_examples=300, deadline=None)
@given(question_lists)
def test_round_trip_export_then_parse_gives_the_same_questions(qs):
    exported = export_gift(qs)
    result = parse_gift(exported)
    assert result.errors == [], "\n".join(map(str, result.errors)) + "\n" + exported
    assert result.questions == qs


@settings(max_examples=100, deadline=None)
@given(question_lists)
def test_round_trip_is_stable_after_the_first_export(qs):
    once = export_gift(qs)
    assert export_gift(parse_gift(once).questions) == once


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET + "\r\ufeff", max_size=200))
def test_parser_never_raises_and_errors_point_at_real_lines(text):
    result = parse_gift(text)
    line_count = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for error in result.errors:
        assert 1 <= error.line <= line_count
    for question in result.questions:
        assert 1 <= question.line <= line_count
