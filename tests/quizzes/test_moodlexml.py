"""Moodle XML: what Moodle's exporter writes is read with its meaning; lms's export round-trips."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.questionformat.moodlexml import export_moodle_xml, parse_moodle_xml

sys.path.insert(0, str(Path(__file__).parent))
from test_gift_roundtrip import questions as gift_questions  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def exported_by_moodle():
    return parse_moodle_xml((FIXTURES / "moodle_export.xml").read_bytes(), "moodle_export.xml")


def test_every_lms_type_from_moodles_exporter_is_read_and_other_types_are_refused_by_name():
    result = exported_by_moodle()
    assert [(q.name, q.type) for q in result.questions] == [
        ("udhr-year", "single"), ("treaty-bodies", "multi"), ("crc-party", "truefalse"),
        ("chapter", "short"), ("year", "numerical"), ("treaties", "matching"),
        ("press-release", "essay"), ("intro", "description"),
    ]
    [error] = result.errors
    assert error.question == "cloze" and "multianswer" in error.message and error.kind == "type"
    assert "<question type=\"multianswer\">" in error.raw


def test_category_tags_idnumber_points_and_feedback_come_across():
    result = exported_by_moodle()
    q = {q.name: q for q in result.questions}
    udhr = q["udhr-year"]
    assert udhr.category == "Default for Bồi dưỡng nhân quyền/Cơ bản"
    assert udhr.tags == ("udhr", "lịch sử") and udhr.idnumber == "UDHR-1"
    assert result.points[udhr.line] == 2.0 and result.points[q["press-release"].line] == 5.0
    assert udhr.general_feedback == "<p>Ngày 10/12/1948.</p>"
    assert [(a.weight, a.feedback) for a in udhr.answers][:2] == [
        (1.0, "<p>Đúng.</p>"), (0.0, "<p>Năm 1966 là hai công ước.</p>")]
    # A plain-text answer in an HTML question shows its tags as written.
    assert udhr.answers[2].text == "&lt;b&gt;1992&lt;/b&gt;" and udhr.answers[2].weight < 0
    assert q["crc-party"].correct_answer is True
    assert q["crc-party"].answers[0].feedback == "Đúng: từ năm 1990."
    assert q["chapter"].ignore_case is False
    year = q["year"].numerical
    assert [(n.value, n.tolerance, n.weight, n.other) for n in year] == [
        (1948, 0, 1, False), (1948, 2, 0.5, False), (None, 0, 0, True)]
    assert "units" in result.notes[q["year"].line][0]
    assert [p.right for p in q["treaties"].pairs] == ["dân sự, chính trị", "trẻ em", "môi trường"]


def test_embedded_images_become_data_urls_and_go_back_out_as_files():
    result = exported_by_moodle()
    udhr = result.questions[0]
    assert 'src="data:image/png;base64,iVBORw0KGgo' in udhr.text
    assert "@@PLUGINFILE@@" not in udhr.text
    out = export_moodle_xml([udhr])
    assert "@@PLUGINFILE@@/image-" in out and 'encoding="base64">iVBORw0KGgo' in out
    assert parse_moodle_xml(out).questions == [udhr]


def test_the_whole_moodle_export_round_trips_through_lms():
    first = exported_by_moodle()
    again = parse_moodle_xml(export_moodle_xml(first.questions))
    assert again.errors == [] and again.questions == first.questions


def test_doctype_entities_are_refused_before_expansion():
    laughs = ('<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
              "<quiz><question type=\"essay\"><name><text>&b;</text></name></question></quiz>")
    [error] = parse_moodle_xml(laughs).errors
    assert error.kind == "xml-unsafe"


def test_external_entities_are_refused_xxe():
    xxe = ('<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           "<quiz><question type=\"essay\"><questiontext><text>&x;</text></questiontext>"
           "</question></quiz>")
    result = parse_moodle_xml(xxe)
    assert result.questions == [] and result.errors[0].kind == "xml-unsafe"


def test_broken_xml_is_one_error_with_line_and_column():
    [error] = parse_moodle_xml("<quiz>\n<question type='essay'>\n<name></quiz>").errors
    assert error.kind == "xml" and error.line == 3 and error.column


def test_a_file_of_another_kind_is_refused():
    [error] = parse_moodle_xml("<html><body/></html>").errors
    assert "<quiz>" in error.message


def test_text_decoded_elsewhere_keeps_its_characters_whatever_the_declaration():
    xml = ('<?xml version="1.0" encoding="ISO-8859-1"?><quiz><question type="essay">'
           "<questiontext format=\"plain_text\"><text>Quyền con người</text></questiontext>"
           "</question></quiz>")
    assert parse_moodle_xml(xml).questions[0].text == "Quyền con người"


def test_control_characters_are_errors_not_database_crashes():
    xml = ("<quiz><question type=\"essay\"><questiontext><text>a&#x1;b</text></questiontext>"
           "</question></quiz>")
    result = parse_moodle_xml(xml)
    assert result.questions == [] and result.errors  # XML 1.0 itself refuses most of them


question_lists = st.lists(gift_questions(), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(question_lists)
def test_round_trip_export_then_import_gives_the_same_questions(qs):
    """Any bank lms holds goes out as Moodle XML and comes back equal (property)."""
    qs = sorted(qs, key=lambda q: q.category)
    exported = export_moodle_xml(qs)
    result = parse_moodle_xml(exported)
    assert result.errors == [], [str(e) for e in result.errors]
    assert result.questions == qs


def test_ordering_questions_go_both_ways_with_moodles_ordering_plugin():
    xml = ('<quiz><question type="ordering"><name><text>steps</text></name>'
           '<questiontext format="html"><text>Sắp xếp các bước</text></questiontext>'
           '<answer fraction="2" format="plain_text"><text>Hai</text></answer>'
           '<answer fraction="1" format="plain_text"><text>Một</text></answer>'
           '<answer fraction="3" format="plain_text"><text>Ba</text></answer></question></quiz>')
    [question] = parse_moodle_xml(xml).questions
    assert question.type == "ordering" and [a.text for a in question.answers] == ["Một", "Hai", "Ba"]
    assert parse_moodle_xml(export_moodle_xml([question])).questions == [question]


def test_data_images_render_in_question_text_but_nothing_else_with_data_urls():
    from lms.questionformat.qtypes.base import render_text

    html = render_text('<img src="data:image/png;base64,iVBORw0KGgo="><a href="data:text/html;'
                       'base64,PHNjcmlwdD4=">x</a><img src="data:image/svg+xml;base64,PHN2Zz4=">',
                       "html")
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "text/html" not in html and "svg" not in html
