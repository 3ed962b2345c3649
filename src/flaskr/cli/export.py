"""``flask --app flaskr export FILE`` and ``import FILE``: the whole site (or
one writer) as a zip, and such a zip read back in."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from flask.cli import with_appcontext

from flaskr.services.accounts.directory import find_user
from flaskr.services.portability.archives import ArchiveRefused
from flaskr.services.portability.archives import flaskr_export
from flaskr.services.portability.archives import Source
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import post_total
from flaskr.services.portability.exports import Scope
from flaskr.services.portability.foreign import open_source
from flaskr.services.portability.imports import import_from


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
@click.argument(
    "source", type=click.Path(exists=True, path_type=Path), metavar="FILE_OR_FOLDER"
)
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option(
    "--writer", metavar="NAME", help="Give every post to this writer instead."
)
@with_appcontext
def import_command(source: Path, dry_run: bool, writer: str | None) -> None:
    """Import posts: a Flaskr export (``flask export`` or the account page's
    download), a Ghost JSON export, a WordPress WXR file, a WriteFreely JSON
    export, or a folder or zip of Jekyll or Hugo Markdown files (with
    ``--writer``). Importing the same file again changes nothing."""
    user = None
    if writer is not None:
        user = find_user(writer)
        if user is None:
            raise click.BadParameter(
                f"There is no user {writer}.", param_hint="--writer"
            )
    with contextlib.ExitStack() as stack:
        try:
            found: Source | None = None
            if source.is_file():
                stream = stack.enter_context(source.open("rb"))
                found = flaskr_export(stream)
            if found is None:
                found = open_source(source)
        except ArchiveRefused as error:
            raise click.ClickException(str(error)) from None
        with click.progressbar(
            length=len(found.post_names()), label="Importing posts"
        ) as bar:
            report = import_from(
                found, dry_run=dry_run, writer=user, progress=bar.update
            )
    if dry_run:
        click.echo("A dry run: nothing was written.")
    for line in report.lines():
        click.echo(line)
    if report.failed:
        raise SystemExit(1)
