"""The ordering question type: grading, form round trips, content files, the editor, taking and review.

It is also the proof that a type lives in one module: nothing here reaches outside qtypes/ordering.py,
its two templates and the table, except the shared seams every type uses.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lms.catalog.loader import load_content
from lms.extensions import db
from lms.questionformat import qtypes
from lms.questionformat.gift import export_gift_skipping, parse_gift
from lms.questionformat.qtypes import ordering
from lms.questionformat.qtypes.base import InvalidResponse
from lms.questionformat.qtypes.content import dump_content, parse_content
from lms.questionformat.questions import Answer, question_to_dict
from lms.questionformat.questions import Question as Q
from lms.quizzes import grading, presentation
from lms.quizzes.engine import Pick
from lms.quizzes.models import Question
from tests import factories
from tests.quizzes import factories_quizzes as fq
from tests.quizzes.test_attempts import load, start

VALID_ROOT = Path(__file__).parents[1] / "catalog" / "fixtures" / "valid"
TEMPLATES = Path(__file__).parents[2] / "templates" / "quizzes"
STEPS = ("Xác minh thông tin", "Soạn thông cáo", "Lãnh đạo duyệt", "Phát hành", "Theo dõi phản hồi")


def snap(n: int = 5) -> dict:
    items = tuple(Answer(f"Bước {i + 1}", 1.0) for i in range(n))
    return question_to_dict(Q("ordering", "q-order", "Sắp xếp", answers=items))


def as_response(order: list[int]) -> dict[int, int]:
    """The response that puts item ``order[k]`` at position k."""
    return {item: pos for pos, item in enumerate(order)}


# --- grading (pure) --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 9).flatmap(lambda n: st.permutations(range(n))))
def test_every_permutation_scores_between_0_and_1_and_full_marks_only_in_the_right_order(order):
    fraction = grading.grade(snap(len(order)), as_response(list(order))).fraction
    assert 0.0 <= fraction <= 1.0
    assert (fraction == 1.0) == (list(order) == sorted(order))


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 9).flatmap(lambda n: st.permutations(range(n))))
def test_a_response_and_its_json_round_trip_score_the_same(order):
    response = as_response(list(order))
    stored = {str(k): str(v) for k, v in response.items()}
    assert grading.grade(snap(len(order)), stored) == grading.grade(snap(len(order)), response)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_the_reversed_order_scores_nothing_and_moving_one_item_costs_one_step(n):
    assert grading.grade(snap(n), as_response(list(range(n))[::-1])).fraction == 0.0
    moved = list(range(1, n)) + [0]  # the first step done last
    assert grading.grade(snap(n), as_response(moved)).fraction == pytest.approx((n - 2) / (n - 1))


def test_items_left_out_or_sharing_a_position_are_not_placed_and_blank_scores_zero():
    s = snap(4)
    assert grading.grade(s, {}).fraction == 0.0
    assert grading.grade(s, None).fraction == 0.0
    # Items 0, 1, 2 in order, item 3 without a position: two steps of three.
    assert grading.grade(s, {0: 0, 1: 1, 2: 2}).fraction == pytest.approx(2 / 3)
    # Items 2 and 3 both at position 2: neither counts.
    assert grading.grade(s, {0: 0, 1: 1, 2: 2, 3: 2}).fraction == pytest.approx(1 / 3)


@pytest.mark.parametrize("raw", [[0, 1], {"9": 0}, {0: 9}, {0: "x"}, "0:1"])
def test_a_response_that_cannot_belong_to_the_question_is_invalid(raw):
    with pytest.raises(InvalidResponse):
        grading.normalise_response(snap(3), raw)


def test_the_items_are_never_shown_in_the_right_order():
    s = snap(3)
    for seed in range(50):
        order = ordering.permute(s, random.Random(seed), False)
        assert sorted(order) == [0, 1, 2] and order != [0, 1, 2]


def test_form_values_map_display_positions_back_and_tampering_is_refused():
    s = snap(3)
    order = [2, 0, 1]
    # Shown first is item 2, which the officer puts at position 3, and so on.
    values = ["0:3", "1:1", "2:2"]
    response = presentation.response_from_form(s, order, values)
    assert response == {2: 2, 0: 0, 1: 1}
    assert grading.grade(s, response).fraction == 1.0
    assert presentation.response_to_form(s, order, response) == {0: 3, 1: 1, 2: 2}
    assert presentation.response_from_form(s, order, ["0:", "1:", "2:"]) == {}
    for bad in (["0:4"], ["3:1"], ["0:0"], ["01"]):
        with pytest.raises(InvalidResponse):
            presentation.response_from_form(s, order, bad)


def test_the_take_view_has_items_and_positions_but_not_the_order():
    s = snap(3)
    view = presentation.public_view(s, [1, 2, 0])
    assert [item["html"] for item in view["order_items"]] == ["Bước 2", "Bước 3", "Bước 1"]
    assert view["positions"] == [1, 2, 3]
    hidden = presentation.review_view(s, [1, 2, 0], {0: 0}, correct=False, feedback=False)
    assert all("position" not in row and "ok" not in row for row in hidden["order_items"])


def test_every_type_in_the_table_has_its_widget_and_review_template():
    for row in qtypes.TABLE:
        assert (TEMPLATES / "widgets" / f"{row.widget}.html").is_file(), row.name
        assert (TEMPLATES / "review" / f"{row.name}.html").is_file(), row.name


# --- content files ---------------------------------------------------------------------------------

GOOD_YAML = """\
- name: press-release-steps
  type: ordering
  category: m2
  tags: [press]
  text: Sắp xếp các bước phát hành thông cáo báo chí
  items:
