"""Administrators: who may change the site's title, description, About page
and icon (``/admin``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from flaskr.services.accounts.directory import find_user
from flaskr.services.base.errors import Invalid
from flaskr.services.base.roles import ROLE_LABELS
from flaskr.services.base.site import set_admin
from flaskr.services.base.site import set_role


@click.command("make-admin")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the role away instead.")
@with_appcontext
def make_admin_command(username: str, remove: bool) -> None:
    """Make USERNAME an administrator of the site (or, with --remove, no longer one)."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user is called {username!r}.")
    set_admin(user, not remove)
    if remove:
        click.echo(f"{user.username} is no longer an administrator.")
    else:
        click.echo(f"{user.username} is now an administrator: /admin is theirs.")


@click.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(list(ROLE_LABELS)))
@with_appcontext
def set_role_command(username: str, role: str) -> None:
    """Give USERNAME the role ROLE (admin, editor, author, contributor or
    reader); recorded in the audit log as the site's own decision."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user is called {username!r}.")
    try:
        set_role(None, user, role)
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{user.username} is now: {ROLE_LABELS[role]}.")
