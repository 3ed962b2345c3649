"""The database: the SQLAlchemy object, column types, SQLite tuning and ``init-db``.

This is the bottom of the import stack: it imports nothing else from ``flaskr``.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
import typing as t
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask import has_request_context
from flask import request
from flask.cli import with_appcontext
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

#: Stable constraint names, so Alembic can find and alter them (SQLite batch mode
#: needs them to rebuild tables).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Primary keys are 64-bit everywhere; on SQLite a plain INTEGER is already 64-bit
#: and must stay INTEGER to remain the rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: The largest id a URL may name; larger numbers are a 404, not a database error.
MAX_ID = 2**63 - 1

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


#: ``app.extensions`` key: on PostgreSQL, an engine whose connections stay in
#: autocommit mode (see :func:`autocommit_engine`).
AUTOCOMMIT_ENGINE = "flaskr.db.autocommit_engine"

#: Requests that change nothing: every state-changing request is a POST.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def autocommit_engine(app: Flask) -> sa.Engine | None:
    """On PostgreSQL, ``app``'s engine for statements that each stand alone: the
    page cache's reads, and every request that only reads. ``None`` on SQLite,
    whose driver reads outside a transaction already.

    Without the ``BEGIN`` before the first statement and the ``ROLLBACK`` as the
    connection goes back to the pool, a read makes one round trip to the server
    instead of three. Nothing else changes for a request that only reads: under
    PostgreSQL's ``READ COMMITTED`` each statement sees the data as it is when
    it starts, in a transaction or not. (The session's "last seen" write on such
    a request is one statement too.) Its connections come from a pool of their
    own: switching a pooled connection to autocommit and back cost ~40 µs of a
    ~210 µs read, so a worker holds one more connection.
    """
    engine: sa.Engine | None = app.extensions.get(AUTOCOMMIT_ENGINE)
    return engine


class RequestSession(Session):
    """``db.session``: on PostgreSQL, requests that only read use the
    :func:`autocommit_engine`."""

    def get_bind(
        self,
        mapper: t.Any | None = None,
        clause: t.Any | None = None,
        bind: sa.Engine | sa.Connection | None = None,
        **kwargs: t.Any,
    ) -> sa.Engine | sa.Connection:
        if (
            bind is None
            and has_request_context()
            and request.method in READ_ONLY_METHODS
        ):
            engine = autocommit_engine(current_app)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


#: Objects stay readable after a commit (a view commits, then renders them).
db = SQLAlchemy(
    model_class=Base,
    session_options={"expire_on_commit": False, "class_": RequestSession},
)


def enable_migrations(app: Flask) -> None:
    """Set up Flask-Migrate (Alembic) on ``app``, once.

    Done only for commands and when migrating: importing Alembic costs a web
    worker about 11 MB that it never uses (bench/README.md).
    """
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)


def _upgrade() -> None:
    from flask_migrate import upgrade

    enable_migrations(current_app._get_current_object())  # type: ignore[attr-defined]
    upgrade(directory=MIGRATIONS_DIR)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones, so values are stored there as naive UTC text and
    given back as aware UTC datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def insert_for_dialect(model: type[t.Any]) -> t.Any:
    """An INSERT for ``model`` that offers ``on_conflict_do_nothing`` on the
    configured database (SQLite and PostgreSQL both support it)."""
    # Imported here: a server loads only its own database's dialect.
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tune_sqlite(
    dbapi_connection: t.Any, connection_record: t.Any, *, timeout_ms: int
) -> None:
    """Turn on WAL, foreign keys and a busy timeout for each new SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {timeout_ms:d}")
    # An in-memory database cannot use WAL; it stays in "memory" mode.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


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

#: Tables that hold the schema's bookkeeping rather than anyone's data.
BOOKKEEPING_TABLES = frozenset({"alembic_version", "site_version"})


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
            connection.exec_driver_sql(
                f"DROP FUNCTION IF EXISTS {SITE_VERSION_FUNCTION}() CASCADE"
            )


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
    click.echo("Initialized the database.")


@click.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Upgrade the database schema to the newest version, keeping the data."""
    upgrade_db()
    click.echo("The database schema is up to date.")


def init_app(app: Flask) -> None:
    """Bind the database to ``app`` and register its commands."""
    db.init_app(app)
    if click.get_current_context(silent=True) is not None:
        # Made by the ``flask`` command: Flask-Migrate's ``flask db`` needs it.
        enable_migrations(app)
    with app.app_context():
        timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
        tune = functools.partial(tune_sqlite, timeout_ms=timeout_ms)
        event.listen(db.engine, "connect", tune)
        if db.engine.dialect.name == "postgresql":
            options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
            app.extensions[AUTOCOMMIT_ENGINE] = sa.create_engine(
                db.engine.url, **{**options, "isolation_level": "AUTOCOMMIT"}
            )
    app.cli.add_command(init_db_command)
    app.cli.add_command(upgrade_db_command)
