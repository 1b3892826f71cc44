"""The attempt engine (pure core): draw an attempt, grade it, keep time, and analyse items.

Everything here takes plain data and returns plain data, so the rules that decide who passes can be
tested without a browser or a database:

- :func:`build_slots` draws an attempt from a quiz's picks and a question bank: fixed questions by name
  and N random questions per category, with a seeded RNG, and records each question's snapshot (keys
  included: it stays on the server) and the display order of its choices.
- :func:`grade_slots` grades the saved responses of an attempt through the question-type registry,
  with points per question and manual grades for essays.
- :func:`attempt_deadline`, :func:`accepts_answers` and :func:`start_refusal` are the time rules.
- :func:`item_analysis` computes the facility and discrimination of each question and how often each
  answer was chosen, and flags questions that are too easy, too hard or discriminate negatively.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lms.quizzes import grading, presentation
from lms.quizzes.grading import Grade, InvalidResponse

# --- drawing an attempt --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """One line of a quiz's question list: a fixed question ``name``, or ``count`` from ``category``."""

    category: str | None = None
    count: int = 1
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pick:
        """Read a pick stored as JSON (``{"name": ...}`` or ``{"category": ..., "count": ...}``)."""
        return cls(category=data.get("category"), count=int(data.get("count") or 1),
                   name=data.get("name"))

    def to_dict(self) -> dict[str, Any]:
        """The pick as JSON-able data."""
        if self.name is not None:
            return {"name": self.name}
        return {"category": self.category, "count": self.count}


@dataclass(frozen=True)
class BankEntry:
    """A question of a bank as the engine needs it; ``ref`` is whatever identifies the bank row."""

    ref: Any
    name: str
    version: int
    category: str
    snapshot: Mapping[str, Any]
    points: float = 1.0

    @property
    def drawable(self) -> bool:
        """Descriptions carry no marks and are never drawn at random."""
        return self.snapshot.get("type") != "description"


