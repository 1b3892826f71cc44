"""The attempt engine: drawing, grading with points, time rules and item analysis (pure core)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.questionformat.questions import (
    Answer,
    MatchPair,
    NumericalAnswer,
    Question,
    question_to_dict,
)
from lms.quizzes import engine, grading, presentation
from lms.quizzes.engine import BankEntry, DrawError, Observation, Pick


def single(name: str, category: str = "c", right: int = 0, n: int = 4) -> dict:
    answers = [Answer(f"choice {i}", 1.0 if i == right else 0.0, f"fb {i}") for i in range(n)]
    return question_to_dict(Question("single", name, f"Question {name}?", answers=answers,
                                     category=category))


def bank(counts: dict[str, int]) -> list[BankEntry]:
    entries = []
    for category, n in counts.items():
        for i in range(n):
            name = f"{category}-{i}"
            entries.append(BankEntry(ref=name, name=name, version=1, category=category,
                                     snapshot=single(name, category)))
    return entries


# --- drawing -------------------------------------------------------------------------------------


@settings(deadline=None)
@given(
    sizes=st.dictionaries(st.sampled_from(["m1", "m2", "m3", "essay"]), st.integers(1, 12),
                          min_size=1),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_draw_takes_fixed_questions_and_n_distinct_random_ones_per_category(sizes, data, seed):
    entries = bank(sizes)
    fixed_category = data.draw(st.sampled_from(sorted(sizes)))
    fixed = f"{fixed_category}-0"
    picks = [Pick(name=fixed)]
    wanted = {}
    for category, size in sizes.items():
        available = size - (1 if category == fixed_category else 0)
        if available:
            wanted[category] = data.draw(st.integers(1, available))
            picks.append(Pick(category=category, count=wanted[category]))
    slots = engine.build_slots(picks, entries, seed=seed, shuffle=True)
    names = [s["name"] for s in slots]
    assert names[0] == fixed
    assert len(names) == len(set(names)) == 1 + sum(wanted.values())
    for category, count in wanted.items():
        drawn = [n for n in names[1:] if n.startswith(category + "-")]
        assert len(drawn) == count
    assert [s["slot"] for s in slots] == list(range(len(slots)))


@settings(deadline=None)
@given(seed=st.integers(0, 2**32))
def test_same_seed_draws_the_same_attempt_and_orders_are_permutations(seed):
    entries = bank({"m1": 8, "m2": 5})
    picks = [Pick(category="m1", count=4), Pick(category="m2", count=2)]
    first = engine.build_slots(picks, entries, seed=seed, shuffle=True)
    again = engine.build_slots(picks, entries, seed=seed, shuffle=True)
    assert first == again
    for slot in first:
        assert sorted(slot["order"]) == list(range(len(slot["question"]["answers"])))


def test_without_shuffle_choices_keep_their_bank_order():
    slots = engine.build_slots([Pick(category="m1", count=3)], bank({"m1": 3}), seed=1,
                               shuffle=False)
    assert all(s["order"] == [0, 1, 2, 3] for s in slots)


def test_a_category_too_small_or_a_missing_name_is_a_draw_error():
    with pytest.raises(DrawError) as short:
        engine.build_slots([Pick(category="m1", count=4)], bank({"m1": 3}), seed=1, shuffle=True)
    assert short.value.code == "short" and short.value.params["available"] == 3
    with pytest.raises(DrawError) as missing:
        engine.build_slots([Pick(name="nope")], bank({"m1": 3}), seed=1, shuffle=True)
    assert missing.value.code == "missing"


def test_fixed_questions_are_not_drawn_again_and_descriptions_never_at_random():
    entries = bank({"m1": 3}) + [
        BankEntry("intro", "intro", 1, "m1", question_to_dict(Question("description", "intro", "Hi")))
    ]
    with pytest.raises(DrawError):
        engine.build_slots([Pick(name="m1-0"), Pick(category="m1", count=3)], entries, seed=3,
                           shuffle=True)
    slots = engine.build_slots([Pick(name="m1-0"), Pick(category="m1", count=2)], entries, seed=3,
                               shuffle=True)
    assert sorted(s["name"] for s in slots) == ["m1-0", "m1-1", "m1-2"]


# --- grading -------------------------------------------------------------------------------------

weights = st.floats(-1, 1, allow_nan=False).map(lambda w: round(w, 3))


@st.composite
def multi_questions(draw):
    n = draw(st.integers(2, 7))
    ws = draw(st.lists(weights, min_size=n, max_size=n))
    return question_to_dict(Question("multi", "q", "Pick", answers=[Answer(f"a{i}", w)
                                                                      for i, w in enumerate(ws)]))


@settings(deadline=None)
@given(question=multi_questions(), data=st.data())
def test_multi_response_scores_the_chosen_weights_floored_at_zero_and_capped_at_one(question, data):
    n = len(question["answers"])
    chosen = data.draw(st.lists(st.integers(0, n - 1), unique=True))
    fraction = grading.grade(question, chosen).fraction
    expected = sum(question["answers"][i]["weight"] for i in chosen)
    assert 0 <= fraction <= 1
    assert fraction == pytest.approx(min(1, max(0, expected)))


@settings(deadline=None)
@given(question=multi_questions(), data=st.data(), seed=st.integers(0, 10_000))
def test_order_of_choices_is_irrelevant_to_the_score(question, data, seed):
    """Shuffling the display and answering through the form gives the same grade as in bank order."""
    n = len(question["answers"])
    chosen = data.draw(st.lists(st.integers(0, n - 1), unique=True))
    order = list(range(n))
    random.Random(seed).shuffle(order)
    positions = [str(order.index(i)) for i in chosen]
    response = presentation.response_from_form(question, order, positions)
    assert response == sorted(chosen)
    assert grading.grade(question, response) == grading.grade(question, chosen)
    assert presentation.response_to_form(question, order, response) == sorted(map(int, positions))


@settings(deadline=None)
@given(
    points=st.lists(st.floats(0.5, 5).map(lambda p: round(p, 1)), min_size=1, max_size=8),
    data=st.data(),
)
def test_attempt_score_is_the_points_weighted_share_within_bounds(points, data):
    slots = [
        {"slot": i, "name": f"q{i}", "points": p, "question": single(f"q{i}")}
        for i, p in enumerate(points)
    ]
    responses = {i: data.draw(st.sampled_from([None, 0, 1, 2, 3])) for i in range(len(points))}
    result = engine.grade_slots(slots, responses)
    right = sum(p for i, p in enumerate(points) if responses[i] == 0)
    assert 0 <= result.score <= 100
    assert result.points_awarded == pytest.approx(right)
    assert result.score == pytest.approx(100 * right / sum(points), abs=0.01)


def test_an_essay_keeps_the_attempt_pending_until_a_manual_grade_arrives():
    essay = question_to_dict(Question("essay", "e", "Write"))
    slots = [{"slot": 0, "name": "q", "points": 1, "question": single("q")},
             {"slot": 1, "name": "e", "points": 3, "question": essay}]
    pending = engine.grade_slots(slots, {0: 0, 1: "My essay"})
    assert pending.pending and pending.score is None
    done = engine.grade_slots(slots, {0: 0, 1: "My essay"}, manual={1: 0.5})
    assert not done.pending and done.score == pytest.approx(100 * 2.5 / 4, abs=0.01)
    assert engine.passed(done.score, 62.5) and not engine.passed(done.score, 63)


def test_a_tampered_response_scores_zero_instead_of_failing_the_attempt():
    slots = [{"slot": 0, "name": "q", "points": 1, "question": single("q")}]
    assert engine.grade_slots(slots, {0: 99}).score == 0


def test_a_description_adds_nothing_to_the_maximum():
    desc = question_to_dict(Question("description", "d", "Read this"))
    slots = engine.build_slots(
        [Pick(name="d"), Pick(name="q")],
        [BankEntry(1, "d", 1, "", desc), BankEntry(2, "q", 1, "", single("q"))],
        seed=1, shuffle=False,
    )
    result = engine.grade_slots(slots, {1: 0})
    assert result.points_max == 1 and result.score == 100


# --- display positions never reveal the key -------------------------------------------------------


def every_type() -> list[dict]:
    return [
        single("s"),
        question_to_dict(Question("multi", "m", "M", answers=[Answer("a", .5), Answer("b", .5),
                                                             Answer("c", -1)])),
        question_to_dict(Question("truefalse", "t", "T", answers=[Answer("true", 1.0),
                                                                 Answer("false", 0.0)])),
        question_to_dict(Question("short", "sh", "S", answers=[Answer("quyền con người", 1.0)],
                                  ignore_diacritics=True)),
        question_to_dict(Question("numerical", "n", "N", numerical=[NumericalAnswer(3.14, .01)])),
        question_to_dict(Question("matching", "ma", "M", pairs=[MatchPair("a", "1"),
                                                               MatchPair("b", "2"),
                                                               MatchPair("", "3")])),
        question_to_dict(Question("essay", "e", "E")),
        question_to_dict(Question("description", "d", "D")),
    ]


@pytest.mark.parametrize("snapshot", every_type(), ids=lambda s: s["type"])
def test_public_view_of_every_type_carries_no_weight_feedback_or_accepted_answer(snapshot):
    order = presentation.presenter(snapshot).permute(snapshot, random.Random(4), True)
    view = presentation.public_view(snapshot, order)
    text = repr(view)
    assert "weight" not in text and "feedback" not in text and "fb " not in text
    if snapshot["type"] in ("short", "numerical"):
        assert "quyền" not in text and "3.14" not in text


def test_matching_options_are_always_shuffled_and_map_back_through_the_order():
    snapshot = every_type()[5]
    order = presentation.presenter(snapshot).permute(snapshot, random.Random(0), False)
    options = presentation.public_view(snapshot, order)["options"]
    by_text = {o["text"]: o["value"] for o in options}
    response = presentation.response_from_form(snapshot, order, [f"0:{by_text['1']}",
                                                                 f"1:{by_text['2']}"])
    assert response == {0: "1", 1: "2"}
    assert grading.grade(snapshot, response).fraction == 1
    assert presentation.response_to_form(snapshot, order, response) == {0: by_text["1"],
                                                                       1: by_text["2"]}


@pytest.mark.parametrize("values", [["9"], ["-1"], ["x"]])
def test_a_choice_outside_the_question_is_refused(values):
    with pytest.raises(grading.InvalidResponse):
        presentation.response_from_form(single("s"), [3, 2, 1, 0], values)


def test_short_answer_ignores_diacritics_when_the_question_says_so():
    snapshot = every_type()[3]
    response = presentation.response_from_form(snapshot, None, ["Quyen con nguoi"])
    assert grading.grade(snapshot, response).fraction == 1


# --- time ----------------------------------------------------------------------------------------

T0 = datetime(2024, 5, 31, 8, 0, tzinfo=UTC)


@settings(deadline=None)
@given(limit=st.one_of(st.none(), st.integers(1, 600)),
       close=st.one_of(st.none(), st.integers(-60, 1200)))
def test_deadline_is_the_earlier_of_time_limit_and_close_date(limit, close):
    close_at = T0 + timedelta(minutes=close) if close is not None else None
    deadline = engine.attempt_deadline(T0, limit, close_at)
    candidates = [c for c in (close_at, T0 + timedelta(minutes=limit) if limit else None) if c]
    assert deadline == (min(candidates) if candidates else None)


def test_answers_are_accepted_until_the_deadline_plus_grace_and_refused_after():
    deadline = T0 + timedelta(minutes=15)
    assert engine.accepts_answers(deadline, deadline)
    assert not engine.accepts_answers(deadline + timedelta(seconds=1), deadline)
    assert engine.accepts_answers(deadline + timedelta(seconds=20), deadline, grace_seconds=30)
    assert not engine.accepts_answers(deadline + timedelta(seconds=31), deadline, grace_seconds=30)
    assert engine.accepts_answers(T0 + timedelta(days=400), None)
    assert engine.seconds_left(T0, deadline) == 900
    assert engine.seconds_left(deadline + timedelta(hours=1), deadline) == 0


def test_start_rules_open_close_max_attempts_and_delay():
    def refusal(now=T0, **kw):
        args = {"open_at": None, "close_at": None, "max_attempts": None, "delay_minutes": 0,
                "attempts_made": 0, "last_finished_at": None}
        args.update(kw)
        return engine.start_refusal(now, **args)

    assert refusal() is None
    assert refusal(open_at=T0 + timedelta(hours=1)).code == "not_open"
    assert refusal(close_at=T0).code == "closed"
    assert refusal(max_attempts=3, attempts_made=3).code == "no_attempts_left"
    assert refusal(max_attempts=3, attempts_made=2) is None
    wait = refusal(delay_minutes=60, last_finished_at=T0 - timedelta(minutes=10))
    assert wait.code == "wait" and wait.at == T0 + timedelta(minutes=50)
    assert refusal(delay_minutes=60, last_finished_at=T0 - timedelta(minutes=60)) is None


# --- item analysis -------------------------------------------------------------------------------


def obs(name, fraction, labels=(), answers=()):
    return Observation(name, fraction, 1.0, tuple(labels), tuple(answers))


@given(st.lists(st.lists(st.tuples(st.sampled_from("abcd"), st.floats(0, 1)), min_size=1,
                         max_size=4, unique_by=lambda t: t[0]), min_size=1, max_size=40))
@settings(deadline=None, max_examples=60)
def test_item_statistics_stay_within_their_ranges(raw):
    attempts = [[obs(name, f) for name, f in attempt] for attempt in raw]
    for item in engine.item_analysis(attempts):
        assert 0 <= item.facility <= 1
        assert item.discrimination is None or -1 <= item.discrimination <= 1
        assert item.correlation is None or -1 <= item.correlation <= 1
        assert item.count == sum(1 for a in raw for n, _f in a if n == item.name)


def test_flags_easy_hard_and_negative_discrimination_and_counts_distractors():
    answers = (("right", 1.0), ("wrong", 0.0), ("lure", 0.0))
    attempts = []
    for i in range(20):
        strong = i >= 10
        attempts.append([
            obs("easy", 1.0),
            obs("hard", 1.0 if i == 0 else 0.0),
            obs("good", 1.0 if strong else 0.0),
            # Strong officers fall for the lure; weak ones guess right: a misleading question.
            obs("tricky", 0.0 if strong else 1.0, ["lure" if strong else "right"], answers),
            obs("anchor1", 1.0 if strong else 0.0),
            obs("anchor2", 1.0 if strong else 0.0),
        ])
    stats = {s.name: s for s in engine.item_analysis(attempts)}
    assert "too_easy" in stats["easy"].flags
    assert "too_hard" in stats["hard"].flags
    assert stats["good"].discrimination == pytest.approx(1.0)
    assert stats["good"].flags == frozenset()
    assert "negative_discrimination" in stats["tricky"].flags
    assert stats["tricky"].correlation < 0
    counts = {text: (weight, n) for text, weight, n in stats["tricky"].answer_counts}
    assert counts == {"right": (1.0, 10), "wrong": (0.0, 0), "lure": (0.0, 10)}
    assert stats["tricky"].misleading == ()
    attempts.append([obs("tricky", 0.0, ["lure"], answers)])
    again = {s.name: s for s in engine.item_analysis(attempts)}
    assert again["tricky"].misleading == ("lure",)


def test_discrimination_needs_four_attempts():
    few = engine.item_analysis([[obs("a", 1.0)], [obs("a", 0.0)], [obs("a", 1.0)]])
    assert few[0].discrimination is None and few[0].facility == pytest.approx(2 / 3)


def test_observation_labels_the_chosen_answers_by_text():
    slot = {"slot": 0, "name": "s", "points": 2, "question": single("s", right=1)}
    o = engine.observation(slot, 1, 1.0)
    assert o.labels == ("choice 1",) and o.points == 2
    assert dict(o.answers)["choice 1"] == 1.0
    assert engine.observation(slot, None, None) is None
