"""Federation commands: send due deliveries (for cron), rotate actors' keys,
and show what waits for which inbox."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask.cli import with_appcontext

from flaskr.db import db
from flaskr.models import ActorKey
from flaskr.models import User
from flaskr.models.federation import SITE_OWNER
from flaskr.services.federation import delivery
from flaskr.services.federation import ids
from flaskr.services.federation import publishing

federation_group = AppGroup("federation", help="The site's part in the fediverse.")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@click.command("deliver-federation")
@with_appcontext
def deliver_federation_command() -> None:
    """Send the activities due to remote inboxes (each server's timer also
    does)."""
    if not ids.federating():
        raise click.ClickException("The site does not federate (FEDERATION, SITE_URL).")
    sent = delivery.deliver_due()
    click.echo(f"Delivered {sent} {'activity' if sent == 1 else 'activities'}.")


@federation_group.command("rotate-keys")
@click.option("--user", "username", help="Rotate this writer's key.")
@click.option("--site", is_flag=True, help="Rotate the site actor's key.")
@click.option("--all", "every", is_flag=True, help="Rotate every key there is.")
def rotate_keys_command(username: str | None, site: bool, every: bool) -> None:
    """Give actors new key pairs and tell their followers (an Update of each
    actor), so remote servers fetch the new keys."""
    if sum((username is not None, site, every)) != 1:
        raise click.UsageError("Give one of --user NAME, --site or --all.")
    if not ids.federating():
        raise click.ClickException("The site does not federate (FEDERATION, SITE_URL).")
    owners: list[str]
    if username is not None:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise click.BadParameter("no such user", param_hint="--user")
        owners = [ids.owner_of_user(user.id)]
    elif site:
        owners = [SITE_OWNER]
    else:
        writers = db.session.scalars(
            sa.select(ActorKey.owner)
            .join(User, sa.cast(User.id, sa.String) == ActorKey.owner)
            .order_by(ActorKey.owner)
        )
        owners = [SITE_OWNER, *writers]
    rotated = publishing.rotate_keys(owners)
    click.echo(f"Rotated {_plural(rotated, 'key')}.")


@federation_group.command("status")
def status_command() -> None:
    """Deliveries queued and given up on, by inbox."""
    rows = delivery.queue_by_inbox()
    if not rows:
        click.echo("Nothing queued or failed.")
        return
    for row in rows:
        line = f"{row.inbox}: {row.queued} queued, {row.failed} failed"
        if row.next_attempt is not None:
            line += f", next try {row.next_attempt:%Y-%m-%d %H:%M:%S} UTC"
        if row.last_error:
            line += f" (last error: {row.last_error})"
        click.echo(line)
