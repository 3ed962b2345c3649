"""Maintenance commands: expired sessions, the trash, handled events, the
search index, rendering posts again."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.sessions import end_sessions_of_user
from flaskr.services.accounts.sessions import purge_expired_sessions
from flaskr.services.base.events import purge_handled_events
from flaskr.services.content.lifecycle import purge_trash
from flaskr.services.content.rendering import render_all_again
from flaskr.services.governance.removal import purge_removed_accounts
from flaskr.services.reading.search import optimize_search_index


@click.command("purge-sessions")
@with_appcontext
def purge_sessions_command() -> None:
    """Delete expired sessions (logins also do this as they go)."""
    purged = purge_expired_sessions()
    click.echo(f"Deleted {purged} expired sessions.")


@click.command("end-sessions")
@click.argument("username")
@with_appcontext
def end_sessions_command(username: str) -> None:
    """Log USERNAME out everywhere (for an administrator)."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user is called {username!r}.")
    ended = end_sessions_of_user(user.id, by="admin")
    click.echo(f"Ended {ended} session{'' if ended == 1 else 's'} of {user.username}.")


@click.command("purge-trash")
@with_appcontext
def purge_trash_command() -> None:
    """Delete the posts that have been in the trash too long (deleting a post
    also does this as it goes), and the accounts removed as long ago."""
    purged = purge_trash()
    click.echo(f"Deleted {purged} posts from the trash for good.")
    accounts = purge_removed_accounts()
    click.echo(
        f"Deleted {accounts} removed account{'' if accounts == 1 else 's'} for good."
    )


@click.command("purge-events")
@with_appcontext
def purge_events_command() -> None:
    """Delete the events every handler is done with, once they are older than
    EVENT_KEEP_DAYS."""
    purged = purge_handled_events()
    click.echo(f"Deleted {purged} handled event{'' if purged == 1 else 's'}.")


@click.command("optimize-search")
@with_appcontext
def optimize_search_command() -> None:
    """Merge the full-text search index (SQLite), so that searches read less.

    Run it after a bulk import and now and then on a large blog; other writers
    wait for one short step at a time, not for the whole merge.
    """
    steps = optimize_search_index()
    if steps:
        click.echo(f"Merged the search index ({steps} step{'s' * (steps > 1)}).")
    else:
        click.echo("Nothing to do: PostgreSQL keeps its search index itself.")


@click.command("render-posts")
@with_appcontext
def render_posts_command() -> None:
    """Render every post's Markdown again, as saving it would: run it after an
    upgrade that teaches Markdown something new (release notes say so)."""
    done = 0
    for count in render_all_again():
        done += count
        click.echo(f"Rendered {done:,} posts.", err=True)
    click.echo(f"Rendered {done:,} post{'' if done == 1 else 's'} again.")
