"""Certificate codes: unguessable, typeable, and every common typo is caught."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.certificates import codes
from lms.certificates.codes import (
    ALPHABET,
    DATA_LENGTH,
    RANDOM_BITS,
    is_well_formed,
    new_code,
    normalise_code,
)

CANONICAL = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]$")

valid_codes = st.integers(min_value=0, max_value=(1 << RANDOM_BITS) - 1).map(codes._code_from_int)


def _symbols(code: str) -> list[str]:
    return list(code.replace("-", ""))


def _join(symbols: list[str]) -> str:
    return codes._group("".join(symbols))


def test_alphabet_is_crockford_base32_without_i_l_o_u():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_new_code_has_canonical_grouped_shape_and_is_well_formed():
    for _ in range(200):
        code = new_code()
        assert CANONICAL.match(code), code
        assert is_well_formed(code)


def test_new_code_draws_at_least_80_bits_from_secrets(monkeypatch):
    requested = []

    def fake_randbits(k: int) -> int:
        requested.append(k)
        return (1 << k) - 1

    monkeypatch.setattr(codes.secrets, "randbits", fake_randbits)
    new_code()
    assert requested == [RANDOM_BITS]
    assert RANDOM_BITS >= 80


@given(st.integers(min_value=0, max_value=(1 << RANDOM_BITS) - 1))
def test_every_80_bit_number_gets_its_own_code_so_no_entropy_is_lost(number):
    data = codes._code_from_int(number).replace("-", "")[:DATA_LENGTH]
    assert int("".join(f"{ALPHABET.index(s):05b}" for s in data), 2) == number


def test_codes_outside_80_bits_are_rejected():
    with pytest.raises(ValueError):
        codes._code_from_int(1 << RANDOM_BITS)


def test_fresh_codes_do_not_repeat():
    assert len({new_code() for _ in range(5000)}) == 5000


def test_check_operation_is_a_latin_square_so_any_single_substitution_changes_the_result():
    """Damm's condition 1, checked over the whole field: rows and columns are permutations."""
    table = [[codes._times_multiplier(x) ^ y for y in range(32)] for x in range(32)]
    for row in table:
        assert sorted(row) == list(range(32))
    for column in zip(*table, strict=True):
        assert sorted(column) == list(range(32))


def test_check_operation_is_totally_anti_symmetric_so_any_adjacent_swap_changes_the_result():
    """Damm's condition 2, exhaustively: (c*x)*y == (c*y)*x only when x == y."""

    def op(x: int, y: int) -> int:
        return codes._times_multiplier(x) ^ y

    for c in range(32):
        for x in range(32):
            for y in range(32):
                if x != y:
                    assert op(op(c, x), y) != op(op(c, y), x), (c, x, y)


@given(valid_codes)
def test_every_single_substitution_is_detected(code):
    symbols = _symbols(code)
    for position, original in enumerate(symbols):
        for replacement in ALPHABET:
            if replacement != original:
                typo = symbols.copy()
                typo[position] = replacement
                assert not is_well_formed(_join(typo)), (code, position, replacement)


@given(valid_codes)
def test_every_adjacent_transposition_is_detected_including_the_check_symbol(code):
    symbols = _symbols(code)
    for position in range(len(symbols) - 1):
        if symbols[position] != symbols[position + 1]:
            swapped = symbols.copy()
            swapped[position], swapped[position + 1] = swapped[position + 1], swapped[position]
            assert not is_well_formed(_join(swapped)), (code, position)


@given(valid_codes)
def test_normalise_accepts_lower_case_spaces_and_missing_dashes(code):
    typed = code.lower().replace("-", " ")
    assert normalise_code(typed) == code
    assert normalise_code(code.replace("-", "")) == code
    assert normalise_code(f"  {code.lower()}  ") == code


def test_normalise_reads_o_as_zero_and_i_or_l_as_one():
    code = codes._code_from_int(0x1_0000_0000_0000_0001)
    assert "0" in code and "1" in code
    typed = code.replace("0", "o").replace("1", "L", 1).replace("1", "i")
    assert normalise_code(typed) == code
    assert is_well_formed(typed)


@given(st.text())
def test_normalise_is_idempotent(text):
    once = normalise_code(text)
    assert normalise_code(once) == once


@given(valid_codes)
def test_normalise_is_idempotent_on_codes(code):
    assert normalise_code(normalise_code(code.lower())) == code


@pytest.mark.parametrize(
    "text",
    ["", "7KQ4-M2XD", "7KQ4-M2XD-9TRA-WP3C-HH", "7KQ4-M2XD-9TRA-WP3C-U", "7KQ4!M2XD-9TRA-WP3C-H"],
)
def test_wrong_length_or_foreign_symbols_are_not_well_formed(text):
    assert not is_well_formed(text)


def test_u_is_never_accepted_even_though_it_looks_like_v():
    code = codes._code_from_int(0)
    assert code.startswith("0000")
    assert not is_well_formed("U" + code[1:])
