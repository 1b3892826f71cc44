"""GIFT read with the meaning Moodle's own reader gives it (qformat_gift and its tests as the spec).

Each test names a construct Moodle accepts; the fixtures are our own questions written with it.
"""

from __future__ import annotations

import pytest

from lms.questionformat.gift import category_path, export_gift, parse_gift
from lms.questionformat.questions import MatchPair, question_to_dict
from lms.quizzes import grading


def one(text: str):
    result = parse_gift(text)
    assert result.errors == [], [str(e) for e in result.errors]
    [question] = result.questions
    return question, result


def test_numerical_any_other_answer_feedback_is_read_and_graded():
    question, _ = one("::n:: In which year was the UDHR adopted? {#1948:2 ~#Completely wrong}")
    assert question.type == "numerical"
    right, other = question.numerical
    assert (right.value, right.tolerance, right.weight) == (1948, 2, 1.0)
    assert other.other and other.weight == 0 and other.feedback == "Completely wrong"
    snapshot = question_to_dict(question)
    assert grading.grade(snapshot, "1949").fraction == 1.0
    wrong = grading.grade(snapshot, "1900")
    assert wrong.fraction == 0.0 and snapshot["numerical"][wrong.detail["answer"]]["other"]


def test_numerical_any_other_answer_after_several_weighted_answers():
    question, _ = one("::n:: Year? {#\n=1948:0#Right\n=%50%1948:3#Close\n~#No: 1948\n}")
    assert [(n.weight, n.other) for n in question.numerical] == [(1, False), (0.5, False), (0, True)]
    assert parse_gift(export_gift([question])).questions == [question]


def test_numerical_other_answer_keeps_existing_content_hashes():
    """Questions stored before "any other answer" existed keep their snapshot form (and hash)."""
    question, _ = one("::n:: Year? {#1948}")
    assert "other" not in question_to_dict(question)["numerical"][0]


def test_repeated_names_are_all_read():
    result = parse_gift("::Q1:: First {T}\n\n::Q1:: Second {F}\n\n::Q1:: Third {T}")
    assert result.errors == []
    assert [q.text for q in result.questions] == ["First", "Second", "Third"]


def test_per_answer_plain_format_in_an_html_question_is_shown_as_written():
    question, result = one(
        "[html]Which tag makes text <b>bold</b>?{=[plain]<b> ~[plain]<i> ~[plain]<u>}"
    )
    assert question.text_format == "html"
    assert question.text == "Which tag makes text <b>bold</b>?"
    assert [a.text for a in question.answers] == ["&lt;b&gt;", "&lt;i&gt;", "&lt;u&gt;"]
    assert "converted to HTML" in result.notes[question.line][0]


def test_matching_items_in_four_formats_as_in_moodles_test():
    question, _ = one(
        "::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
        "    =[html]An activity supporting asynchronous discussions. -> Forum\n"
        "    =[moodle]A teacher asks a question and specifies a choice of responses. -> Choice\n"
        "    =[plain]A bank of record entries which participants can add to. -> Database\n"
        "    =[markdown]A collection of web pages that anyone can *edit*. -> Wiki\n"
        "    = -> Chat\n}"
    )
    assert question.type == "matching" and question.text_format == "html"
    assert [p.right for p in question.pairs] == ["Forum", "Choice", "Database", "Wiki", "Chat"]
    assert question.pairs[3].left == "A collection of web pages that anyone can <em>edit</em>."
    assert question.pairs[4] == MatchPair("", "Chat")


def test_plain_words_in_another_format_need_no_conversion():
    question, result = one(
        "::Q2:: What's between orange and green in the spectrum?\n{\n"
        "    =yellow # right; good!\n    ~red # [html]wrong, it's yellow\n"
        "    ~[plain]blue # wrong, it's yellow\n}"
    )
    assert question.text_format == "moodle" and result.notes == {}
    assert [(a.text, a.weight, a.feedback) for a in question.answers] == [
        ("yellow", 1, "right; good!"), ("red", 0, "wrong, it's yellow"),
        ("blue", 0, "wrong, it's yellow"),
    ]


def test_multiple_response_with_negative_weights_as_in_moodles_test():
    question, _ = one(
        "::colours:: What's between orange and green in the spectrum?\n{\n"
        "    ~%50%yellow # right; good!\n    ~%-100%red # [html]wrong\n"
        "    ~%50%off-beige # right; good!\n    ~%-100%[plain]blue # wrong\n}"
    )
    assert question.type == "multi"
    assert [a.weight for a in question.answers] == [0.5, -1, 0.5, -1]


def test_one_word_without_equals_is_a_short_answer():
    question, _ = one("::s:: Who is buried in Grant's tomb? {Grant}")
    assert question.type == "short"
    assert [(a.text, a.weight) for a in question.answers] == [("Grant", 1.0)]