class DrawError(Exception):
    """The bank cannot supply what the quiz asks for (a missing name, a category too small)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def build_slots(
    picks: Sequence[Pick], bank: Iterable[BankEntry], *, seed: int, shuffle: bool
) -> list[dict[str, Any]]:
    """The slots of a new attempt, in pick order; raises DrawError when the bank falls short.

    A slot is ``{"slot", "ref", "name", "version", "points", "question", "order"}``: ``question`` is
    the snapshot with its keys and ``order`` the display order of its choices (or None). Questions
    picked by name are never drawn again at random; a category is matched exactly, as the content
    loader checks it.
    """
    entries = list(bank)
    by_name = {entry.name: entry for entry in entries}
    fixed = {pick.name for pick in picks if pick.name is not None}
    rng = random.Random(seed)
    used: set[str] = set()
    chosen: list[BankEntry] = []
    for pick in picks:
        if pick.name is not None:
            entry = by_name.get(pick.name)
            if entry is None:
                raise DrawError("missing", name=pick.name)
            if entry.name in used:
                continue
            used.add(entry.name)
            chosen.append(entry)
            continue
        pool = sorted(
            (e for e in entries
             if e.category == pick.category and e.drawable and e.name not in used
             and e.name not in fixed),
            key=lambda e: e.name,
        )
        if len(pool) < pick.count:
            raise DrawError("short", category=pick.category, needed=pick.count, available=len(pool))
        for entry in rng.sample(pool, pick.count):
            used.add(entry.name)
            chosen.append(entry)
    slots = []
    for number, entry in enumerate(chosen):
        snapshot = dict(entry.snapshot)
        slots.append(
            {
                "slot": number,
                "ref": entry.ref,
                "name": entry.name,
                "version": entry.version,
                "points": float(entry.points) if grading.question_type(snapshot).scored else 0.0,
                "question": snapshot,
                "order": presentation.presenter(snapshot).permute(snapshot, rng, shuffle),
            }
        )
    return slots


# --- grading an attempt --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotResult:
    """One slot graded: ``fraction`` None while a trainer still has to grade it."""

    slot: int
    fraction: float | None
    points: float
    needs_manual: bool
    grade: Grade

    @property
    def awarded(self) -> float | None:
        """Points earned, or None while pending."""
        return None if self.fraction is None else self.fraction * self.points


@dataclass(frozen=True)
class AttemptResult:
    slots: tuple[SlotResult, ...]
    points_max: float
    points_awarded: float  # points of the slots graded so far

    @property
    def pending(self) -> bool:
        """Whether some answer (an essay) still waits for a trainer."""
        return any(s.needs_manual and s.fraction is None for s in self.slots)

    @property
    def score(self) -> float | None:
        """The score in percent, rounded to 2 decimals; None while pending."""
        if self.pending:
            return None
        if self.points_max <= 0:
            return 0.0
        return round(100 * self.points_awarded / self.points_max, 2)


def grade_slots(
    slots: Sequence[Mapping[str, Any]],
    responses: Mapping[int, Any],
    manual: Mapping[int, float] | None = None,
) -> AttemptResult:
    """Grade every slot of an attempt from its saved responses; ``manual`` holds trainers' fractions.

    A response that no longer fits its question (a tampered value) scores 0 rather than failing the
    whole attempt.
    """
    manual = manual or {}
    results = []
    for slot in slots:
        number = int(slot["slot"])
        snapshot = slot["question"]
        try:
            graded = grading.grade(snapshot, responses.get(number))
        except InvalidResponse:
            graded = Grade(0.0, detail={"invalid": True})
        fraction = graded.fraction
        if number in manual and manual[number] is not None:
            fraction = min(1.0, max(0.0, float(manual[number])))
        results.append(
            SlotResult(
                slot=number,
                fraction=fraction,
                points=float(slot.get("points", 1.0)),
                needs_manual=graded.needs_manual,
                grade=graded,
            )
        )
    points_max = math.fsum(r.points for r in results)
    awarded = math.fsum(r.awarded or 0.0 for r in results)
    return AttemptResult(tuple(results), points_max, min(points_max, max(0.0, awarded)))


def passed(score: float | None, pass_mark: float) -> bool | None:
    """Whether a score reaches the pass mark (None while the score is pending)."""
    return None if score is None else score + 1e-9 >= pass_mark


# --- time ----------------------------------------------------------------------------------------


def attempt_deadline(
    started_at: datetime, time_limit_minutes: int | None, close_at: datetime | None
) -> datetime | None:
    """When an attempt must end: the time limit or the quiz's close date, whichever comes first."""
    candidates = [close_at] if close_at is not None else []
    if time_limit_minutes:
        candidates.append(started_at + timedelta(minutes=time_limit_minutes))
    return min(candidates) if candidates else None


def accepts_answers(now: datetime, deadline: datetime | None, grace_seconds: float = 0) -> bool:
    """Whether an answer arriving at ``now`` still counts (a few seconds of grace for slow links)."""
    return deadline is None or now <= deadline + timedelta(seconds=grace_seconds)


def seconds_left(now: datetime, deadline: datetime | None) -> int | None:
    """Whole seconds until the deadline (0 once it has passed), or None without a deadline."""
    if deadline is None:
        return None
    return max(0, math.ceil((deadline - now).total_seconds()))


@dataclass(frozen=True)
class Refusal:
    """Why an officer may not start an attempt now; ``at`` is when they may, if that is known."""

    code: str  # not_open | closed | no_attempts_left | wait
    at: datetime | None = None


def start_refusal(
    now: datetime,
    *,
    open_at: datetime | None,
    close_at: datetime | None,
    max_attempts: int | None,
    delay_minutes: int,
    attempts_made: int,
    last_finished_at: datetime | None,
) -> Refusal | None:
    """The reason a new attempt may not start now, or None when it may."""
    if open_at is not None and now < open_at:
        return Refusal("not_open", open_at)
    if close_at is not None and now >= close_at:
        return Refusal("closed")
    if max_attempts and attempts_made >= max_attempts:
        return Refusal("no_attempts_left")
    if delay_minutes and last_finished_at is not None:
        ready = last_finished_at + timedelta(minutes=delay_minutes)
        if now < ready:
            return Refusal("wait", ready)
    return None


# --- item analysis -------------------------------------------------------------------------------

TOO_EASY = 0.9
TOO_HARD = 0.2
GROUP_SHARE = 0.27  # Kelley's upper and lower 27%


