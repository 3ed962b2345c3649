"""The database: the SQLAlchemy object, column types and SQLite tuning.

The ground floor: it imports nothing else from ``flaskr`` and knows nothing of
requests, search or the page cache. The schema's lifecycle (``init-db``,
migrations) is :mod:`flaskr.schema`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask import has_app_context
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


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


#: ``app.extensions`` key: a function that may choose the engine for a
#: statement (``None`` leaves the choice to Flask-SQLAlchemy). The request
#: plumbing sets one: :mod:`flaskr.plumbing.read_only`.
ENGINE_CHOOSER = "flaskr.db.engine_chooser"


class RequestSession(Session):
    """``db.session``, which lets the app's :data:`ENGINE_CHOOSER` pick the
    engine for a statement."""

    def get_bind(
        self,
        mapper: t.Any | None = None,
        clause: t.Any | None = None,
        bind: sa.Engine | sa.Connection | None = None,
        **kwargs: t.Any,
    ) -> sa.Engine | sa.Connection:
        if bind is None and has_app_context():
            choose = current_app.extensions.get(ENGINE_CHOOSER)
            if choose is not None and (engine := choose()) is not None:
                return t.cast(sa.Engine, engine)
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


#: Objects stay readable after a commit (a service commits, a view renders them).
db = SQLAlchemy(
    model_class=Base,
    session_options={"expire_on_commit": False, "class_": RequestSession},
)

if t.TYPE_CHECKING:
    #: The models' base class. Flask-SQLAlchemy makes ``db.Model`` at run time,
    #: out of type checkers' sight; to them it is the typed declarative base.
    Model = Base
else:
    Model = db.Model


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


def _clock() -> dt.datetime:
    return utcnow()


#: The time a statement runs at, as a parameter: read when the statement is
#: executed, not when it is built, so statements built once stay right (and
#: the tests' travelling clock is the one read).
NOW = sa.bindparam("clock_now", callable_=_clock, type_=UTCDateTime())


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


def affected_rows(result: sa.Result[t.Any]) -> int:
    """How many rows an UPDATE or DELETE statement's ``result`` changed."""
    return int(t.cast(sa.CursorResult[t.Any], result).rowcount)


def init_app(app: Flask) -> None:
    """Bind the database to ``app``, and tune each new SQLite connection."""
    db.init_app(app)
    with app.app_context():
        timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
        tune = functools.partial(tune_sqlite, timeout_ms=timeout_ms)
        event.listen(db.engine, "connect", tune)