""" + "".join(f"    - {step}\n" for step in STEPS)


def test_a_yaml_bank_reads_an_ordering_question_and_writes_it_back():
    result = parse_content(GOOD_YAML, "vi/order.yaml")
    assert result.ok, result.errors
    [question] = result.questions
    assert question.type == "ordering" and question.category == "m2" and question.line == 1
    assert [a.text for a in question.answers] == list(STEPS)
    again = parse_content(dump_content([question]), "again.yaml").questions
    assert again == [question]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("- name: a\n  type: ordering\n  text: x\n", 1, "items: is required"),
    ("- name: a\n  type: ordering\n  text: x\n  items:\n    - one\n    - two\n    - one\n", 7, "repeats item 1"),
    ("- name: a\n  type: ordering\n  text: x\n  items: [one]\n", 4, "from 2 to 20 items"),
    ("- name: a\n  type: ordering\n  text: x\n  items: [a, b]\n  colour: red\n", 5, "Unknown key 'colour'"),
    ("- name: a\n  type: cloze\n  text: x\n", 2, "type: must be one of ordering"),
    ("- type: ordering\n  text: x\n  items: [a, b]\n", 1, "needs a name"),
    ("- name: a\n  type: ordering\n  text: x\n  items: [a, b]\n"
     "- name: a\n  type: ordering\n  text: y\n  items: [a, b]\n", 5, "already used on line 1"),
    ("- name: a\n  type: ordering\n  text: [x\n", 4, "not valid YAML"),
])
def test_content_file_errors_say_which_line_and_what_is_wrong(text, line, words):
    result = parse_content(text, "vi/bank.yaml")
    assert not result.ok
    error = result.errors[0]
    assert error.line == line and words in error.message, str(error)


def test_the_content_loader_reads_yaml_banks_next_to_gift_ones(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(VALID_ROOT, root)
    course = root / "rights-basics"
    manifest = course / "course.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "      - name: udhr-year\n", "      - name: udhr-year\n      - name: press-release-steps\n", 1),
        encoding="utf-8")
    for lang in ("vi", "en"):
        (course / lang / "order.yaml").write_text(GOOD_YAML, encoding="utf-8")
    loaded = load_content(root)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    [bank_yaml] = [b for b in loaded.courses[0].banks["vi"] if b.source.endswith(".yaml")]
    assert bank_yaml.questions[0].type == "ordering"
    (course / "vi" / "order.yaml").write_text(
        GOOD_YAML.replace("    - Phát hành\n", "    - Soạn thông cáo\n"), encoding="utf-8")
    broken = [str(e) for e in load_content(root).errors]
    assert any("rights-basics/vi/order.yaml:10" in e and "press-release-steps" in e and "repeats" in e
               for e in broken), broken


def test_gift_export_leaves_ordering_out_with_a_note_and_keeps_the_rest():
    questions = [fq.every_type()[2], Q("ordering", "steps", "Sắp xếp", answers=(Answer("a", 1), Answer("b", 1)))]
    text, skipped = export_gift_skipping(questions)
    assert [q.name for q in skipped] == ["steps"]
    assert "// lms: steps (ordering) left out: GIFT has no syntax" in text
    assert [q.name for q in parse_gift(text).questions] == ["q-tf"]


# --- the web: editor, taking, review -------------------------------------------------------------


def test_a_trainer_creates_and_edits_an_ordering_question_in_the_web_editor(client, auth):
    c = fq.course(key="khoa-o", source="web")
    factories.user("gv", roles={"trainer"}, locale="en")
    db.session.commit()
    auth.login("gv")
    new = client.get(f"/quizzes/courses/{c.id}/bank/new?lang=vi&type=ordering").get_data(as_text=True)
    assert "Question in YAML" in new and "type: ordering" in new and 'value="yaml"' in new
    source = "name: steps\ntype: ordering\ntext: Sắp xếp\nitems: [Một, Hai, Ba]\n"
    preview = client.post(f"/quizzes/courses/{c.id}/bank/new?lang=vi", data={
        "source": source, "syntax": "yaml", "category": "m1", "points": "1", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert "What officers see" in html and "Position 3" in html and "Correct position" in html
    bad = client.post(f"/quizzes/courses/{c.id}/bank/new?lang=vi", data={
        "source": source.replace("Ba]", "Một]"), "syntax": "yaml", "category": "m1", "points": "1",
        "action": "save"})
    assert "question:4: [steps] Item 3 repeats item 1" in bad.get_data(as_text=True)
    saved = client.post(f"/quizzes/courses/{c.id}/bank/new?lang=vi", data={
        "source": source, "syntax": "yaml", "category": "m1", "points": "1", "action": "save"})
    assert saved.status_code == 302
    row = db.session.scalar(select(Question).where(Question.name == "steps"))
    assert row.qtype == "ordering" and [a["text"] for a in row.data["answers"]] == ["Một", "Hai", "Ba"]
    edit = client.get(f"/quizzes/questions/{row.id}").get_data(as_text=True)
    assert "type: ordering" in edit and "- Hai" in edit
    changed = client.post(f"/quizzes/questions/{row.id}", data={
        "source": source.replace("[Một, Hai, Ba]", "[Một, Hai, Ba, Bốn]"), "syntax": "yaml",
        "category": "m1", "points": "1", "action": "save"})
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Question, row.id).version == 2
    exported = client.get(f"/quizzes/courses/{c.id}/export.gift?lang=vi").get_data(as_text=True)
    assert "steps (ordering) left out" in exported
    bank = client.get(f"/quizzes/courses/{c.id}/bank?lang=vi").get_data(as_text=True)
    assert "left out of the GIFT file" in bank


def test_an_officer_orders_items_without_javascript_and_the_review_shows_the_key(client, auth):
    c = fq.course(key="khoa-p", quizzes=[{"key": "quiz-1", "title": {"vi": "Bài kiểm tra"},
                                          "module": None, "final": False, "pass_mark": 70}])
    fq.bank(c, [Q("ordering", "steps", "Sắp xếp các bước", category="m1",
                  answers=tuple(Answer(s, 1.0) for s in STEPS))])
    fq.quiz(c, picks=[Pick(name="steps")])
    factories.user("canbo", locale="vi")
    db.session.commit()
    auth.login("canbo")
    attempt_id = start(client, c)
    page = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert "Vị trí 1" in page and "1 là mục đứng đầu" in page
    order = load(attempt_id).slots[0]["order"]
    labels = re.findall(r'<label for="q0-(\d)">([^<]+)</label>', page)
    assert [STEPS.index(text) for _pos, text in labels] == order
    # Right order, except the last two steps swapped: (4 - 1) / 4 of the marks.
    wanted = list(range(5))
    wanted[3], wanted[4] = 4, 3
    values = [f"{pos}:{wanted.index(item) + 1}" for pos, item in enumerate(order)]
    client.post(f"/quizzes/attempts/{attempt_id}/save", data={"slots": "0", "q0": values})
    again = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert again.count("selected") == 5
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"slots": "0", "q0": values})
    attempt = load(attempt_id)
    assert attempt.status == "graded" and attempt.score == 75
    review = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    table = review[review.index("Vị trí bạn chọn"):review.index("</table>")]
    assert "Vị trí đúng" in table and table.count("tag-ok") == 3 and table.count("tag-bad") == 2
