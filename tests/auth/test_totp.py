"""The second factor's pure core (lms.auth.totp): RFC 6238 codes, drift, replay, recovery codes."""

from __future__ import annotations

import base64

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.auth import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_764_760_000.0  # a fixed instant (2025-12-03), in the middle of its 30-second step
STEP = int(NOW) // 30


def test_codes_are_the_rfc_6238_codes_authenticator_apps_show():
    """RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits at T=59 is 94287082."""
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert pyotp.TOTP(rfc_secret, digits=8).at(59) == "94287082"
    assert totp.code_at(rfc_secret, 59 // 30) == "287082"  # the same counter, 6 digits
    assert totp.code_at(SECRET, STEP) == pyotp.TOTP(SECRET).at(NOW)


def test_the_current_code_and_one_step_either_way_are_accepted():
    for offset in (-1, 0, 1):
        assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP + offset), NOW, None) == STEP + offset


def test_two_steps_away_is_refused():
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP - 2), NOW, None) is None
    assert totp.matching_step(SECRET, totp.code_at(SECRET, STEP + 2), NOW, None) is None


def test_a_code_of_the_last_accepted_step_or_earlier_is_a_replay():
    code = totp.code_at(SECRET, STEP)
    assert totp.matching_step(SECRET, code, NOW, STEP) is None
    assert totp.matching_step(SECRET, code, NOW, STEP + 1) is None
    assert totp.matching_step(SECRET, code, NOW, STEP - 1) == STEP


def test_spaces_and_hyphens_in_a_typed_code_are_ignored():
    code = totp.code_at(SECRET, STEP)
    assert totp.matching_step(SECRET, f" {code[:3]} {code[3:]} ", NOW, None) == STEP
    assert totp.matching_step(SECRET, f"{code[:3]}-{code[3:]}", NOW, None) == STEP


def test_full_width_digits_count_as_digits():
    """An input method may type ０-９ (U+FF10-FF19); they are the same digits."""
    full_width = totp.code_at(SECRET, STEP).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert totp.matching_step(SECRET, full_width, NOW, None) == STEP


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12a456", "١٢٣٤٥٦", "12345٦", "𝟏𝟐𝟑",
                                   "0" * 500, "\x00" * 6, "123456\n7", "-" * 6, "ⅰⅱⅲⅳⅴⅵ"])
def test_anything_but_six_ascii_digits_is_refused_without_error(typed):
    assert totp.matching_step(SECRET, typed, NOW, None) is None


@given(offset=st.integers(min_value=-10_000, max_value=10_000), last=st.one_of(st.none(), st.integers(-5, 5)))
def test_property_only_steps_within_drift_and_after_the_last_one_are_accepted(offset, last):
    """Whatever step a code belongs to, it is accepted only within ±1 step and after ``last_step``."""
    code = totp.code_at(SECRET, STEP + offset)
    last_step = None if last is None else STEP + last
    found = totp.matching_step(SECRET, code, NOW, last_step)
    if found is not None:
        assert abs(found - STEP) <= 1
        assert last_step is None or found > last_step
        assert totp.code_at(SECRET, found) == code
    if abs(offset) <= 1 and (last_step is None or STEP + offset > last_step):
        assert found is not None


@given(secret=st.binary(min_size=20, max_size=20))
def test_property_a_code_of_another_secret_rarely_matches(secret):
    """Another secret's code matches only by the 6-digit coincidence (3 steps: about 3 in a million)."""
    other = base64.b32encode(secret).decode()
    if other == SECRET:
        return
    code = totp.code_at(other, STEP)
    accepted = totp.matching_step(SECRET, code, NOW, None)
    if accepted is not None:  # a true coincidence: the two secrets really share the code
        assert totp.code_at(SECRET, accepted) == code


def test_another_secrets_codes_almost_never_match():
    matches = sum(totp.matching_step(SECRET, totp.code_at(totp.new_secret(), STEP), NOW, None) is not None
                  for _ in range(2000))
    assert matches <= 2  # expected 0.006


def test_new_secrets_are_random_base32_of_160_bits():
    secrets_ = {totp.new_secret() for _ in range(50)}
    assert len(secrets_) == 50
    for secret in secrets_:
        assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.grouped("ABCDEFGH") == "ABCD EFGH"


def test_the_provisioning_address_names_the_issuer_and_the_account():
    uri = totp.provisioning_uri(SECRET, "hr.nguyen", "LMS Sơn Hà")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in uri and "hr.nguyen" in uri and "issuer=LMS%20S" in uri


def test_the_qr_code_is_inline_svg_without_the_address_in_its_text():
    uri = totp.provisioning_uri(SECRET, "hr", "lms")
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert SECRET not in svg and "otpauth" not in svg


def test_recovery_codes_are_ten_distinct_codes_of_sixteen_characters():
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == totp.RECOVERY_CODE_COUNT == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3 and code == code.lower()
        assert totp.looks_like_recovery_code(code)
    assert not totp.looks_like_recovery_code("123456")


def test_a_recovery_code_matches_its_hash_whatever_its_case_and_spacing():
    code = totp.new_recovery_codes(1)[0]
    stored = totp.hash_recovery_code(code)
    assert code.replace("-", "") not in stored  # only a hash is kept
    assert totp.recovery_code_matches(stored, code)
    assert totp.recovery_code_matches(stored, code.upper().replace("-", " "))
    assert totp.recovery_code_matches(stored, code.replace("-", ""))


def test_a_recovery_code_matches_no_other_hash():
    first, second = totp.new_recovery_codes(2)
    assert not totp.recovery_code_matches(totp.hash_recovery_code(first), second)
    assert not totp.recovery_code_matches("no-dollar-sign", first)
    assert not totp.recovery_code_matches(totp.hash_recovery_code(first), first[:-1])


def test_each_recovery_code_hash_has_its_own_salt():
    code = totp.new_recovery_codes(1)[0]
    assert totp.hash_recovery_code(code) != totp.hash_recovery_code(code)


@given(typed=st.text(max_size=60))
def test_property_no_typed_text_raises(typed):
    """Whatever is typed, the checks answer yes or no and never raise."""
    stored = totp.hash_recovery_code("abcd-efgh-ijkl-mnop")
    assert totp.matching_step(SECRET, typed, NOW, None) in (None, STEP - 1, STEP, STEP + 1)
    totp.recovery_code_matches(stored, typed)
    totp.looks_like_recovery_code(typed)
