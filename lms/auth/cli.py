"""``flask users reset-2fa USERNAME``: the administrator's reset of a lost second factor, on the
command line (the same service as the button on the account's admin page)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.auth import services
from lms.extensions import db
from lms.org.cli import users_cli
from lms.org.models import User


@users_cli.command("reset-2fa")
@click.argument("username")
@with_appcontext
def reset_two_factor(username: str) -> None:
    """Turn off USERNAME's second factor (lost phone and recovery codes) and end their sessions."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no account named {username!r}")
    try:
        services.reset_two_factor(user, actor=None)
    except services.AuthError as err:
        raise click.ClickException(f"{username}: {err}") from None
    click.echo(f"{username}: two-factor authentication reset, every session ended; the next sign-in sets it up again")
