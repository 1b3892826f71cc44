"""Vietnamese alphabetical order and folding."""

from hypothesis import given
from hypothesis import strategies as st

from lms.text import clean, fold, person_sort_key, person_sort_text, vi_sort_key


def test_d_with_stroke_sorts_after_d_and_before_e():
    names = ["Xã A Vương", "Đài Phát thanh", "Ủy ban nhân dân", "Báo Sơn Hà", "Dân tộc", "Ên"]
    assert sorted(names, key=vi_sort_key) == ["Báo Sơn Hà", "Dân tộc", "Đài Phát thanh", "Ên", "Ủy ban nhân dân", "Xã A Vương"]


def test_letters_with_breve_circumflex_and_horn_are_separate_letters():
    words = ["ư", "u", "ơ", "ô", "o", "â", "ă", "a"]
    assert sorted(words, key=vi_sort_key) == ["a", "ă", "â", "o", "ô", "ơ", "u", "ư"]


def test_tones_only_break_ties():
    assert sorted(["mạ", "má", "mã", "mả", "mà", "ma", "mb"], key=vi_sort_key) == ["ma", "mà", "mả", "mã", "má", "mạ", "mb"]


def test_people_sort_by_given_name():
    names = ["Nguyễn Văn Bình", "Trần Thị An", "Lê Đức Anh"]
    assert sorted(names, key=person_sort_key) == ["Trần Thị An", "Lê Đức Anh", "Nguyễn Văn Bình"]


def test_fold_and_clean():
    assert fold("Nguyễn Thị Bích Đào") == "nguyen thi bich dao"
    assert clean("  Nguyễn   Văn\u00a0A ") == "Nguyễn Văn A"


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ "


@given(st.text())
def test_sort_key_never_raises(text):
    vi_sort_key(text)
    person_sort_key(text)


@given(st.text(alphabet=VIETNAMESE))
def test_sort_key_ignores_case_for_vietnamese_text(text):
    assert vi_sort_key(text) == vi_sort_key(text.upper())


@given(st.text(alphabet=VIETNAMESE), st.text(alphabet=VIETNAMESE))
def test_stored_sort_text_orders_like_the_sort_key(a, b):
    if not a.split() or not b.split():
        return
    key_a, key_b = person_sort_key(a), person_sort_key(b)
    text_a, text_b = person_sort_text(a), person_sort_text(b)
    assert (key_a < key_b) == (text_a < text_b)
    assert (key_a == key_b) == (text_a == text_b)
