"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from lms.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 128

# The passwords people pick first, in Vietnam and everywhere: refused whatever their length.
_COMMON = """
123456 1234567 12345678 123456789 1234567890 0123456789 987654321 9876543210 11111111 111111111
00000000 000000000 12341234 12121212 11223344 88888888 66666666 99999999 123123123 123321123
password password1 password123 passw0rd p@ssw0rd p@ssword qwerty qwertyui qwertyuiop qwerty123
1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx abc12345 abcd1234 abcdefgh a1234567 aa123456 asdfghjk
iloveyou iloveyou1 sunshine princess football baseball welcome1 welcome123 letmein1 trustno1
admin123 administrator adminadmin changeme superman dragon123 monkey123 master123 login123
matkhau matkhau1 matkhau123 matkhau@123 anhyeuem anhyeuem1 emyeuanh yeuemmaimai vietnam1
vietnam123 hanoi123 saigon123 123456aa 123456abc abc123456 12345678a 123456789a qwe123456
motorola samsung123 nokia123 taikhoan taikhoan1 quantri quantri123 canbo123 congchuc congchuc1
"""


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(_COMMON.split())


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Why ``password`` is not acceptable (translated messages); empty when it is fine."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(num)s characters.", num=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(num)s characters.", num=MAX_LENGTH))
    folded = unicodedata.normalize("NFC", password).casefold()
    if folded in _common_passwords() or len(set(folded)) <= 2:
        problems.append(_("This password is too common; choose another."))
    elif username and folded == username.casefold():
        problems.append(_("The password must not be your username."))
    return problems


_PROFILES = {
    "default": RFC_9106_LOW_MEMORY,
    # For tests only: same algorithm, tiny cost.
    "fast": RFC_9106_LOW_MEMORY.__class__(
        salt_len=16, hash_len=32, time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID, version=19
    ),
}


@cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[profile])


def hash_password(password: str, profile: str = "default") -> str:
    """An argon2id hash of the NFC form of ``password``."""
    return _hasher(profile).hash(unicodedata.normalize("NFC", password))


def verify_password(password_hash: str | None, password: str, profile: str = "default") -> bool:
    """True when ``password`` matches; a missing or malformed hash never matches."""
    if not password_hash:
        # Spend the same time as a real check so that timing does not reveal unknown accounts.
        _hasher(profile).hash("timing-equaliser")
        return False
    try:
        return _hasher(profile).verify(password_hash, unicodedata.normalize("NFC", password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, profile: str = "default") -> bool:
    return _hasher(profile).check_needs_rehash(password_hash)
