"""GIFT export and import are inverses: ``parse_gift(export_gift(qs)).questions == qs``.

The questions are generated with awkward text: GIFT's control characters, backslashes, line breaks,
format tags, percent signs, the missing-word blank and Vietnamese with all its diacritics.
"""

from __future__ import annotations

import math
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
from tests.quizzes import moodle_gift_reference as moodle

VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
ALPHABET = string.ascii_letters + string.digits + " \t\n~=#{}:\\[]%->/_*.,!?'\"" + VIETNAMESE
AWKWARD = [
    "_____",
    "->",
    "[html]",
    "[note]",
    "[Markdown]",
    "%50%",
    "%5.%",
    "%--5%",
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
# Moodle reads a $CATEGORY line without undoing escapes, so export_gift refuses these categories.
MOODLE_MANGLED_CATEGORY = re.compile(r"\\[\\:#={}~n]")


def moodle_can_say(category: str) -> bool:
    return MOODLE_MANGLED_CATEGORY.search(category) is None


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
                                single_line.map(category_path).filter(moodle_can_say))),
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


def _same_fraction(moodle_fraction: float, weight: float) -> bool:
    return math.isclose(moodle_fraction, weight, rel_tol=1e-9, abs_tol=1e-12)


def _answers_as_moodle_reads_them(read: moodle.RefQuestion, question: Question) -> None:
    assert [a.text for a in read.answers] == [a.text for a in question.answers]
    assert [a.feedback for a in read.answers] == [a.feedback for a in question.answers]
    for seen, meant in zip(read.answers, question.answers, strict=True):
        assert _same_fraction(seen.fraction, meant.weight), (seen, meant)


def assert_moodle_reads_the_same(read: moodle.RefQuestion, question: Question) -> None:
    """What Moodle's reader makes of one exported question is the question lms meant."""
    kinds = {"single": "multichoice", "multi": "multichoice", "truefalse": "truefalse",
             "short": "shortanswer", "numerical": "numerical", "matching": "match",
             "essay": "essay", "description": "description"}
    assert read.qtype == kinds[question.type]
    assert (read.name, read.text, read.text_format) == (question.name, question.text,
                                                       question.text_format)
    assert read.category == question.category
    assert read.general_feedback == question.general_feedback
    assert (read.idnumber, read.tags) == (question.idnumber, list(question.tags))
    if question.type in ("single", "multi"):
        assert read.single is (question.type == "single")
        _answers_as_moodle_reads_them(read, question)
    elif question.type == "short":
        _answers_as_moodle_reads_them(read, question)
    elif question.type == "truefalse":
        by_text = {a.text: a for a in question.answers}
        assert read.correct is question.correct_answer
        assert (read.feedback_true, read.feedback_false) == (by_text["true"].feedback,
                                                             by_text["false"].feedback)
    elif question.type == "matching":
        assert read.pairs == [(p.left, p.right) for p in question.pairs]
    elif question.type == "numerical":
        assert len(read.numbers) == len(question.numerical)
        for seen, meant in zip(read.numbers, question.numerical, strict=True):
            assert seen.feedback == meant.feedback
            assert _same_fraction(seen.fraction, meant.weight), (seen, meant)
            if meant.other:
                assert seen.answer == "*"
            elif meant.is_range:
                assert (float(seen.low), float(seen.high)) == (meant.minimum, meant.maximum)
            else:
                assert (float(seen.answer), seen.tolerance) == (meant.value, meant.tolerance)


@settings(max_examples=300, deadline=None)
@given(question_lists)
def test_gift_export_is_read_by_moodles_grammar_with_the_same_meaning(qs):
    exported = export_gift(qs)
    try:
        read = moodle.read(exported)
    except moodle.MoodleRefused as refused:
        raise AssertionError(f"Moodle's reader refuses: {refused}\n{exported}") from refused
    assert len(read) == len(qs), exported
    for seen, meant in zip(read, qs, strict=True):
        assert_moodle_reads_the_same(seen, meant)


