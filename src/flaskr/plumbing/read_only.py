"""Requests that only read, on PostgreSQL, run without a transaction.

Without the ``BEGIN`` before the first statement and the ``ROLLBACK`` as the
connection goes back to the pool, a read makes one round trip to the server
instead of three. Nothing else changes for a request that only reads: under
PostgreSQL's ``READ COMMITTED`` each statement sees the data as it is when it
starts, in a transaction or not. (The session's "last seen" write on such a
request is one statement too.) The autocommit engine's connections come from a
pool of their own: switching a pooled connection to autocommit and back costs
more than it saves, so a worker holds one more connection. SQLite's driver
already reads outside a transaction, so nothing is set up there.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask import has_request_context
from flask import request

from flaskr.db import db
from flaskr.db import ENGINE_CHOOSER

#: ``app.extensions`` key: on PostgreSQL, the engine in autocommit mode.
AUTOCOMMIT_ENGINE = "flaskr.read_only.autocommit_engine"

#: Requests that change nothing: every state-changing request is a POST.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def autocommit_engine(app: Flask) -> sa.Engine | None:
    """On PostgreSQL, ``app``'s engine for statements that each stand alone
    (the page cache's reads, and every request that only reads); else ``None``."""
    engine: sa.Engine | None = app.extensions.get(AUTOCOMMIT_ENGINE)
    return engine


def init_app(app: Flask) -> None:
    """On PostgreSQL, send the statements of read-only requests to an engine in
    autocommit mode."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine = sa.create_engine(
            db.engine.url, **{**options, "isolation_level": "AUTOCOMMIT"}
        )
    app.extensions[AUTOCOMMIT_ENGINE] = engine

    def choose() -> sa.Engine | None:
        if has_request_context() and request.method in READ_ONLY_METHODS:
            return engine
        return None

    app.extensions[ENGINE_CHOOSER] = choose
