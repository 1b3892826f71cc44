"""``flask org|users|agencies ...``: accounts and agencies from the command line."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from lms import transaction
from lms.org import imports, queries, reorg, services
from lms.org.accounts import issue_activation
from lms.org.models import Agency


@click.group("org", cls=transaction.Group, help="Agencies and accounts.")
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
    click.echo(f"created agency {code}")


# Roster imports and reorganisations ---------------------------------------------------------


def _activation_link_maker():
    """A function token -> absolute activation URL, built outside any request."""
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"

    def make(token: str) -> str:
        with current_app.test_request_context(base_url=base):
            return url_for("auth.activate", token=token, _external=True)

    return make


def _echo_report(plan: imports.Plan) -> None:
    for line in imports.report_lines(plan, limit=None):
        click.echo(line)


def _links_path(path: str | None, data_file: str) -> Path:
    if path:
        return Path(path)
    source = Path(data_file)
    return source.with_name(f"{source.stem}-activation-links.csv")


@click.group("users", cls=transaction.Group, help="Officer accounts in bulk: roster imports.")
def users_cli() -> None:
    pass


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Disable officers of the agencies in the file who are not in it.")
@click.option("--links-out", type=click.Path(dir_okay=False),
              help="Where to write the new accounts' activation links (.csv or .xlsx; default: "
                   "FILE-activation-links.csv next to FILE).")
@with_appcontext
def import_users(file: str, dry_run: bool, deactivate_missing: bool, links_out: str | None) -> None:
    """Import officers from an HR roster (.xlsx or .csv); all rows or none."""
    links_path = _links_path(links_out, file)
    if links_path.suffix.lower() not in {".csv", ".xlsx"}:
        raise click.ClickException("--links-out must end in .csv or .xlsx")
    data = Path(file).read_bytes()
    plan = imports.plan_officers(Path(file).name, data, deactivate_missing=deactivate_missing)
    _echo_report(plan)
    if not plan.ok:
        raise click.ClickException(f"{len(plan.errors)} error(s); nothing was written")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    result = imports.apply_officers(
        plan, token_days=current_app.config["ACTIVATION_TOKEN_DAYS"], source=plan.sha256[:16]
    )
    rows = imports.link_rows_from_tokens(result.tokens, make_link=_activation_link_maker())
    counts = result.counts
    click.echo(
        f"imported: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{counts['deactivated']} deactivated"
    )
    if rows:
        fd = os.open(links_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(imports.links_file(rows, links_path.suffix.lower().lstrip(".")))
        click.echo(f"{len(rows)} activation links written to {links_path} (keep this file private)")


@click.group("agencies", cls=transaction.Group, help="Agencies in bulk: imports, merges, moves and renames.")
def agencies_cli() -> None:
    pass


@agencies_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@with_appcontext
def import_agencies(file: str, dry_run: bool) -> None:
    """Create and update agencies from a list (code, names, kind, parent code), parents first."""
    plan = imports.plan_agencies(Path(file).name, Path(file).read_bytes())
    _echo_report(plan)
    if not plan.ok:
        raise click.ClickException(f"{len(plan.errors)} error(s); nothing was written")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    counts = imports.apply_agencies(plan, source=plan.sha256[:16]).counts
    click.echo(f"imported: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged")


def _agency_or_fail(code: str) -> Agency:
    agency = queries.agency_by_code(code)
    if agency is None:
        raise click.ClickException(f"no agency with code {code}")
    return agency


@agencies_cli.command("merge")
@click.argument("source_code")
@click.argument("target_code")
@click.option("--dry-run", is_flag=True, help="Show what would move; write nothing.")
@with_appcontext
def merge_agencies(source_code: str, target_code: str, dry_run: bool) -> None:
    """Merge agency SOURCE_CODE into TARGET_CODE: officers, units, HR scopes, assignments and plans move."""
    source, target = _agency_or_fail(source_code), _agency_or_fail(target_code)
    preview = reorg.merge_preview(source, target)
    counts = preview.counts
    click.echo(
        f"merge {source.code} into {target.code}: {counts['officers']} officers "
        f"({preview.active_officers} active), {counts['units']} units ({counts['units_below']} "
        f"agencies below), {counts['hr_scopes']} HR scopes"
        + "".join(f", {move.count} {move.key.replace('_', ' ')}" for move in preview.moves)
    )
    for error in preview.errors:
        click.echo(f"  {error}")
    if not preview.ok:
        raise click.ClickException("nothing was written")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    reorg.merge_agencies(source, target)
    click.echo(f"merged {source_code} into {target_code}; {source_code} is now inactive")


@agencies_cli.command("move")
@click.argument("code")
@click.argument("parent_code", required=False)
@click.option("--top", is_flag=True, help="Make it a top-level agency.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@with_appcontext
def move_agency(code: str, parent_code: str | None, top: bool, dry_run: bool) -> None:
    """Move agency CODE (with its units) under PARENT_CODE, or to the top with --top."""
    if bool(parent_code) == top:
        raise click.ClickException("give either PARENT_CODE or --top")
    agency = _agency_or_fail(code)
    parent = _agency_or_fail(parent_code) if parent_code else None
    preview = reorg.move_preview(agency, parent)
    click.echo(
        f"move {agency.code} under {parent.code if parent else '(top)'}: {preview.units} units move "
        f"with it, {preview.officers} active officers; HR gaining sight: "
        f"{', '.join(p.username for p in preview.hr_gaining) or '-'}; losing: "
        f"{', '.join(p.username for p in preview.hr_losing) or '-'}"
    )
    for error in preview.errors:
        click.echo(f"  {error}")
    if not preview.ok:
        raise click.ClickException("nothing was written")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    reorg.move(agency, parent)
    click.echo(f"moved {code}")


@agencies_cli.command("rename")
@click.argument("code")
@click.option("--name-vi", default=None, help="New Vietnamese name.")
@click.option("--name-en", default=None, help="New English name.")
@click.option("--new-code", default=None, help="New code.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@with_appcontext
def rename_agency(code: str, name_vi: str | None, name_en: str | None, new_code: str | None,
                  dry_run: bool) -> None:
    """Rename (or recode) agency CODE; its officers and history stay with it."""
    agency = _agency_or_fail(code)
    args = {"code": new_code or agency.code, "name_vi": name_vi or agency.name_vi,
            "name_en": name_en if name_en is not None else agency.name_en}
    preview = reorg.rename_preview(agency, **args)
    for name, (before, after) in preview.changes.items():
        click.echo(f"{name}: {before} -> {after}")
    click.echo(f"{preview.officers} active officers keep their agency")
    for error in preview.errors:
        click.echo(f"  {error}")
    if not preview.ok:
        raise click.ClickException("nothing was written")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    try:
        reorg.rename(agency, **args)
    except services.OrgError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"renamed {code}")