@dataclass(frozen=True)
class Observation:
    """One question as answered in one graded attempt."""

    name: str
    fraction: float
    points: float
    labels: tuple[str, ...] = ()  # the answers chosen, by text
    answers: tuple[tuple[str, float], ...] = ()  # the question's answers (text, weight)


@dataclass(frozen=True)
class ItemStats:
    name: str
    count: int
    facility: float  # mean fraction, 0..1
    discrimination: float | None  # upper 27% mean minus lower 27% mean, -1..1
    correlation: float | None  # Pearson r of the item with the rest of the test, -1..1
    answer_counts: tuple[tuple[str, float | None, int], ...]  # (text, weight or None, times chosen)
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def misleading(self) -> tuple[str, ...]:
        """Wrong answers chosen more often than the best right answer."""
        best_right = max((n for _t, w, n in self.answer_counts if w is not None and w > 0), default=0)
        return tuple(t for t, w, n in self.answer_counts
                     if w is not None and w <= 0 and n > best_right)


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    r = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def item_analysis(attempts: Sequence[Sequence[Observation]]) -> list[ItemStats]:
    """Statistics per question name over graded attempts (each a list of observations).

    Attempts are ranked by their total score (share of points); the discrimination index compares the
    question's mean fraction in the top and bottom 27% of attempts (at least one attempt each, and
    only with four attempts or more). The correlation is with the rest of the test, i.e. the attempt's
    score without this question, so an item does not correlate with itself.
    """
    totals: list[tuple[float, float]] = []  # (points awarded, points max) per attempt
    for attempt in attempts:
        totals.append((
            math.fsum(o.fraction * o.points for o in attempt),
            math.fsum(o.points for o in attempt),
        ))
    ranked = sorted(range(len(attempts)),
                    key=lambda i: (totals[i][0] / totals[i][1]) if totals[i][1] else 0.0)
    group = max(1, round(GROUP_SHARE * len(attempts))) if len(attempts) >= 4 else 0
    lower, upper = set(ranked[:group]), set(ranked[len(ranked) - group:]) if group else set()

    per_item: dict[str, list[tuple[int, Observation]]] = {}
    for index, attempt in enumerate(attempts):
        for obs in attempt:
            per_item.setdefault(obs.name, []).append((index, obs))

    stats = []
    for name in sorted(per_item):
        rows = per_item[name]
        fractions = [obs.fraction for _i, obs in rows]
        facility = math.fsum(fractions) / len(fractions)
        discrimination = None
        top = [obs.fraction for i, obs in rows if i in upper]
        bottom = [obs.fraction for i, obs in rows if i in lower]
        if top and bottom:
            discrimination = math.fsum(top) / len(top) - math.fsum(bottom) / len(bottom)
        rest = []
        for i, obs in rows:
            awarded, maximum = totals[i]
            rest_max = maximum - obs.points
            rest.append((awarded - obs.fraction * obs.points) / rest_max if rest_max > 0 else 0.0)
        correlation = _pearson(fractions, rest)

        weights: dict[str, float] = {}
        for _i, obs in rows:  # the latest answers listed win: rows are in attempt order
            weights.update(dict(obs.answers))
        counts: dict[str, int] = dict.fromkeys(weights, 0)
        for _i, obs in rows:
            for label in obs.labels:
                counts[label] = counts.get(label, 0) + 1
        answer_counts = tuple((text, weights.get(text), n) for text, n in counts.items())

        flags = set()
        if facility > TOO_EASY:
            flags.add("too_easy")
        if facility < TOO_HARD:
            flags.add("too_hard")
        if discrimination is not None and discrimination < 0:
            flags.add("negative_discrimination")
        stats.append(ItemStats(name, len(rows), facility, discrimination, correlation,
                               answer_counts, frozenset(flags)))
    return stats


def observation(slot: Mapping[str, Any], response: Any, fraction: float | None) -> Observation | None:
    """The item-analysis view of one graded slot (None for unscored or still pending slots)."""
    snapshot = slot["question"]
    if fraction is None or not grading.question_type(snapshot).scored:
        return None
    answers = grading.question_type(snapshot).analysis_answers(snapshot)
    return Observation(
        name=slot["name"],
        fraction=float(fraction),
        points=float(slot.get("points", 1.0)),
        labels=tuple(presentation.labels_for(snapshot, response)),
        answers=answers,
    )