def test_reference_reader_follows_moodles_documented_examples():
    """The reference reader itself is checked on GIFT written by hand, as Moodle's documentation shows it."""
    text = (
        "// [tag:rights] [id:Q1]\n"
        "::Q1:: Who wrote the Universal Declaration? {=A committee ~One man#No. ~%50%Half}\n"
        "\n"
        "$CATEGORY: $course$/top/Law/Treaties\n"
        "\n"
        "::Q2:: Vietnam joined the ICCPR in 1982.{T#Wrong#Right}\n"
        "\n"
        "::Q3:: Two plus two {=four =%50%for#close ####Count again}\n"
        "\n"
        "::Q4:: Pi to two places {#3.14:0.005 ~#Completely wrong}\n"
        "\n"
        "::Q5:: Match {=Hà Nội -> Việt Nam =Paris -> France = -> Japan}\n"
        "\n"
        "::Q6:: The ICCPR has {#1..60} articles? No, the _____ missing word {=53} case.\n"
        "\n"
        "::Q7:: [html]Explain <b>why</b>.{}\n"
        "\n"
        "::Q8:: Just words, with a \\{ literal brace\\}.\n"
        "\n"
        "::Q9:: Pick all {~%50%a ~%50%b ~%-100%c}\n"
    )
    read = moodle.read(text)
    assert [q.qtype for q in read] == ["multichoice", "truefalse", "shortanswer", "numerical", "match",
                                       "numerical", "essay", "description", "multichoice"]
    q1, q2, q3, q4, q5, q6, q7, q8, q9 = read
    assert (q1.idnumber, q1.tags, q1.single, q1.category) == ("Q1", ["rights"], True, "")
    assert [(a.text, a.fraction, a.feedback) for a in q1.answers] == [
        ("A committee", 1.0, ""), ("One man", 0.0, "No."), ("Half", 0.5, "")]
    assert (q2.category, q2.correct, q2.feedback_true, q2.feedback_false) == (
        "Law/Treaties", True, "Right", "Wrong")
    assert [(a.text, a.fraction, a.feedback) for a in q3.answers] == [
        ("four", 1.0, ""), ("for", 0.5, "close")]
    assert q3.general_feedback == "Count again"
    assert [(n.answer, n.tolerance, n.fraction, n.feedback) for n in q4.numbers] == [
        ("3.14", 0.005, 1.0, ""), ("*", 0.0, 0.0, "Completely wrong")]
    assert q5.pairs == [("Hà Nội", "Việt Nam"), ("Paris", "France"), ("", "Japan")]
    # Only the first {...} is the answer block: the rest stays in the text, which Moodle keeps.
    assert q6.text.startswith("The ICCPR has _____ articles?")
    assert (q6.numbers[0].low, q6.numbers[0].high) == ("1", "60")
    assert (q7.text, q7.text_format) == ("Explain <b>why</b>.", "html")
    assert q8.text == "Just words, with a { literal brace}."
    assert q9.single is False and [a.fraction for a in q9.answers] == [0.5, 0.5, -1.0]


def test_export_refuses_a_category_moodle_would_store_under_another_name():
    question = Question(type="essay", name="Q", text="Why?", category="Luật\\nmới")
    try:
        export_gift([question])
    except ValueError as refused:
        assert "category" in str(refused)
    else:
        raise AssertionError("a category with a backslash-n was exported")


def test_an_answer_text_that_moodle_could_read_as_a_weight_gets_its_weight_written():
    question = Question(type="single", name="Q", text="Which?", answers=(
        Answer("Right", 1.0), Answer("%--5% off", 0.0), Answer("%5.% more", 0.0), Answer("%7%", 0.0)))
    exported = export_gift([question])
    (read,) = moodle.read(exported)
    assert [(a.text, a.fraction) for a in read.answers] == [
        ("Right", 1.0), ("%--5% off", 0.0), ("%5.% more", 0.0), ("%7%", 0.0)]
    assert parse_gift(exported).questions == [question]
