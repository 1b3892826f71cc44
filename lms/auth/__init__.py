"""Authentication: passwords, activation links, login throttling and sessions that can be killed.

A session cookie carries ``"<user id>:<session epoch>"``. Logging out, changing a password or
disabling an account raises the user's epoch, so every cookie issued before (on any device, or copied
by someone) stops working at once without any server-side session store. Login failures are counted
in the database (lms.ratelimit) so the limits hold across all server processes.

A second factor (TOTP, RFC 6238, with ten one-time recovery codes) can be turned on by anyone from the
account page and is required for the roles in ``REQUIRE_2FA_ROLES`` (admin and HR by default). The
password alone logs nobody in for such an account: the session only remembers that the password was
right until the code is typed (lms.auth.views), and the pure checks live in lms.auth.totp.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """The two-factor section of the account page, and of an administrator's page of an account."""
    from lms import ui

    ui.add_profile_section(app, "auth/_profile_two_factor.html", order=5)
    ui.add_account_admin_section(app, "auth/_admin_two_factor.html", order=5)
