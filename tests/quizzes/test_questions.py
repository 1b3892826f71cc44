"""The question model: validation, default names, and the JSON form that attempts snapshot."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.questionformat.gift import parse_gift
from lms.questionformat.questions import (
    Answer,
    MatchPair,
    NumericalAnswer,
    ParseError,
    Question,
    default_question_name,
    question_from_dict,
    question_to_dict,
)

texts = st.text(min_size=1, max_size=10)
weights = st.floats(-1, 1)
finite = st.floats(allow_nan=False, allow_infinity=False)

questions = st.builds(
    Question,
    type=st.sampled_from(["single", "multi", "short", "numerical", "matching", "essay"]),
    name=texts,
    text=st.text(max_size=20),
    text_format=st.sampled_from(["moodle", "html", "plain", "markdown"]),
    answers=st.lists(st.builds(Answer, texts, weights, st.text(max_size=5)), max_size=3).map(tuple),
    pairs=st.lists(st.builds(MatchPair, st.text(max_size=5), texts), max_size=3).map(tuple),
    numerical=st.lists(
        st.one_of(
            st.builds(NumericalAnswer, value=finite, tolerance=st.floats(0, 1e6), weight=weights),
            st.tuples(finite, finite)
            .map(sorted)
            .map(lambda b: NumericalAnswer(minimum=b[0], maximum=b[1])),
        ),
        max_size=2,
    ).map(tuple),
    general_feedback=st.text(max_size=10),
    category=st.text(max_size=10),
    tags=st.lists(texts, max_size=3).map(tuple),
    idnumber=st.text(max_size=5),
    ignore_case=st.booleans(),
    ignore_diacritics=st.booleans(),
    line=st.integers(0, 10_000),
)


@settings(deadline=None)
@given(questions)
def test_question_survives_json_snapshot_round_trip(question):
    data = json.loads(json.dumps(question_to_dict(question)))
    again = question_from_dict(data)
    assert again == question
    assert again.line == question.line


def test_snapshot_dict_is_plain_json_with_a_schema_version():
    q = parse_gift("::q:: Thủ đô? {=Hà Nội#Đúng ~Huế}").questions[0]
    data = question_to_dict(q)
    assert data["schema"] == 1
    assert data["answers"][0] == {"text": "Hà Nội", "weight": 1.0, "feedback": "Đúng"}
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_from_dict_rejects_unknown_keys_and_schemas():
    data = question_to_dict(Question("essay", "e", "Viết."))
    with pytest.raises(ValueError, match="unknown question keys: colour"):
        question_from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="schema"):
        question_from_dict({**data, "schema": 99})


def test_line_number_is_not_part_of_equality():
    assert Question("essay", "e", "x", line=1) == Question("essay", "e", "x", line=9)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Question("cloze", "n", "t"),
        lambda: Question("essay", "n", "t", text_format="rtf"),
        lambda: Question("essay", "", "t"),
        lambda: Answer("a", 1.5),
        lambda: Answer("a", float("nan")),
        lambda: NumericalAnswer(),
        lambda: NumericalAnswer(1.0, -0.1),
        lambda: NumericalAnswer(minimum=2.0, maximum=1.0),
        lambda: NumericalAnswer(1.0, minimum=0.0, maximum=2.0),
        lambda: NumericalAnswer(float("inf")),
    ],
)
def test_invalid_values_are_refused(build):
    with pytest.raises(ValueError):
        build()


def test_lists_are_stored_as_tuples_so_questions_stay_immutable():
    q = Question("single", "n", "t", answers=[Answer("a", 1.0), Answer("b")], tags=["x"])
    assert isinstance(q.answers, tuple) and isinstance(q.tags, tuple)
    hash(q)


def test_numerical_bounds():
    assert NumericalAnswer(3.0, 0.5).bounds() == (2.5, 3.5)
    assert NumericalAnswer(minimum=1.0, maximum=5.0).bounds() == (1.0, 5.0)


def test_default_name_is_the_flattened_text_shortened():
    assert default_question_name("  Hai\n  dòng  ") == "Hai dòng"
    assert default_question_name("<p>Có <b>HTML</b></p>", "html") == "Có HTML"
    assert default_question_name("a < b > c", "plain") == "a < b > c"
    long = default_question_name("từ " * 60)
    assert len(long) == 80 and long.endswith("…")


def test_parse_error_reads_like_a_compiler_message():
    assert str(ParseError(3, "Bad.", "q1", "bank.gift")) == "bank.gift:3: [q1] Bad."
    assert str(ParseError(3, "Bad.")) == "line 3: Bad."
