"""Grading rules, one test per rule, with hypothesis for the properties every grader must keep."""

from __future__ import annotations

import dataclasses
import json
import math
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lms.questionformat.qtypes import NAMES as QUESTION_TYPE_NAMES
from lms.questionformat.questions import (
    Answer,
    MatchPair,
    NumericalAnswer,
    Question,
    question_to_dict,
    truefalse_answers,
)
from lms.quizzes import grading
from lms.quizzes.grading import (
    QUESTION_TYPES,
    Grade,
    InvalidResponse,
    grade,
    normalise_response,
    parse_number,
    strip_diacritics,
)


def snap(kind: str, **fields) -> dict:
    return question_to_dict(Question(kind, "q", "Question?", **fields))


weights = st.integers(-100, 100).map(lambda p: p / 100) | st.floats(-1, 1)
answer_lists = st.lists(st.builds(Answer, st.text(max_size=5), weights), min_size=1, max_size=6)


# --- the registry ----------------------------------------------------------------------------------


def test_registry_has_a_row_for_every_question_type():
    assert set(QUESTION_TYPES) == set(QUESTION_TYPE_NAMES)
    assert all(row.name == name for name, row in QUESTION_TYPES.items())
    assert [name for name, row in QUESTION_TYPES.items() if not row.scored] == ["description"]


def test_the_type_table_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        QUESTION_TYPES["essay"] = dataclasses.replace(QUESTION_TYPES["essay"], scored=True)  # type: ignore[index]


def test_unknown_type_is_an_invalid_response():
    with pytest.raises(InvalidResponse):
        grade({"type": "cloze"}, "x")


# --- single choice ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(answer_lists, st.data())
def test_single_choice_scores_the_chosen_weight_floored_at_zero(answers, data):
    index = data.draw(st.integers(0, len(answers) - 1))
    result = grade(snap("single", answers=answers), index)
    assert result.fraction == max(0.0, answers[index].weight)
    assert 0 <= result.fraction <= 1 and not result.needs_manual
    assert result.detail == {"answer": index}


@settings(deadline=None)
@given(answer_lists, st.data())
def test_single_choice_order_of_choices_is_irrelevant(answers, data):
    order = data.draw(st.permutations(range(len(answers))))
    index = data.draw(st.integers(0, len(answers) - 1))
    shuffled = [answers[i] for i in order]
    assert (
        grade(snap("single", answers=answers), index).fraction
        == grade(snap("single", answers=shuffled), order.index(index)).fraction
    )


def test_single_choice_accepts_form_strings_and_rejects_bad_indexes():
    s = snap("single", answers=[Answer("a", 0.0), Answer("b", 1.0)])
    assert grade(s, "1").fraction == 1.0
    assert grade(s, None) == Grade(0.0, detail={"answer": None})
    for bad in (2, -1, "x", True, 1.5):
        with pytest.raises(InvalidResponse):
            grade(s, bad)


# --- multiple response -----------------------------------------------------------------------------


@settings(deadline=None)
@given(answer_lists, st.data())
def test_multi_scores_the_sum_of_chosen_weights_floored_and_capped(answers, data):
    chosen = data.draw(st.lists(st.integers(0, len(answers) - 1), max_size=8))
    result = grade(snap("multi", answers=answers), chosen)
    total = math.fsum(answers[i].weight for i in set(chosen))
    assert result.fraction == min(1.0, max(0.0, total))
    assert 0 <= result.fraction <= 1


@settings(deadline=None)
@given(answer_lists, st.data())
def test_multi_order_of_choices_and_of_the_response_is_irrelevant(answers, data):
    chosen = data.draw(st.lists(st.integers(0, len(answers) - 1), unique=True))
    order = data.draw(st.permutations(range(len(answers))))
    shuffled = [answers[i] for i in order]
    base = grade(snap("multi", answers=answers), chosen).fraction
    assert grade(snap("multi", answers=answers), list(reversed(chosen))).fraction == base
    moved = [order.index(i) for i in chosen]
    assert grade(snap("multi", answers=shuffled), moved).fraction == pytest.approx(base)


