"""Decode HR files that may be in a legacy Vietnamese encoding, and repair cells typed in legacy fonts.

Before Unicode, Vietnamese offices typed with font-based encodings: TCVN3 (ABC, the ``.Vn*`` fonts)
and VNI (the ``VNI-*`` fonts), plus Microsoft's Windows-1258 code page. Files saved from those years
still circulate, and workbooks that are otherwise Unicode often hold a few cells typed in a ``.VnTime``
font, which Excel stores as Western (cp1252) characters: "Nguyễn Văn A" arrives as "NguyÔn V¨n A".

Nothing here guesses silently. Each candidate decoding is scored by how many of its words are valid
Vietnamese syllables and how many stray symbols (the mojibake markers) remain; when no candidate is
clearly right the caller gets an :class:`EncodingProblem` whose message tells the user what to do.
Pure functions only: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from lms.i18n import _

__all__ = [
    "DecodedText",
    "EncodingProblem",
    "ascii_fold",
    "decode_text",
    "encode_legacy",
    "fix_legacy_cell",
    "guess_legacy_cell",
    "is_vietnamese_syllable",
    "tcvn3_to_unicode",
    "vni_to_unicode",
]

# Encoding names used in DecodedText.encoding and in messages.
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
UTF32 = "utf-32"
CP1258 = "windows-1258"
VNI = "vni"
TCVN3 = "tcvn3"

_LABELS = {
    CP1258: "Windows-1258",
    VNI: "VNI",
    TCVN3: "TCVN3 (ABC)",
}


class EncodingProblem(ValueError):
    """The bytes cannot be turned into trustworthy text; ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DecodedText:
    """Text in Unicode NFC and the encoding it was read from."""

    text: str
    encoding: str

    @property
    def legacy(self) -> bool:
        return self.encoding in _LABELS


# --- Vietnamese letters ------------------------------------------------------------------------

_TONES = {
    "": "",
    "acute": "\u0301",
    "grave": "\u0300",
    "hook": "\u0309",
    "tilde": "\u0303",
    "dot": "\u0323",
}
_TONE_MARKS = frozenset(_TONES.values()) - {""}
# Base vowels of the Vietnamese alphabet (before tone marks).
_BASE_VOWELS = "aăâeêioôơuưy"


def _with_tone(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + _TONES[tone])


_VIET_LOWER = frozenset(
    {_with_tone(v, t) for v in _BASE_VOWELS for t in _TONES} | set("bcdđghklmnpqrstvx")
)
_VIET_LETTERS = _VIET_LOWER | {c.upper() for c in _VIET_LOWER}
# Letters that only Vietnamese text (not ASCII, not a Western code page) produces.
_VIET_ONLY = frozenset(c for c in _VIET_LETTERS if ord(c) > 0xFF)
# Characters a clean HR file may contain besides ASCII and Vietnamese letters.
_ALLOWED_EXTRA = frozenset("\u00a0–—‘’“”…•°№€\ufeff")


