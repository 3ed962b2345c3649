"""``flask --app flaskr export FILE`` and ``import FILE``: the whole site (or
one writer) as a zip, and such a zip read back in."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from flaskr.services.accounts import find_user
from flaskr.services.exports import export_zip
from flaskr.services.exports import post_total
from flaskr.services.exports import Scope
from flaskr.services.imports import ArchiveRefused
from flaskr.services.imports import import_export
from flaskr.services.imports import post_count


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--writer", metavar="NAME", help="Only this writer's blog.")
@with_appcontext
def export_command(file: Path, writer: str | None) -> None:
    """Write every writer's posts, pictures, profiles (without passwords),
    comments, likes and follows to FILE, a zip that ``import`` reads."""
    scope = Scope()
    if writer is not None:
        user = find_user(writer)
        if user is None:
            raise click.BadParameter(
                f"There is no user {writer}.", param_hint="--writer"
            )
        scope = Scope(writer_id=user.id)
    partial = file.with_name(file.name + ".part")
    with (
        partial.open("wb") as out,
        click.progressbar(length=post_total(scope), label="Exporting posts") as bar,
    ):
        for chunk in export_zip(scope, progress=bar.update):
            out.write(chunk)
    partial.replace(file)  # a finished file or none: never half an export
    click.echo(f"Wrote {file}.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option(
    "--writer", metavar="NAME", help="Give every post to this writer instead."
)
@with_appcontext
def import_command(file: Path, dry_run: bool, writer: str | None) -> None:
    """Import a Flaskr export (``flask export`` or the account page's
    download): writers, pictures, posts with their dates, tags and state,
    comments, likes, follows. Importing the same file again changes nothing."""
    user = None
    if writer is not None:
        user = find_user(writer)
        if user is None:
            raise click.BadParameter(
                f"There is no user {writer}.", param_hint="--writer"
            )
    try:
        with file.open("rb") as stream:
            total = post_count(stream)
        with (
            file.open("rb") as stream,
            click.progressbar(length=total, label="Importing posts") as bar,
        ):
            report = import_export(
                stream, dry_run=dry_run, writer=user, progress=bar.update
            )
    except ArchiveRefused as error:
        raise click.ClickException(str(error)) from None
    if dry_run:
        click.echo("A dry run: nothing was written.")
    for line in report.lines():
        click.echo(line)
    if report.failed:
        raise SystemExit(1)
