"""The schema's lifecycle: creating it (``init-db``), migrating it
(``upgrade-db``, Flask-Migrate's ``flask db``), and the objects that only the
migrations know (the search machinery, the page cache's ``site_version``).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask.cli import with_appcontext

from flaskr.db import db

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def enable_migrations(app: Flask) -> None:
    """Set up Flask-Migrate (Alembic) on ``app``, once.

    Done only for commands and when migrating: importing Alembic costs a web
    worker memory that it never uses (bench/README.md has the figure).
    """
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)


def _upgrade() -> None:
    from flask_migrate import upgrade

    enable_migrations(current_app._get_current_object())  # type: ignore[attr-defined]
    upgrade(directory=MIGRATIONS_DIR)


#: Search machinery that only the migrations know: SQLite's FTS5 tables (and the
#: tables they keep), PostgreSQL's ``tsvector`` columns and their indexes.
SEARCH_OBJECTS = (
    "post_fts",
    "post_title_fts",
    "search_vector",
    "ix_post_search_vector",
    "title_vector",
    "ix_post_title_vector",
    "ix_post_title_vector_public",
)


#: PostgreSQL's trigger function that moves ``site_version`` (migration 0006).
SITE_VERSION_FUNCTION = "move_site_version"

#: PostgreSQL's trigger functions for likes and comments (migration 0022): a
#: lock on the version row without moving it, the post's stamp from the moved
#: ``reactions`` count, and the stamp asked for on every reacted post.
LOCK_SITE_VERSION_FUNCTION = "lock_site_version"
MOVE_REACTIONS_FUNCTION = "move_reactions"
MARK_REACTED_POST_FUNCTION = "mark_reacted_post"
#: PostgreSQL's trigger function keeping ``archive_month`` (migration 0024).
COUNT_MONTHS_FUNCTION = "count_months"

#: Every PostgreSQL trigger function the migrations make (0006, 0021, 0024).
TRIGGER_FUNCTIONS = (
    SITE_VERSION_FUNCTION,
    LOCK_SITE_VERSION_FUNCTION,
    MOVE_REACTIONS_FUNCTION,
    MARK_REACTED_POST_FUNCTION,
    "count_posts",
    "count_post_tags",
    "count_follows",
    COUNT_MONTHS_FUNCTION,
)

#: Tables that hold the schema's bookkeeping rather than anyone's data (the
#: site's settings start as a row of defaults).
BOOKKEEPING_TABLES = frozenset({"alembic_version", "site_version", "site_settings"})


def database_has_data() -> bool:
    """Whether any table in the database holds a row (other than bookkeeping)."""
    inspector = sa.inspect(db.engine)
    with db.engine.connect() as connection:
        for name in inspector.get_table_names():
            if name in BOOKKEEPING_TABLES or name.startswith(SEARCH_OBJECTS):
                continue
            table = sa.table(name)
            query = sa.select(sa.literal(1)).select_from(table).limit(1)
            if connection.execute(query).first() is not None:
                return True
    return False


def is_modelled(
    obj: t.Any, name: str | None, type_: str, reflected: bool, compare_to: t.Any
) -> bool:
    """For Alembic's ``include_object``: leave the search machinery alone."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def drop_everything() -> None:
    """Drop every table, including ones the models do not know about."""
    if db.engine.dialect.name == "sqlite":
        # A virtual table owns hidden tables that reflection lists too; drop it
        # first so they go with it.
        with db.engine.begin() as connection:
            virtual = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
            ).scalars()
            for name in list(virtual):
                connection.exec_driver_sql(f'DROP TABLE "{name}"')
    reflected = sa.MetaData()
    reflected.reflect(bind=db.engine)
    reflected.drop_all(bind=db.engine)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            for function in TRIGGER_FUNCTIONS:
                connection.exec_driver_sql(
                    f"DROP FUNCTION IF EXISTS {function}() CASCADE"
                )


#: ``app.extensions`` key of the functions ``init-db`` calls after it.
DATABASE_MADE_ANEW = "flaskr.database_made_anew"


def init_db() -> None:
    """Clear the database and create a fresh, empty schema at the newest revision."""
    db.session.remove()
    drop_everything()
    _upgrade()


def upgrade_db() -> None:
    """Apply every migration the database does not have yet.

    A database made by the tutorial's ``schema.sql`` has no Alembic version; the
    first revision recognises its tables and keeps them, so it upgrades in place.
    """
    _upgrade()


@click.command("init-db")
@with_appcontext
@click.option("--yes", is_flag=True, help="Do not ask before deleting existing data.")
def init_db_command(yes: bool) -> None:
    """Clear the existing data and create new tables."""
    if not yes and database_has_data():
        click.confirm(
            "The database holds data. Delete all of it and start empty?", abort=True
        )
    init_db()
    # Whatever keeps copies of the old data's pages forgets them (the shared
    # page cache: a new database counts its versions from the start again).
    for forget in current_app.extensions.get(DATABASE_MADE_ANEW, ()):
        forget()
    click.echo("Initialized the database.")


@click.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Upgrade the database schema to the newest version, keeping the data."""
    upgrade_db()
    click.echo("The database schema is up to date.")


def init_app(app: Flask) -> None:
    """Register the schema's commands; set up migrations under ``flask``."""
    if click.get_current_context(silent=True) is not None:
        # Made by the ``flask`` command: Flask-Migrate's ``flask db`` needs it.
        enable_migrations(app)
    app.cli.add_command(init_db_command)
    app.cli.add_command(upgrade_db_command)
