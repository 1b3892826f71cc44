"""Ordering: the officer puts items in the right order (the steps of a press release, say).

The snapshot's ``answers`` are the items in the right order. The take page shows them shuffled (never
in the right order) with a position to choose for each, so it works without JavaScript.

Response: ``{index of the item in the snapshot: chosen position}`` (``dict``, positions from 0; string
keys and values such as "0", what JSON and forms give back, are accepted).

Scoring (partial credit): the officer's order is the items that have a position of their own, sorted
by position (an item without a position, or sharing its position with another, is not placed). The
score is (L - 1) / (n - 1), where n is the number of items and L the longest run of placed items that
are in the right order relative to each other (not necessarily adjacent), floored at 0. So only the
right order scores full marks, the reversed order scores 0, and moving one item elsewhere costs one
n-1th. This is Moodle's "longest ordered subset" rule, rescaled so that a reversed answer earns nothing.

GIFT and Aiken have no syntax for it: ordering questions are written in YAML content files
(``qtypes/content.py``) and in the web editor, and GIFT export skips them with a warning.
"""

from __future__ import annotations

import bisect
import random
import unicodedata
from collections.abc import Mapping
from typing import Any

from lms.i18n import N_, _
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import (
    ContentError,
    Grade,
    InvalidResponse,
    Order,
    QuestionType,
    Snapshot,
)
from lms.questionformat.questions import Answer

MIN_ITEMS, MAX_ITEMS = 2, 20


def _size(snapshot: Snapshot) -> int:
    return len(snapshot["answers"])


def normalise(snapshot: Snapshot, raw: Any) -> dict[int, int]:
    if base.blank(raw):
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidResponse(f"not a mapping of items to positions: {raw!r}")
    size = _size(snapshot)
    return {base.index(item, size): base.index(pos, size) for item, pos in raw.items()
            if not base.blank(pos)}


def placed_order(response: Mapping[int, int]) -> list[int]:
    """Item indexes by chosen position, leaving out items that share their position with another."""
    by_position: dict[int, list[int]] = {}
    for item, pos in response.items():
        by_position.setdefault(pos, []).append(item)
    return [items[0] for pos, items in sorted(by_position.items()) if len(items) == 1]


def longest_in_order(sequence: list[int]) -> int:
    """The length of the longest increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []
    for value in sequence:
        at = bisect.bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
        else:
            tails[at] = value
    return len(tails)


def grade(snapshot: Snapshot, response: Any) -> Grade:
    chosen = normalise(snapshot, response)
    size = _size(snapshot)
    if size < MIN_ITEMS:
        raise InvalidResponse("an ordering question needs at least two items")
    in_order = longest_in_order(placed_order(chosen))
    fraction = base.clamp((in_order - 1) / (size - 1))
    return Grade(fraction, detail={"in_order": in_order, "items": size, "placed": len(chosen)})


def permute(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    # Always shuffled, and never shown in the right order: that would give the answer away.
    order = base.identity(_size(snapshot))
    if len(order) < MIN_ITEMS:
        return order
    while order == sorted(order):
        rng.shuffle(order)
    return order


def public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    items = snapshot["answers"]
    return {
        "order_items": [
            {"value": pos, "html": base.render_inline(items[i]["text"], fmt)}
            for pos, i in enumerate(base.display(order, len(items)))
        ],
        "positions": list(range(1, len(items) + 1)),
    }


def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> dict[int, int]:
    """Values are ``"<display position of the item>:<chosen position from 1>"`` (position may be blank)."""
    shown = base.display(order, _size(snapshot))
    chosen: dict[int, int] = {}
    for value in values:
        item, sep, pos = value.partition(":")
        if not sep:
            raise InvalidResponse(f"not an item and its position: {value!r}")
        if not pos.strip():
            continue
        number = base.position(pos, len(shown) + 1)
        if number == 0:
            raise InvalidResponse(f"positions start at 1: {value!r}")
        chosen[shown[base.position(item, len(shown))]] = number - 1
    return chosen


def to_form(snapshot: Snapshot, order: Order, response: Any) -> dict[int, int]:
    """Saved positions by display position of the item, counted from 1 as the select shows them."""
    shown = base.display(order, _size(snapshot))
    return {shown.index(item): pos + 1 for item, pos in normalise(snapshot, response).items()}


def labels(snapshot: Snapshot, response: Any) -> list[str]:
    """The officer's whole order as one label (for distractor counts), when every item is placed."""
    placed = placed_order(normalise(snapshot, response))
    if len(placed) != _size(snapshot):
        return [base.OTHER] if placed else []
    return [" \u2192 ".join(snapshot["answers"][i]["text"] for i in placed)]


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    chosen = TYPE.safe_normalise(snapshot, response) or {}
    placed = placed_order(chosen)
    clashes = {item for item in chosen if item not in placed}
    items = snapshot["answers"]
    return {"order_items": [
        {"html": base.render_inline(items[i]["text"], fmt),
         "chosen": chosen[i] + 1 if i in chosen else None, "clash": i in clashes,
         "position": i + 1, "ok": chosen.get(i) == i and i not in clashes}
        for i in base.display(order, len(items))
    ]}


def from_content(values: Mapping[str, Any]) -> dict[str, Any]:
    items = values.get("items")
    if not isinstance(items, list):
        raise ContentError(_("items: is required: the items as a list, in the right order."), "items")
    texts: list[str] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float) or not str(item).strip():
            raise ContentError(_("Item %(number)s is empty or not text.", number=number),
                               f"items[{number - 1}]")
        text = unicodedata.normalize("NFC", str(item).strip())
        if text in texts:
            raise ContentError(_("Item %(number)s repeats item %(other)s: each item must differ.",
                                 number=number, other=texts.index(text) + 1), f"items[{number - 1}]")
        texts.append(text)
    if not MIN_ITEMS <= len(texts) <= MAX_ITEMS:
        raise ContentError(_("An ordering question has from %(low)s to %(high)s items (found %(num)s).",
                             low=MIN_ITEMS, high=MAX_ITEMS, num=len(texts)), "items")
    return {"answers": tuple(Answer(text, 1.0) for text in texts)}


def to_content(question: Any) -> dict[str, Any]:
    return {"items": [answer.text for answer in question.answers]}


TYPE = QuestionType(
    name="ordering",
    label=N_("Ordering"),
    grade=grade,
    normalise_response=normalise,
    permute=permute,
    public=public,
    from_form=from_form,
    to_form=to_form,
    labels=labels,
    review=review,
    example=(
        "name: new-question\n"
        "type: ordering\n"
        "text: Sắp xếp các bước sau theo đúng thứ tự\n"
        "items:  # theo đúng thứ tự\n"
        "  - Bước thứ nhất\n"
        "  - Bước thứ hai\n"
        "  - Bước thứ ba\n"
    ),
    source_format="yaml",
    multiple_values=True,
    content_keys=frozenset({"items"}),
    from_content=from_content,
    to_content=to_content,
    # Moodle's ordering plugin (qtype_ordering) in Moodle XML; GIFT and Aiken cannot say it.
    formats={"moodle_xml": "ordering"},
)