@settings(deadline=None)
@given(st.lists(st.integers(-100, -1).map(lambda p: p / 100), min_size=1, max_size=5))
def test_multi_negative_weights_are_floored_at_zero(negative):
    answers = [Answer("right", 1.0)] + [Answer(f"wrong {i}", w) for i, w in enumerate(negative)]
    s = snap("multi", answers=answers)
    assert grade(s, list(range(1, len(answers)))).fraction == 0.0
    assert grade(s, [0]).fraction == 1.0
    assert grade(s, list(range(len(answers)))).fraction == max(0.0, math.fsum([1.0, *negative]))


def test_multi_choosing_everything_cannot_beat_the_right_set():
    s = snap(
        "multi",
        answers=[Answer("a", 0.5), Answer("b", 0.5), Answer("c", -1.0), Answer("d", -1.0)],
    )
    assert grade(s, [0, 1]).fraction == 1.0
    assert grade(s, [0, 1, 2, 3]).fraction == 0.0
    assert grade(s, ["1", "0", "0"]).detail == {"answers": [0, 1]}
    for bad in (1.5, {"0": True}, [7]):
        with pytest.raises(InvalidResponse):
            grade(s, bad)


# --- true/false ------------------------------------------------------------------------------------


@pytest.mark.parametrize("correct", [True, False])
def test_truefalse_right_statement_scores_one(correct):
    s = snap("truefalse", answers=truefalse_answers(correct, "right", "wrong"))
    assert grade(s, correct).fraction == 1.0
    assert grade(s, not correct).fraction == 0.0
    assert grade(s, "true" if correct else "false").fraction == 1.0
    assert grade(s, "Đúng" if correct else "Sai").fraction == 1.0
    assert grade(s, None).fraction == 0.0


def test_truefalse_rejects_other_words():
    s = snap("truefalse", answers=truefalse_answers(True))
    with pytest.raises(InvalidResponse):
        grade(s, "maybe")


# --- short answer ----------------------------------------------------------------------------------


def short(*answers: Answer, **options) -> dict:
    return snap("short", answers=answers, **options)


def test_short_answer_ignores_case_by_default():
    s = short(Answer("Hội đồng Nhân quyền", 1.0))
    assert grade(s, "HỘI ĐỒNG NHÂN QUYỀN").fraction == 1.0
    assert grade(short(Answer("Hà Nội", 1.0), ignore_case=False), "hà nội").fraction == 0.0


def test_short_answer_ignores_vietnamese_diacritics_only_when_enabled():
    answer = Answer("quyền con người", 1.0)
    assert grade(short(answer, ignore_diacritics=True), "quyen con nguoi").fraction == 1.0
    assert grade(short(answer), "quyen con nguoi").fraction == 0.0


def test_short_answer_folds_d_with_stroke():
    s = short(Answer("Đảng", 1.0), ignore_diacritics=True)
    assert grade(s, "dang").fraction == 1.0
    assert grade(s, "DANG").fraction == 1.0
    assert strip_diacritics("Đường đi") == "Duong di"


def test_short_answer_accepts_decomposed_input():
    nfd = unicodedata.normalize("NFD", "quyền con người")
    assert nfd != "quyền con người"
    assert grade(short(Answer("quyền con người", 1.0)), nfd).fraction == 1.0
    assert grade(short(Answer(nfd, 1.0)), "quyền con người").fraction == 1.0


def test_short_answer_collapses_whitespace():
    assert grade(short(Answer("con  người", 1.0)), "  con \t người\n").fraction == 1.0


def test_short_answer_star_is_a_wildcard_and_backslash_star_a_star():
    s = short(Answer("Hội đồng *", 0.5), Answer("2\\*3", 1.0))
    assert grade(s, "Hội đồng Bảo an").fraction == 0.5
    assert grade(s, "Hội đồng ").fraction == 0.0  # whitespace is trimmed before matching
    assert grade(s, "2*3").fraction == 1.0
    assert grade(s, "2x3").fraction == 0.0
    assert grade(short(Answer("*", 1.0)), "anything").fraction == 1.0


def test_short_answer_wildcard_does_not_make_other_characters_special():
    s = short(Answer("a.b (c)?", 1.0))
    assert grade(s, "a.b (c)?").fraction == 1.0
    assert grade(s, "axb (c)").fraction == 0.0


