"""Vietnamese text helpers: NFC cleaning, ASCII folding and alphabetical order.

Binary (code point) order puts "Đ" after "Z" and "Ủy" after "Xã"; Vietnamese dictionaries order
letters a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y and compare tone marks only when the
letters are equal (no tone, huyền, hỏi, ngã, sắc, nặng).
"""

from __future__ import annotations

import unicodedata

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# Combining marks that make a separate letter (breve, circumflex, horn) vs tone marks.
_LETTER_MARKS = {"\u0306": "ă", "\u0302": "â", "\u031b": "ơ"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def clean(text: str) -> str:
    """NFC with inner whitespace collapsed and ends stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """Lower-case ASCII without diacritics: "Nguyễn Thị Đào" -> "nguyen thi dao"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.lower()


def _letters(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    primary: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text).lower():
        if char == "đ":
            primary.append(_RANK["đ"])
            tones.append(0)
            continue
        parts = unicodedata.normalize("NFD", char)
        base, marks = parts[0], parts[1:]
        letter = base
        tone = 0
        for mark in marks:
            if mark in _LETTER_MARKS:
                letter = {"a\u0306": "ă", "a\u0302": "â", "e\u0302": "ê", "o\u0302": "ô", "o\u031b": "ơ",
                          "u\u031b": "ư"}.get(base + mark, letter)
            elif mark in _TONES:
                tone = _TONES[mark]
        primary.append(_RANK.get(letter, 100 + ord(letter)) if letter.isalpha() else ord(letter) - 1000)
        tones.append(tone)
    return tuple(primary), tuple(tones)


def vi_sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sort key giving Vietnamese alphabetical order."""
    return _letters(text)


def person_sort_key(full_name: str) -> tuple:
    """Vietnamese names sort by given name (the last word), then family and middle names."""
    words = clean(full_name).split()
    if not words:
        return ((), ())
    return (vi_sort_key(words[-1]), vi_sort_key(" ".join(words[:-1])))


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _encode(text: str) -> str:
    """Letters as two [0-9a-z] characters from "02" up, a space as "01", then "00" to end the
    letters, then one character per tone: binary order of the result is vi_sort_key order."""
    primary, tones = vi_sort_key(text)
    out = []
    for char, rank in zip(unicodedata.normalize("NFC", text).lower(), primary, strict=False):
        if char == " ":
            out.append("01")
            continue
        value = max(0, min(rank, 36 * 36 - 3)) + 2
        out.append(_DIGITS[value // 36] + _DIGITS[value % 36])
    return "".join(out) + "00" + "".join(_DIGITS[t] for t in tones)


def person_sort_text(full_name: str) -> str:
    """A plain [0-9a-z] string whose order is Vietnamese name order (given name first).

    Stored in ``User.sort_name`` so that SQL can ``ORDER BY`` it on any engine and collation.
    """
    words = clean(full_name).split()
    if not words:
        return ""
    return (_encode(words[-1]) + "00" + _encode(" ".join(words[:-1])))[:250]
