"""The second factor's pure core: TOTP codes (RFC 6238), their QR code, and recovery codes.

No Flask, no database: the services keep the secret, the last accepted time step and the recovery
code hashes, and pass them in. pyotp computes the codes; segno draws the QR code as inline SVG (the
enrol page makes no request to anyone else, and the secret never leaves the server in a URL).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import unicodedata

import pyotp
import segno

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1  # a phone's clock may be one step (30 s) ahead or behind
RECOVERY_CODE_COUNT = 10
# 16 characters of base32 = 80 random bits per code: far beyond any offline guessing, so a fast salted
# hash is enough (a slow argon2 hash is for low-entropy passwords) and checking ten codes costs nothing.
RECOVERY_CODE_LENGTH = 16
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_secret() -> str:
    """A fresh random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no XML declaration)."""
    out = io.BytesIO()
    # Safe to mark up: segno writes the modules as one path; the address's text never enters the SVG.
    segno.make(uri, error="m", micro=False).save(
        out, kind="svg", xmldecl=False, svgns=True, scale=5, border=4, dark="#000", light="#fff",
        svgclass="totp-qr", lineclass=None, omitsize=False)
    return out.getvalue().decode("ascii")


def normalise_code(code: str) -> str:
    """What was typed, without spaces and hyphens, upper case (apps show '123 456', codes 'abcd-efgh').

    NFKC first: a phone keyboard or an input method may type full-width digits (１２３４５６)."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", code or "")).upper()


def time_step(now: float) -> int:
    """The RFC 6238 time step (counter) of the Unix time ``now``."""
    return int(now) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code an authenticator app shows during time step ``step``."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (within the allowed drift), or None.

    A step at or before ``last_step`` (the last code accepted) never matches again: a code seen over
    someone's shoulder, or sent twice, cannot be replayed, even inside its 30 seconds."""
    typed = normalise_code(code)
    # isascii too: str.isdigit() is true for other scripts' digits, which compare_digest refuses to compare.
    if len(typed) != DIGITS or not (typed.isascii() and typed.isdigit()):
        return None
    current = time_step(now)
    found = None
    # Every candidate is compared (no early return), in constant time.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), typed) and (last_step is None or step > last_step):
            found = step if found is None else found
    return found


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh one-time recovery codes, shown as ``abcd-efgh-ijkl-mnop``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_BASE32) for _ in range(RECOVERY_CODE_LENGTH)).lower()
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    return codes


def hash_recovery_code(code: str, salt: str | None = None) -> str:
    """``"<salt>$<sha256 hex>"`` of the normalised code, with a fresh per-code salt unless given."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{normalise_code(code)}".encode()).hexdigest()
    return f"{salt}${digest}"


def recovery_code_matches(stored: str, code: str) -> bool:
    """Whether ``code`` is the recovery code whose hash is ``stored`` (constant-time comparison)."""
    salt, sep, _digest = stored.partition("$")
    if not sep:
        return False
    typed = normalise_code(code)
    if len(typed) != RECOVERY_CODE_LENGTH:
        return False
    return hmac.compare_digest(hash_recovery_code(typed, salt), stored)


def looks_like_recovery_code(code: str) -> bool:
    """True when ``code`` has the shape of a recovery code rather than of a 6-digit TOTP code."""
    return len(normalise_code(code)) == RECOVERY_CODE_LENGTH