def ascii_fold(text: str) -> str:
    """Remove Vietnamese diacritics ("Nguyễn Đào" -> "Nguyen Dao"); other characters stay."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- syllable check ----------------------------------------------------------------------------

_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
# Nuclei that may take a final consonant, and those that end in a glide and take none.
_OPEN_NUCLEI = "uyê|ươ|iê|yê|uô|oa|oă|oe|oo|uâ|uê|uơ|uy|ưa|ua|ia|ya|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y"
_CLOSED_NUCLEI = (
    "iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|uya|uyu|ai|ao|au|ay|âu|ây|eo|êu|iu|oi|ôi|ơi|ui|ưi|ưu"
)
_FINALS = "ch|nh|ng|c|m|n|p|t"
_SYLLABLE_RE = re.compile(
    rf"(?:{_INITIALS})?(?:(?:{_OPEN_NUCLEI})(?:{_FINALS})?|(?:{_CLOSED_NUCLEI}))"
)


@lru_cache(maxsize=65536)
def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` is spelled like one Vietnamese syllable (at most one tone mark, any case)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for c in decomposed if c in _TONE_MARKS)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return _SYLLABLE_RE.fullmatch(base) is not None


_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class _Score:
    good: int  # words with Vietnamese letters that are valid syllables
    bad: int  # words with non-ASCII letters that are not valid syllables
    stray: int  # characters that have no business in a Vietnamese HR file

    @property
    def badness(self) -> int:
        return self.bad + self.stray

    def clean(self) -> bool:
        return self.badness == 0 and self.good > 0

    def acceptable(self) -> bool:
        """Mostly Vietnamese; a few foreign names or odd symbols are tolerated."""
        return self.good > 0 and self.badness * 20 <= self.good + self.badness


def _score(text: str) -> _Score:
    good = bad = 0
    for word in _WORD_RE.findall(text):
        if word.isascii():
            continue
        if is_vietnamese_syllable(word):
            good += 1
        else:
            bad += 1
    stray = 0
    for char, count in Counter(text).items():
        if char.isascii() or char in _VIET_LETTERS or char in _ALLOWED_EXTRA:
            continue
        if char.isspace() or unicodedata.category(char) == "Nd":
            continue
        # Letters were judged above as part of their word; count the rest (symbols, combining marks).
        if not char.isalpha():
            stray += count
    return _Score(good, bad, stray)


# --- byte -> cp1252 text -----------------------------------------------------------------------


def _cp1252_table() -> dict[int, str]:
    table = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue  # undefined in cp1252: keep the latin-1 control character
    return table


_CP1252_FROM_LATIN1 = str.maketrans(_cp1252_table())
_CP1252_EXTRAS = frozenset(_cp1252_table().values())


def _as_cp1252(data: bytes) -> str:
    """Bytes as Windows would show them in a Western font, never failing."""
    return data.decode("latin-1").translate(_CP1252_FROM_LATIN1)


# --- TCVN3 (ABC) -------------------------------------------------------------------------------

# TCVN 5712:1993 VN3 as seen through cp1252: one byte per letter. Only the seven capitals below have
# their own codes; other capitals were typed with the ``.Vn...H`` fonts, which draw these same
# lower-case codes as capitals, so the bytes alone cannot tell "ễ" from "Ễ".
_TCVN3_CAPITALS = {"¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ"}
_TCVN3_LOWER = dict(
    zip(
        "¨©ª«¬\u00ad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ",
        "ăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
        strict=True,
    )
)
_TCVN3_MAP = str.maketrans({**_TCVN3_CAPITALS, **_TCVN3_LOWER})
_TCVN3_LETTERS = "".join(_TCVN3_CAPITALS) + "".join(_TCVN3_LOWER)
_TCVN3_WORD_RE = re.compile("[A-Za-z" + re.escape(_TCVN3_LETTERS) + "]+")
# Case is only reliable for ASCII letters and the seven real capitals.
_TCVN3_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ") | set(_TCVN3_CAPITALS)
_TCVN3_CASE_KNOWN = _TCVN3_UPPER | set("abcdefghijklmnopqrstuvwxyz")
_SEGMENT_RE = re.compile(r"[^\t,;|\r\n\"]+")


def _tcvn3_word(match: re.Match[str]) -> str:
    word = match.group()
    converted = word.translate(_TCVN3_MAP)
    # "NGUYÔN": every letter of known case after the first is upper-case, so the word was typed in a
    # capitals font and its toned letters are capitals too. A lone "Lª" stays "Lê".
    known = [c for c in word[1:] if c in _TCVN3_CASE_KNOWN]
    if known and all(c in _TCVN3_UPPER for c in known):
        return converted.upper()
    return converted


def _tcvn3_segment(match: re.Match[str]) -> str:
    segment = match.group()
    known = [c for c in segment if c in _TCVN3_CASE_KNOWN]
    if len(known) >= 2 and all(c in _TCVN3_UPPER for c in known):
        return segment.translate(_TCVN3_MAP).upper()  # "NGUYÔN V¡N Lª": a whole field in capitals
    return _TCVN3_WORD_RE.sub(_tcvn3_word, segment)


def tcvn3_to_unicode(text: str) -> str:
    """Convert TCVN3 (ABC) text read as cp1252 to Unicode NFC, restoring capitals where unambiguous.

    A field (text between separators) whose letters of known case are all capitals becomes all
    capitals, as does a word whose letters after the first are; otherwise toned letters stay small.
    """
    return unicodedata.normalize("NFC", _SEGMENT_RE.sub(_tcvn3_segment, text))


# --- VNI ---------------------------------------------------------------------------------------

# VNI-Windows writes a base letter followed by one byte for the marks (read as cp1252 below).
_VNI_TONE = {"acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRCUMFLEX = {"": "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE = {"": "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
# Letters VNI writes as a single byte.
_VNI_SINGLE = {
    "đ": "ñ",
    "ơ": "ô",
    "ư": "ö",
    "ì": "ì",
    "í": "í",
    "ỉ": "æ",
    "ĩ": "ó",
    "ị": "ò",
    "ỵ": "î",
}


def _vni_sequences() -> dict[str, str]:
    """Map every VNI byte sequence (as cp1252 text) to its Unicode letter."""
    lower: dict[str, str] = {}  # unicode letter -> (base, marks)
    for base in "aeouy":
        for tone, mark in _VNI_TONE.items():
            lower[_with_tone(base, tone)] = base + mark
    for base, plain in (("a", "â"), ("e", "ê"), ("o", "ô")):
        for tone, mark in _VNI_CIRCUMFLEX.items():
            lower[_with_tone(plain, tone)] = base + mark
    for tone, mark in _VNI_BREVE.items():
        lower[_with_tone("ă", tone)] = "a" + mark
    for base, single in (("ơ", "ô"), ("ư", "ö")):
        for tone, mark in _VNI_TONE.items():
            lower[_with_tone(base, tone)] = single + mark
    lower.update(_VNI_SINGLE)

    sequences: dict[str, str] = {}
    for letter, seq in lower.items():
        if len(seq) == 1:
            sequences[seq] = letter
            sequences[seq.upper()] = letter.upper()
            continue
        base, mark = seq[0], seq[1]
        # Typists mixed small marks with capital letters and the reverse; the base letter decides.
        for mark_form in (mark, mark.upper()):
            sequences[base + mark_form] = letter
            sequences[base.upper() + mark_form] = letter.upper()
    return sequences


_VNI_MAP = _vni_sequences()


def _vni_mark_case(seq: str) -> str:
    """The mark of a two-byte VNI sequence in the case of its base letter (the canonical form)."""
    return seq[1:].upper() if seq[0].isupper() else seq[1:].lower()


_VNI_RE = re.compile("|".join(map(re.escape, sorted(_VNI_MAP, key=len, reverse=True))))


def vni_to_unicode(text: str) -> str:
    """Convert VNI-Windows text read as cp1252 ("Nguyeãn Vaên A") to Unicode NFC."""
    return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: _VNI_MAP[m.group()], text))


# --- whole files -------------------------------------------------------------------------------


def _double_encoding_markers() -> re.Pattern[str]:
    # Each Vietnamese letter's UTF-8 bytes shown as cp1252: "á»" for "ệ", "Ä‘" for "đ", "Ã¡" for "á".
    pairs = set()
    for letter in _VIET_LETTERS:
        if ord(letter) > 0x7F:
            pairs.add(_as_cp1252(letter.encode("utf-8"))[:2])
    return re.compile("|".join(map(re.escape, sorted(pairs))))


_DOUBLE_ENCODED_RE = _double_encoding_markers()
_SAMPLE_CHARS = 200_000


def _looks_double_encoded(text: str) -> bool:
    sample = text[:_SAMPLE_CHARS]
    hits = len(_DOUBLE_ENCODED_RE.findall(sample))
    if hits == 0:
        return False
    # A genuine "Ã" followed by a symbol is possible once; mojibake repeats on every line.
    return hits >= 3 or not _score(sample).acceptable()


def _ambiguous(first: str, second: str) -> EncodingProblem:
    return EncodingProblem(
        _(
            "The file is not UTF-8 and looks like %(first)s or %(second)s; save it as "
            "'CSV UTF-8' in Excel and upload it again.",
            first=_LABELS[first],
            second=_LABELS[second],
        )
    )


def _decode_legacy(data: bytes) -> DecodedText:
    western = _as_cp1252(data)
    candidates = {
        CP1258: unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")),
        TCVN3: tcvn3_to_unicode(western),
        VNI: vni_to_unicode(western),
    }
    scores = {name: _score(text[:_SAMPLE_CHARS]) for name, text in candidates.items()}
    ranked = sorted(scores, key=lambda name: scores[name].good - 3 * scores[name].badness)
    ranked.reverse()
    best = ranked[0]
    if not scores[best].acceptable():
        plausible = [name for name in ranked if scores[name].good > 0]
        if len(plausible) >= 2:
            raise _ambiguous(plausible[0], plausible[1])
        raise EncodingProblem(
            _(
                "The file is not UTF-8 and its Vietnamese encoding could not be recognised; "
                "save it as 'CSV UTF-8' in Excel and upload it again."
            )
        )
    # Two encodings can agree on one reading while a third reads the bytes differently (b"t\xfd" is
    # "tý" in both VNI and TCVN3 and "tư" in Windows-1258): every other plausible reading counts.
    for other in ranked[1:]:
        rival = scores[other]
        if (
            rival.acceptable()
            and rival.good * 2 >= scores[best].good
            and candidates[other] != candidates[best]
        ):
            raise _ambiguous(best, other)  # two readings both look right: only a person can tell
    return DecodedText(candidates[best], best)


def decode_text(data: bytes) -> DecodedText:
    """Decode a CSV/text file to Unicode NFC, or raise :class:`EncodingProblem` with advice.

    Accepts UTF-8 (with or without BOM), UTF-16/32 with BOM, and the legacy Windows-1258, VNI and
    TCVN3 encodings, which are told apart by scoring each reading.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_unicode(data[3:], "utf-8", UTF8_BOM)
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _decode_unicode(data, "utf-32", UTF32)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_unicode(data, "utf-16", UTF16)
    if b"\x00" in data:
        raise EncodingProblem(
            _(
                "The file is not a text file (it contains binary data); save it as 'CSV UTF-8' "
                "in Excel and upload it again."
            )
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_legacy(data)
    return _checked_unicode(text, UTF8)


def _decode_unicode(data: bytes, codec: str, label: str) -> DecodedText:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise EncodingProblem(
            _(
                "The file starts with a %(encoding)s marker but is not valid %(encoding)s; save "
                "it as 'CSV UTF-8' in Excel and upload it again.",
                encoding=codec.upper(),
            )
        ) from None
    return _checked_unicode(text.removeprefix("\ufeff"), label)


def _checked_unicode(text: str, label: str) -> DecodedText:
    text = unicodedata.normalize("NFC", text)
    if _looks_double_encoded(text):
        raise EncodingProblem(
            _(
                "The file's Vietnamese text was garbled by an earlier conversion (it shows "
                "characters such as 'á»' or 'Ä‘'); open the original file, save it as "
                "'CSV UTF-8' in Excel and upload it again."
            )
        )
    return DecodedText(text, label)


# --- single cells ------------------------------------------------------------------------------


def guess_legacy_cell(text: str) -> str | None:
    """Name the legacy font encoding ("tcvn3" or "vni") a Unicode cell was typed in, if it clearly was.

    Conservative: the cell must contain Western characters that make it invalid as Vietnamese, and
    exactly one conversion must turn every word into a valid syllable with no stray symbol left.
    """
    if text.isascii():
        return None
    if any(c in _VIET_ONLY for c in text):
        return (
            None  # real Unicode Vietnamese: "ư", "ơ", "đ", "ạ" ... cannot come from a legacy font
        )
    if any(ord(c) > 0xFF and c not in _CP1252_EXTRAS for c in text):
        return None  # characters no Western font produces: the cell is Unicode already
    as_is = _score(text)
    if as_is.badness == 0:
        return None  # "Tô Hà" is valid Vietnamese as typed
    clean = {}
    for name, convert in ((TCVN3, tcvn3_to_unicode), (VNI, vni_to_unicode)):
        converted = convert(text)
        if converted != text and _score(converted).clean():
            clean[name] = converted
    if len(clean) == 1:
        return next(iter(clean))
    if len(clean) == 2 and clean[TCVN3] == clean[VNI]:
        return TCVN3
    return None


def fix_legacy_cell(text: str) -> str:
    """Return ``text`` converted to Unicode if it was clearly typed in a TCVN3 or VNI font, else as is."""
    encoding = guess_legacy_cell(text)
    if encoding == TCVN3:
        return tcvn3_to_unicode(text)
    if encoding == VNI:
        return vni_to_unicode(text)
    return text


# --- the other way round -----------------------------------------------------------------------
# Used to build test files and to reproduce what a user's old software wrote.

_TO_TCVN3 = {u: c for c, u in {**_TCVN3_LOWER, **_TCVN3_CAPITALS}.items()}
_TO_VNI = {u: seq for seq, u in _VNI_MAP.items() if len(seq) == 1 or seq[1:] == _vni_mark_case(seq)}


def encode_legacy(text: str, encoding: str) -> bytes:
    """Encode ``text`` as TCVN3, VNI or Windows-1258 bytes (toned capitals become small in TCVN3)."""
    text = unicodedata.normalize("NFC", text)
    if encoding == TCVN3:
        chars = (_TO_TCVN3.get(c) or _TO_TCVN3.get(c.lower(), c) for c in text)
        return "".join(chars).encode("cp1252")
    if encoding == VNI:
        return "".join(_TO_VNI.get(c, c) for c in text).encode("cp1252")
    if encoding == CP1258:
        out = bytearray()
        for char in text:
            try:
                out += char.encode("cp1258")
            except UnicodeEncodeError:
                decomposed = unicodedata.normalize("NFD", char)
                base = "".join(c for c in decomposed if c not in _TONE_MARKS)
                tone = "".join(c for c in decomposed if c in _TONE_MARKS)
                out += unicodedata.normalize("NFC", base).encode("cp1258") + tone.encode("cp1258")
        return bytes(out)
    raise ValueError(f"unknown legacy encoding {encoding!r}")
