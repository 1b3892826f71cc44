"""Legacy Vietnamese encodings: decode what is clear, refuse what is not, never return mojibake."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.org.vnencoding import (
    EncodingProblem,
    ascii_fold,
    decode_text,
    encode_legacy,
    fix_legacy_cell,
    guess_legacy_cell,
    is_vietnamese_syllable,
    tcvn3_to_unicode,
    vni_to_unicode,
)

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = (
    "Họ và tên,Mã đơn vị,Chức vụ\r\n"
    "Nguyễn Thị Bích Đào,STP,Chuyên viên\r\n"
    "Trần Văn Ước,SNGV,Phó Giám đốc Sở\r\n"
    "Phạm Quốc Khánh,CAT,Trưởng phòng\r\n"
    "Đinh Ngọc Phượng,HLHPN,Phó Chủ tịch Hội\r\n"
)
LOWER_LETTERS = (
    "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ"
)
ALL_LETTERS = LOWER_LETTERS + LOWER_LETTERS.upper()
# Syllables seen in names, titles and agency names; combined freely by the property tests.
_SYLLABLE_TEXT = (
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý thị văn hữu đức "
    "minh ngọc bích đào thuỷ khánh quốc phượng ước hiền mai lan hương tuấn dũng hùng cường "
    "sở tư pháp ngoại vụ nội thông tin truyền ban dân tộc huyện xã phường tỉnh quảng nam "
    "người phát ngôn nhân quyền báo chí đài chuyên viên giám đốc trưởng phòng hội phụ nữ "
    "nghiêng khuyến giữ gìn trường quyết tuyệt ưu yêu oải xoong"
)
SYLLABLES = _SYLLABLE_TEXT.split()


def vietnamese_text(min_words: int = 1, max_words: int = 40):
    """Lines of real syllables, some capitalised, as in names and agency lists."""
    words = st.sampled_from(SYLLABLES) | st.sampled_from(SYLLABLES).map(str.capitalize)
    lines = st.lists(words, min_size=1, max_size=6).map(" ".join)
    return st.lists(lines, min_size=min_words, max_size=max_words).map("\r\n".join)


# --- syllables ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", SYLLABLES + ["Nguyễn", "ĐÀO", "gì", "quyển", "uyên", "a"])
def test_real_syllables_are_valid(word):
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize(
    "word", ["NguyÔn", "V¨n", "Nguyeãn", "Vaên", "Müller", "café", "huyênn", "ngà̀", "fa", "xyz"]
)
def test_mojibake_and_foreign_words_are_not_syllables(word):
    assert not is_vietnamese_syllable(word)


def test_ascii_fold_removes_all_vietnamese_diacritics_including_d_stroke():
    assert ascii_fold("Nguyễn Thị Bích Đào, đường") == "Nguyen Thi Bich Dao, duong"


# --- Unicode files -----------------------------------------------------------------------------


def test_utf8_without_bom_is_decoded_and_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", SAMPLE)
    result = decode_text(decomposed.encode("utf-8"))
    assert result.text == SAMPLE
    assert result.encoding == "utf-8"
    assert not result.legacy


def test_utf8_bom_is_removed():
    result = decode_text(b"\xef\xbb\xbf" + SAMPLE.encode())
    assert result.text == SAMPLE
    assert result.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom_are_decoded(codec):
    data = SAMPLE.encode(codec)
    if codec.endswith(("le", "be")):
        data = ("\ufeff" + SAMPLE).encode(codec)
    assert decode_text(data).text == SAMPLE


def test_bom_that_lies_is_refused():
    with pytest.raises(EncodingProblem, match="UTF-16"):
        decode_text(b"\xff\xfe" + b"\x00\xd8")  # a lone surrogate


def test_binary_data_is_refused():
    with pytest.raises(EncodingProblem, match="not a text file"):
        decode_text(b"PK\x03\x04\x00\x00binary")


def test_double_encoded_utf8_is_refused_not_returned_as_mojibake():
    garbled = SAMPLE.encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")
    with pytest.raises(EncodingProblem, match="garbled"):
        decode_text(garbled)


# --- legacy files ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "windows-1258"])
def test_legacy_file_is_detected_and_converted(encoding):
    result = decode_text(encode_legacy(SAMPLE, encoding))
    assert result.encoding == encoding
    assert result.legacy
    assert result.text == SAMPLE


def test_windows_1258_combining_tone_marks_become_precomposed_nfc():
    data = encode_legacy("Nguyễn", "windows-1258")
    assert b"\xde" in data  # the tilde travels as a separate combining byte
    assert decode_text(data + b",STP\r\nTr\xe2\xccn V\xe3n \xdd\xf5\xecc,SNV").text == (
        "Nguyễn,STP\r\nTrần Văn Ước,SNV"
    )


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("officers_tcvn3.csv", "tcvn3"),
        ("officers_vni.csv", "vni"),
        ("officers_cp1258.csv", "windows-1258"),
    ],
)
def test_fixture_files_are_recognised(name, encoding):
    result = decode_text((FIXTURES / name).read_bytes())
    assert result.encoding == encoding
    assert "Nguyễn Thị Bích Đào" in result.text
    assert "NGUYỄN VĂN LÊ" in result.text


def test_when_two_readings_are_plausible_the_file_is_refused_with_advice():
    # "T\xf4" is "Tô" in Windows-1258, "Tụ" in TCVN3 and "Tơ" in VNI: only a person can tell.
    with pytest.raises(EncodingProblem) as excinfo:
        decode_text(b"T\xf4")
    message = excinfo.value.message
    assert "not UTF-8" in message
    assert "looks like" in message
    assert "'CSV UTF-8'" in message


def test_unrecognisable_bytes_are_refused():
    with pytest.raises(EncodingProblem, match="could not be recognised"):
        decode_text("Müller; Größe; Straße; Übung; Ärger".encode("cp1252"))


def test_a_reading_two_encodings_share_does_not_outvote_a_third_plausible_reading():
    # b"t\xfd" is "tý" in VNI and in TCVN3 but "tư" in Windows-1258: only a person can tell.
    with pytest.raises(EncodingProblem, match="looks like"):
        decode_text(encode_legacy("tư tư", "windows-1258"))


@given(vietnamese_text(), st.sampled_from(["vni", "windows-1258", "tcvn3"]))
@settings(max_examples=300, deadline=None)
def test_legacy_decoding_returns_the_original_text_or_refuses(text, encoding):
    if encoding == "tcvn3":
        # Toned capitals have no TCVN3 code, so only lower-case text can come back unchanged.
        text = text.lower()
    try:
        result = decode_text(encode_legacy(text, encoding))
    except EncodingProblem:
        return
    assert result.text == text


@given(vietnamese_text(min_words=8), st.sampled_from(["vni", "windows-1258"]))
@settings(max_examples=100, deadline=None)
def test_legacy_files_of_a_few_lines_are_always_recognised(text, encoding):
    if text.isascii():
        return
    assert decode_text(encode_legacy(text, encoding)).text == text


@given(st.binary(max_size=400))
@settings(max_examples=500, deadline=None)
def test_random_bytes_give_text_or_a_refusal_never_another_exception(data):
    try:
        result = decode_text(data)
    except EncodingProblem as problem:
        assert problem.message
    else:
        assert unicodedata.is_normalized("NFC", result.text)


# --- converters and single cells ---------------------------------------------------------------


def test_every_letter_round_trips_through_vni_and_windows_1258():
    for encoding in ("vni", "windows-1258"):
        for letter in ALL_LETTERS:
            data = encode_legacy(letter, encoding)
            if encoding == "vni":
                assert vni_to_unicode(data.decode("cp1252")) == letter
            else:
                assert unicodedata.normalize("NFC", data.decode("cp1258")) == letter


def test_every_small_letter_and_the_seven_capitals_round_trip_through_tcvn3():
    for letter in LOWER_LETTERS + "ĂÂÊÔƠƯĐ":
        assert tcvn3_to_unicode(encode_legacy(letter, "tcvn3").decode("cp1252")) == letter


def test_tcvn3_toned_capitals_are_restored_where_the_rest_of_the_word_is_in_capitals():
    assert tcvn3_to_unicode("NGUYÔN") == "NGUYỄN"
    assert tcvn3_to_unicode("§µO") == "ĐÀO"


def test_tcvn3_a_field_in_capitals_restores_even_short_words():
    assert tcvn3_to_unicode("NGUYÔN V¡N Lª,Së T\xadph¸p") == "NGUYỄN VĂN LÊ,Sở Tưpháp"


def test_tcvn3_toned_capital_at_the_start_of_a_word_stays_small_because_it_is_ambiguous():
    assert tcvn3_to_unicode("Lª ¸nh") == "Lê ánh"


def test_vni_capital_letter_with_small_mark_takes_the_case_of_the_letter():
    assert vni_to_unicode("Aù aÙ") == "Á á"


@pytest.mark.parametrize(
    ("typed", "expected", "encoding"),
    [
        ("NguyÔn V¨n A", "Nguyễn Văn A", "tcvn3"),
        ("Ng« Quang Lª", "Ngô Quang Lê", "tcvn3"),
        ("Nguyeãn Vaên A", "Nguyễn Văn A", "vni"),
        ("Sôû Tö phaùp", "Sở Tư pháp", "vni"),
    ],
)
def test_cells_typed_in_a_legacy_font_are_converted(typed, expected, encoding):
    assert guess_legacy_cell(typed) == encoding
    assert fix_legacy_cell(typed) == expected


@pytest.mark.parametrize(
    "cell",
    [
        "",
        "Tô Hà",  # valid Vietnamese made of Latin-1 letters
        "Lê Thị Hà",
        "Nguyễn Văn A",
        "Müller",
        "Café",
        "Tổng cộng: 25 người",
        "CB-0001",
        "dao.ntb@quangnam.gov.vn",
        "Phó Giám đốc – Sở Tư pháp",
        "Sở Tư pháp (STP) · Quảng Nam",
    ],
)
def test_unicode_and_foreign_cells_are_left_alone(cell):
    assert fix_legacy_cell(cell) == cell


@given(vietnamese_text(max_words=3))
@settings(max_examples=300, deadline=None)
def test_fix_legacy_cell_never_changes_valid_unicode_vietnamese(text):
    assert fix_legacy_cell(text) == text


@given(vietnamese_text(max_words=2))
@settings(max_examples=300, deadline=None)
def test_vni_cells_are_converted_back_or_left_alone(text):
    typed = encode_legacy(text, "vni").decode("cp1252")
    assert fix_legacy_cell(typed) in (text, typed)
