"""Certificate codes: unguessable, typeable, and self-checking.

A code is 16 random symbols (80 bits from ``secrets``) in Crockford's base32 alphabet followed by one
check symbol, printed in groups of four: ``7KQ4-M2XD-9TRA-WP3C-H``. The alphabet has no I, L, O or U, so
what an inspector reads off paper is what they type; ``normalise_code`` forgives the usual slips
(lower case, spaces, missing dashes, O for 0, I or L for 1).

Why this check symbol and not Crockford's own: Crockford's mod-37 check needs five extra symbols
(``* ~ $ = U``) that are awkward to type and must be escaped in URLs. We stay inside the 32 symbols by
computing the check in the finite field GF(32) with Damm's quasigroup ``x * y = a.x + y`` (``a`` = the
field element 2, not 0 and not 1). That operation is a Latin square, so every single wrong symbol changes
the result, and it is totally anti-symmetric, ``(c * x) * y == (c * y) * x`` only when ``x == y``, so every
swap of two neighbouring symbols (the check symbol included) changes it too. The tests prove both
properties exhaustively over the field, not just on samples.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 16
RANDOM_BITS = DATA_LENGTH * 5
GROUP_SIZE = 4

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding rules for look-alikes; U stays invalid so that it cannot hide a typo.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212_.")

# GF(32) = GF(2)[x] / (x^5 + x^2 + 1); the polynomial is primitive, so 2 generates the field.
_MODULUS = 0b100101
_MULTIPLIER = 2


def _times_multiplier(value: int) -> int:
    """Multiply a GF(32) element by the field element 2 (shift, then reduce)."""
    value <<= 1
    if value & 0b100000:
        value ^= _MODULUS
    return value


def _fold(values: list[int]) -> int:
    """Run Damm's algorithm with ``x * y = 2.x + y`` over GF(32); 0 means the check holds."""
    interim = 0
    for value in values:
        interim = _times_multiplier(interim) ^ value
    return interim


def check_symbol(data: str) -> str:
    """Return the check symbol for ``data``, a string of Crockford base32 symbols."""
    # The symbol ``c`` that brings the fold to zero solves 2.interim + c = 0, and in GF(2^k) -v = v.
    return ALPHABET[_times_multiplier(_fold([_VALUE[symbol] for symbol in data]))]


def _code_from_int(number: int) -> str:
    """Spell an 80-bit number as a grouped code with its check symbol (one number, one code)."""
    if not 0 <= number < 1 << RANDOM_BITS:
        raise ValueError(f"a code holds {RANDOM_BITS} bits")
    data = "".join(ALPHABET[(number >> shift) & 31] for shift in range(RANDOM_BITS - 5, -5, -5))
    return _group(data + check_symbol(data))


def _group(symbols: str) -> str:
    """Insert a dash after every ``GROUP_SIZE`` symbols; the check symbol ends up on its own."""
    return "-".join(symbols[i : i + GROUP_SIZE] for i in range(0, len(symbols), GROUP_SIZE))


def new_code() -> str:
    """Return a fresh certificate code carrying 80 bits from the operating system's CSPRNG."""
    return _code_from_int(secrets.randbits(RANDOM_BITS))


def normalise_code(text: str) -> str:
    """Turn what a person typed into the canonical grouped form; never raises, may stay malformed."""
    symbols = "".join(text.split()).translate(_SEPARATORS).upper().translate(_LOOK_ALIKES)
    # Only a string of the right length is regrouped, so normalising twice changes nothing.
    if len(symbols) == DATA_LENGTH + 1:
        return _group(symbols)
    return symbols


def is_well_formed(code: str) -> bool:
    """Return whether ``code`` (as typed or canonical) has the right length, alphabet and check."""
    symbols = normalise_code(code).replace("-", "")
    if len(symbols) != DATA_LENGTH + 1 or not all(symbol in _VALUE for symbol in symbols):
        return False
    return _fold([_VALUE[symbol] for symbol in symbols]) == 0
