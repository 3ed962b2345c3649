"""``flask --app flaskr export FILE``: the whole site (or one writer) as a zip."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from flaskr.services.accounts import find_user
from flaskr.services.exports import export_zip
from flaskr.services.exports import post_total
from flaskr.services.exports import Scope


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
