"""Aiken import: single-choice questions, precise errors with line numbers, recovery after each."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.questionformat.aiken import parse_aiken

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_good_file_gives_single_choice_questions_with_the_answer_letter_right():
    result = parse_aiken(load("good.aiken.txt"), "good.aiken.txt")
    assert result.errors == []
    assert [q.type for q in result.questions] == ["single"] * 3
    first, second, third = result.questions
    assert [a.text for a in first.answers] == [
        "Chapter I",
        "Chapter II",
        "Chapter III",
        "Chapter IV",
    ]
    assert [a.weight for a in first.answers] == [0.0, 1.0, 0.0, 0.0]
    assert [a.weight for a in second.answers] == [0.0, 1.0, 0.0]
    assert second.answers[1].text == "Hội đồng Nhân quyền"
    # Blank lines between questions are optional, and the answer letter may be lower case.
    assert third.answers[1].weight == 1.0
    assert [q.line for q in result.questions] == [1, 8, 13]
    assert first.text_format == "plain"
    # Aiken has no names: a question is named after its text, shortened like Moodle does.
    assert (
        first.name
        == "Which chapter of the 2013 Constitution is about human rights and citizens' duti…"
    )


def test_options_may_use_a_dot_or_a_parenthesis():
    result = parse_aiken("Q?\nA. one\nB) two\nANSWER: A")
    assert [a.text for a in result.questions[0].answers] == ["one", "two"]


def test_windows_line_endings_bom_and_decomposed_text():
    text = "\ufeffQuye\u0302\u0300n?\r\nA. co\u0301\r\nB. không\r\nANSWER: A\r\n"
    result = parse_aiken(text)
    assert result.errors == []
    assert result.questions[0].text == "Quyền?"
    assert result.questions[0].answers[0].text == "có"


def test_question_text_may_span_several_lines():
    result = parse_aiken("First line\nsecond line?\nA. x\nB. y\nANSWER: B")
    assert result.questions[0].text == "First line\nsecond line?"


def test_same_text_twice_gets_distinct_names():
    result = parse_aiken("Q?\nA. x\nB. y\nANSWER: A\n\nQ?\nA. x\nB. y\nANSWER: B")
    assert [q.name for q in result.questions] == ["Q?", "Q? (2)"]


def test_bad_file_reports_every_bad_question_at_its_line_and_keeps_the_good_ones():
    text = load("bad.aiken.txt")
    lines = text.split("\n")

    def line_of(fragment: str, after: str = "") -> int:
        start = lines.index(after) if after else 0
        return next(i for i in range(start, len(lines)) if lines[i].startswith(fragment)) + 1

    result = parse_aiken(text, "bad.aiken.txt")
    assert [q.text for q in result.questions] == [
        "Good question one?",
        "Good question two?",
        "Good question three?",
    ]
    assert [(e.line, e.question) for e in result.errors] == [
        (line_of("ANSWER: E"), "Question whose answer letter is not an option?"),
        # Reported at its last option: that is where the ANSWER line is missing.
        (line_of("Good question two?") - 1, "Question that lost its ANSWER line?"),
        (line_of("ANSWER", after="Question with one option?"), "Question with one option?"),
        (line_of("A. two"), "Question with a repeated letter?"),
        (line_of("A. an option with no question"), None),
        (len(lines) - 1, "Question that never ends?"),
    ]


def test_error_messages_name_the_problem():
    result = parse_aiken(load("bad.aiken.txt"))
    messages = [e.message for e in result.errors]
    assert "ANSWER: E is not one of the options (A, B)" in messages[0]
    assert "no 'ANSWER:' line" in messages[1] and "line 14" in messages[1]
    assert "at least two options" in messages[2]
    assert "Option A appears more than once" in messages[3]
    assert "comes before any question text" in messages[4]
    assert "no 'ANSWER:' line" in messages[5]
    assert all("%(" not in m for m in messages)


def test_answer_without_a_question_and_question_without_options():
    result = parse_aiken("ANSWER: A\n\nJust a question?\n")
    assert [(e.line, e.message) for e in result.errors] == [
        (1, "ANSWER: line without a question above it."),
        (3, "The question has no options: write them as 'A. text' under it."),
    ]


def test_empty_option_is_an_error():
    result = parse_aiken("Q?\nA. \nB. two\nANSWER: B\n\nQ2?\nA. x\nB. y\nANSWER: A")
    assert [e.line for e in result.errors] == [2]
    assert [q.text for q in result.questions] == ["Q2?"]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("ABCD.) \n\r:xyzANSWERđ")), max_size=200))
def test_parser_never_raises_and_lines_are_real(text):
    result = parse_aiken(text)
    count = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    assert all(1 <= e.line <= count for e in result.errors)
    assert all(1 <= q.line <= count for q in result.questions)
