"""Alembic's environment: migrations run on the Flask app's engine."""

from __future__ import annotations

from alembic import context
from flask import current_app

from flaskr.db import db
from flaskr.schema import is_modelled

configure_args = {
    **current_app.extensions["migrate"].configure_args,
    "include_object": is_modelled,
}


def run_migrations_offline() -> None:
    """Print the SQL instead of running it."""
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=db.metadata,
        literal_binds=True,
        **configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds tables; SQLite must not check foreign keys
            # while a referenced table is briefly gone. (A no-op in a transaction,
            # so it is set before one starts.)
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()  # Else Alembic would run inside this transaction.
        context.configure(
            connection=connection, target_metadata=db.metadata, **configure_args
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
