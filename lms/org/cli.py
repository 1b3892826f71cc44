"""``flask org ...``: accounts and agencies from the command line."""

from __future__ import annotations

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from lms.auth.services import issue_activation
from lms.extensions import db
from lms.org import queries, services


@click.group("org", help="Agencies and accounts.")
def org_cli() -> None:
    pass


@org_cli.command("create-admin")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, with diacritics.")
@click.option("--agency", "agency_code", required=True, help="Code of the admin's agency.")
@with_appcontext
def create_admin(username: str, full_name: str, agency_code: str) -> None:
    """Create an administrator and print a one-time activation link."""
    agency = queries.agency_by_code(agency_code)
    if agency is None:
        raise click.ClickException(f"no agency with code {agency_code}")
    services.ensure_builtin_duties()
    try:
        user = services.create_user(
            services.UserData(username=username, full_name=full_name, agency=agency, roles={"officer", "admin"})
        )
    except services.OrgError as err:
        raise click.ClickException(err.message) from err
    token = issue_activation(user, current_app.config["ACTIVATION_TOKEN_DAYS"])
    db.session.commit()
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        link = url_for("auth.activate", token=token, _external=True)
    click.echo(f"created {user.username}; activation link: {link}")


@org_cli.command("create-agency")
@click.argument("code")
@click.argument("name_vi")
@click.option("--name-en", default="")
@click.option("--kind", default="other")
@click.option("--parent", "parent_code", default=None)
@with_appcontext
def create_agency(code: str, name_vi: str, name_en: str, kind: str, parent_code: str | None) -> None:
    """Add one agency."""
    parent = queries.agency_by_code(parent_code) if parent_code else None
    if parent_code and parent is None:
        raise click.ClickException(f"no agency with code {parent_code}")
    try:
        services.create_agency(code=code, name_vi=name_vi, name_en=name_en, kind=kind, parent=parent)
    except services.OrgError as err:
        raise click.ClickException(err.message) from err
    db.session.commit()
    click.echo(f"created agency {code}")