def test_weights_that_round_to_100_percent_are_accepted_with_a_note():
    question, result = one("::m:: Pick the three. {~%33.3%a ~%33.3%b ~%33.3%c ~%-100%d}")
    assert question.type == "multi"
    assert "99.9" in result.notes[1][0]


def test_course_context_and_top_are_not_part_of_the_category():
    result = parse_gift("$CATEGORY: $course$/top/Default for HR 101/Quyền con người\n\n::q:: x {T}")
    assert result.questions[0].category == "Default for HR 101/Quyền con người"
    assert category_path("$system$/top") == ""
    assert category_path("top/A//B") == "A/B"


def test_empty_category_line_returns_to_no_category():
    result = parse_gift("$CATEGORY: A\n\n::a:: x {T}\n\n$CATEGORY:\n\n::b:: y {T}")
    assert [q.category for q in result.questions] == ["A", ""]


def test_truefalse_words_are_upper_case_as_in_moodle():
    lower, result = one("::t:: Is it? {true}")
    assert lower.type == "short" and "{TRUE}" in result.notes[1][0]
    upper, _ = one("::t:: Is it? {TRUE#no#yes#really}")
    assert upper.type == "truefalse"
    assert upper.answers[0].feedback == "yes#really"  # Moodle splits at the first two '#'


def test_essay_with_general_feedback_only():
    question, _ = one("::Q8:: How are you? {####Thanks for answering.}")
    assert question.type == "essay" and question.general_feedback == "Thanks for answering."


def test_last_four_hashes_start_the_general_feedback():
    question, _ = one("::g:: Which? {=a#one ~b ####General ####really}")
    assert question.general_feedback == "really"


def test_unclosed_name_is_text_with_a_note():
    question, result = one(":: Which year? {#2013}")
    assert question.text == "Which year?" and result.notes


def test_empty_answers_are_left_out_with_a_note():
    question, result = one("::e:: Which? {=a ~b ~}")
    assert [a.text for a in question.answers] == ["a", "b"]
    assert "left out" in result.notes[1][0]


@pytest.mark.parametrize("text", ["::q:: A \x00 B {T}", "::q:: Which? {=a\x07 ~b}"])
def test_control_characters_are_errors_before_any_database(text):
    result = parse_gift(text)
    [error] = result.errors
    assert error.kind == "limit" and "U+00" in error.message


def test_overlong_category_is_an_error_and_overlong_name_is_shortened():
    result = parse_gift("$CATEGORY: " + "c" * 300 + "\n\n::q:: x {T}\n\n$CATEGORY: A\n\n::"
                        + "n" * 300 + ":: y {T}")
    [error] = result.errors
    assert error.kind == "limit" and "255" in error.message
    [question] = result.questions
    assert len(question.name) == 255 and result.notes[question.line]


def test_errors_carry_a_column_a_kind_and_their_source_text():
    result = parse_gift("::a:: ok {T}\n\n::b:: Which?\n  {=a ~%150%b}")
    [error] = result.errors
    assert (error.line, error.column, error.kind) == (4, 8, "weight")
    assert error.raw == "::b:: Which?\n  {=a ~%150%b}"


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def fixture(name: str):
    from lms.quizzes import importing

    return importing.read_question_file((FIXTURES / name).read_bytes(), name)


def test_every_construct_of_moodles_reader_imports_from_one_file():
    result = fixture("moodle_constructs.gift")
    assert result.errors == []
    kinds = [(q.name, q.type) for q in result.questions]
    assert len(kinds) == 18 and ("Q1", "truefalse") in kinds and kinds.count(("Q1", "truefalse")) == 2
    assert all(q.category.startswith("Default for Bồi dưỡng/") for q in result.questions)
    by_name = {q.name: q for q in result.questions}
    assert by_name["Q4"].type == "short" and by_name["three"].type == "multi"
    assert by_name["Q7"].numerical[-1].other and by_name["Q10"].idnumber == "HR-001"


def test_a_bank_in_the_style_of_moodles_gift_exporter_imports_whole():
    result = fixture("moodle_exporter_style.gift")
    assert result.errors == [] and len(result.questions) == 9
    q = {(q.name, q.text): q for q in result.questions}
    numerical = next(x for x in result.questions if x.type == "numerical")
    assert numerical.numerical[-1].other and numerical.numerical[-1].feedback == "<p>Sai.</p>"
    assert {x.category for x in result.questions} == {"Default for HR 101/Báo chí"}
    assert [x.name for x in result.questions].count("Người phát ngôn") == 2
    assert len(q) == 9


def test_aiken_txt_without_space_after_the_letter():
    result = fixture("aiken_no_space.txt")
    assert result.format == "aiken" and result.errors == [] and len(result.questions) == 2