def test_short_answer_best_weighted_match_wins():
    s = short(Answer("*", 0.0, "catch-all"), Answer("nhân *", 0.5), Answer("nhân quyền", 1.0))
    assert grade(s, "nhân quyền") == Grade(1.0, detail={"answer": 2})
    assert grade(s, "nhân đạo") == Grade(0.5, detail={"answer": 1})
    assert grade(s, "khác") == Grade(0.0, detail={"answer": 0})
    assert grade(s, "") == Grade(0.0, detail={"answer": None})


@settings(deadline=None)
@given(st.text(alphabet="aăâđeêioôơuưyAĂÂĐEÊIOÔƠUƯY áàảãạ", min_size=1, max_size=12))
def test_short_answer_without_marks_matches_when_diacritics_are_ignored(text):
    assume(text.strip())
    s = short(Answer(text, 1.0), ignore_diacritics=True)
    assert grade(s, strip_diacritics(text).upper()).fraction == 1.0
    assert grade(s, unicodedata.normalize("NFD", text)).fraction == 1.0


# --- numerical -------------------------------------------------------------------------------------


def numeric(*answers: NumericalAnswer) -> dict:
    return snap("numerical", numerical=answers)


def test_numerical_tolerance_includes_its_bounds():
    s = numeric(NumericalAnswer(3.14, 0.01))
    for typed in ("3.14", "3.13", "3.15", "3,15", " 3.1400 "):
        assert grade(s, typed).fraction == 1.0, typed
    assert grade(s, "3.16").fraction == 0.0
    assert grade(s, 3.14).fraction == 1.0


def test_numerical_range():
    s = numeric(NumericalAnswer(minimum=1, maximum=5))
    assert [grade(s, t).fraction for t in ("1", "5", "0.99", "5.01")] == [1.0, 1.0, 0.0, 0.0]


def test_numerical_best_weight_wins():
    s = numeric(NumericalAnswer(1822, 2, weight=0.5), NumericalAnswer(1822, 0, weight=1.0))
    assert grade(s, "1822") == Grade(1.0, detail={"answer": 1})
    assert grade(s, "1821") == Grade(0.5, detail={"answer": 0})


def test_numerical_not_a_number_scores_zero():
    assert grade(numeric(NumericalAnswer(2)), "hai").detail == {
        "answer": None,
        "not_a_number": True,
    }


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("3,14", 3.14),
        ("3.14", 3.14),
        ("-2", -2.0),
        ("\u22122,5", -2.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1e3", 1000.0),
        ("１２", 12.0),
        ("1,2,3", None),
        ("1.2.3", None),
        ("12,34.5", None),
        ("", None),
        ("nan", None),
        ("1e999", None),
    ],
)
def test_numbers_accept_a_decimal_comma(typed, value):
    assert parse_number(typed) == value


# --- matching --------------------------------------------------------------------------------------


def matching() -> dict:
    return snap(
        "matching",
        pairs=[MatchPair("ICCPR", "civil"), MatchPair("CRC", "children"), MatchPair("", "trade")],
    )


def test_matching_scores_the_share_of_items_matched_right():
    s = matching()
    assert grade(s, {0: "civil", 1: "children"}).fraction == 1.0
    assert grade(s, {0: "civil", 1: "trade"}).fraction == 0.5
    assert grade(s, {"1": "children"}).fraction == 0.5  # JSON turns keys into strings
    assert grade(s, {}).fraction == 0.0


def test_matching_rejects_a_distractor_as_an_item():
    with pytest.raises(InvalidResponse):
        grade(matching(), {2: "trade"})


# --- essay and description -------------------------------------------------------------------------


def test_essay_needs_a_trainer_and_has_no_fraction_until_graded():
    assert grade(snap("essay"), "Bài viết của tôi") == Grade(None, needs_manual=True)


def test_blank_essay_scores_zero_without_a_trainer():
    assert grade(snap("essay"), "  ") == Grade(0.0, detail={"blank": True})


def test_description_is_not_graded():
    result = grade(snap("description"), "anything")
    assert result.fraction == 0.0 and not result.needs_manual
    assert not QUESTION_TYPES["description"].scored


# --- properties over every type ----------------------------------------------------------------


