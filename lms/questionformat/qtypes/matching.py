"""Matching: items on the left, each matched to a text on the right; scores the share matched right.

A pair with an empty ``left`` is an extra wrong choice on the right. Response: ``{index of the pair in
the snapshot's pairs: chosen right-hand text}`` (``dict``); string keys such as "0" (what JSON gives
back) are accepted.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping
from typing import Any

from lms.i18n import N_
from lms.questionformat.qtypes import base
from lms.questionformat.qtypes.base import Grade, InvalidResponse, Order, QuestionType, Snapshot


def normalise(snapshot: Snapshot, raw: Any) -> dict[int, str]:
    if base.blank(raw):
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidResponse(f"not a mapping of items to matches: {raw!r}")
    pairs = snapshot["pairs"]
    chosen: dict[int, str] = {}
    for key, value in raw.items():
        item = base.index(key, len(pairs))
        if not pairs[item]["left"]:
            raise InvalidResponse(f"pair {item} is a distractor, not an item")
        text = base.normalise_typed(snapshot, value)
        if text is not None:
            chosen[item] = text
    return chosen


def grade(snapshot: Snapshot, response: Any) -> Grade:
    chosen = normalise(snapshot, response)
    items = [i for i, pair in enumerate(snapshot["pairs"]) if pair["left"]]
    if not items:
        raise InvalidResponse("the snapshot has no items to match")
    right = [
        i
        for i in items
        if chosen.get(i) == unicodedata.normalize("NFC", snapshot["pairs"][i]["right"])
    ]
    return Grade(len(right) / len(items), detail={"right": right, "items": len(items)})


def _options(snapshot: Snapshot) -> list[str]:
    """The distinct right-hand texts, in snapshot order (items' matches and the extra distractors)."""
    seen: list[str] = []
    for pair in snapshot["pairs"]:
        if pair["right"] not in seen:
            seen.append(pair["right"])
    return seen


def permute(snapshot: Snapshot, rng: random.Random, shuffle: bool) -> Order:
    # Always shuffled: in snapshot order, option i would be the match of item i.
    order = base.identity(len(_options(snapshot)))
    rng.shuffle(order)
    return order


def public(snapshot: Snapshot, order: Order) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    options = _options(snapshot)
    shown = base.display(order, len(options))
    return {
        "match_items": [
            {"index": i, "html": base.render_inline(pair["left"], fmt)}
            for i, pair in enumerate(snapshot["pairs"])
            if pair["left"]
        ],
        "options": [{"value": pos, "text": options[i]} for pos, i in enumerate(shown)],
    }


def from_form(snapshot: Snapshot, order: Order, values: list[str]) -> dict[int, str]:
    """Values are ``"<item index>:<option position>"`` strings (one per answered item)."""
    options = _options(snapshot)
    shown = base.display(order, len(options))
    chosen: dict[str, str] = {}
    for value in values:
        item, sep, pos = value.partition(":")
        if not sep:
            raise InvalidResponse(f"not an item and its match: {value!r}")
        if pos.strip():
            chosen[item.strip()] = options[shown[base.position(pos, len(shown))]]
    return normalise(snapshot, chosen)


def to_form(snapshot: Snapshot, order: Order, response: Any) -> dict[int, int]:
    options = _options(snapshot)
    shown = base.display(order, len(options))
    out: dict[int, int] = {}
    for item, text in (normalise(snapshot, response) or {}).items():
        if text in options:
            out[int(item)] = shown.index(options.index(text))
    return out


def labels(snapshot: Snapshot, response: Any) -> list[str]:
    chosen = normalise(snapshot, response)
    return [f"{snapshot['pairs'][i]['left']} \u2192 {text}" for i, text in sorted(chosen.items())]


def review(snapshot: Snapshot, order: Order, response: Any) -> dict[str, Any]:
    fmt = base.text_format(snapshot)
    chosen = TYPE.safe_normalise(snapshot, response) or {}
    return {"match_items": [
        {"html": base.render_inline(pair["left"], fmt), "chosen": chosen.get(i, ""),
         "answer": pair["right"], "ok": chosen.get(i) == pair["right"]}
        for i, pair in enumerate(snapshot["pairs"]) if pair["left"]
    ]}


TYPE = QuestionType(
    name="matching",
    label=N_("Matching"),
    grade=grade,
    normalise_response=normalise,
    permute=permute,
    public=public,
    from_form=from_form,
    to_form=to_form,
    labels=labels,
    review=review,
    example="::new-question::Ghép mỗi mục với nội dung tương ứng{\n=Mục 1 -> Nội dung 1\n=Mục 2 -> Nội dung 2\n=Mục 3 -> Nội dung 3\n}",
    multiple_values=True,
    formats={"gift": "matching", "moodle_xml": "matching"},
)