def gradable_snapshots():
    texts = st.text(alphabet="abcđê *", min_size=1, max_size=6)
    numbers = st.floats(-1e6, 1e6)
    return st.one_of(
        answer_lists.map(lambda a: snap("single", answers=a)),
        answer_lists.map(lambda a: snap("multi", answers=a)),
        st.booleans().map(lambda c: snap("truefalse", answers=truefalse_answers(c))),
        st.lists(st.builds(Answer, texts, weights.map(abs)), min_size=1, max_size=4).map(
            lambda a: snap("short", answers=a)
        ),
        st.lists(
            st.builds(NumericalAnswer, numbers, st.floats(0, 10), weight=weights.map(abs)),
            min_size=1,
            max_size=3,
        ).map(lambda n: snap("numerical", numerical=n)),
        st.lists(st.builds(MatchPair, texts, texts), min_size=1, max_size=4).map(
            lambda p: snap("matching", pairs=p)
        ),
    )


def any_response(snapshot: dict, data) -> object:
    kind = snapshot["type"]
    size = len(snapshot["answers"])
    if kind == "single":
        return data.draw(st.none() | st.integers(0, size - 1))
    if kind == "multi":
        return data.draw(st.lists(st.integers(0, size - 1)))
    if kind == "truefalse":
        return data.draw(st.none() | st.booleans())
    if kind == "short":
        return data.draw(st.text(alphabet="abcđê *ABC", max_size=6))
    if kind == "numerical":
        return data.draw(st.text(alphabet="0123456789.,-e ", max_size=8) | st.floats().map(str))
    rights = [p["right"] for p in snapshot["pairs"]]
    return data.draw(
        st.dictionaries(st.integers(0, len(rights) - 1), st.sampled_from(rights), max_size=4)
    )


@settings(deadline=None)
@given(gradable_snapshots(), st.data())
def test_every_grade_is_within_zero_and_one(snapshot, data):
    response = any_response(snapshot, data)
    result = grade(snapshot, response)
    assert result.fraction is not None and 0.0 <= result.fraction <= 1.0
    assert not result.needs_manual


@settings(deadline=None)
@given(gradable_snapshots(), st.data())
def test_grading_a_json_round_tripped_snapshot_and_response_gives_the_same_grade(snapshot, data):
    response = any_response(snapshot, data)
    stored = json.loads(json.dumps(snapshot))
    stored_response = json.loads(json.dumps(normalise_response(snapshot, response)))
    assert grade(stored, stored_response).fraction == grade(snapshot, response).fraction


@settings(deadline=None)
@given(gradable_snapshots(), st.data())
def test_normalising_a_response_is_idempotent(snapshot, data):
    once = normalise_response(snapshot, any_response(snapshot, data))
    assert normalise_response(snapshot, once) == once


def test_short_answer_wildcards_take_linear_time_on_long_responses():
    """Rule: a typed answer cannot make wildcard matching backtrack (a regex took O(n^3) here)."""
    import time

    s = short(Answer("*a*a*b", 1.0), Answer("quyền*con*người", 1.0))
    started = time.perf_counter()
    assert grade(s, "a" * 3_000).fraction == 0.0
    assert time.perf_counter() - started < 0.5  # the regular expression took about 8 s
    assert grade(s, "a" * 20_000).fraction == 0.0  # the longest answer a form accepts
    assert grade(s, "quyền " + "con " * 4_000).fraction == 0.0
    assert time.perf_counter() - started < 1.0
    assert grade(s, "xaya" + "a" * 5_000 + "b").fraction == 1.0
    assert grade(s, "quyền của con người").fraction == 1.0


@settings(deadline=None)
@given(st.text(alphabet="ab*\\ ", max_size=8), st.text(alphabet="ab* \\", max_size=10))
def test_short_answer_wildcards_match_as_the_moodle_pattern_does(answer, typed):
    """Rule: ``*`` is any text and ``\\*`` a star, exactly as the regular expression read them."""
    import re

    pieces = [p.replace("\\*", "*") for p in re.split(r"(?<!\\)\*", " ".join(answer.split()))]
    pattern = ".*".join(re.escape(p) for p in pieces)
    expected = re.fullmatch(pattern, " ".join(typed.split()), re.DOTALL) is not None
    assert grading.short_answer_matches(answer, typed) == expected
