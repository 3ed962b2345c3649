"""A site version that every write to public content moves, for the page cache.

Triggers keep it, so no write can forget it (the ORM, bulk statements, the
command line and later migrations alike). On PostgreSQL they run once per
statement and *before* it, so a writer takes the version row's lock before any
content row's: writers queue at the version and cannot deadlock on it.

Note for later migrations: a SQLite batch rebuild of one of these tables drops
its triggers; recreate them with :func:`create_version_triggers` afterwards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.trigger_functions import SITE_VERSION_FUNCTION

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Tables whose rows show on public pages, and the changes that matter.
WATCHED = {
    "post": "INSERT OR UPDATE OR DELETE",
    "post_tag": "INSERT OR UPDATE OR DELETE",
    "tag": "INSERT OR UPDATE OR DELETE",
    "image": "INSERT OR UPDATE OR DELETE",
    "post_like": "INSERT OR UPDATE OR DELETE",
    "comment": "INSERT OR UPDATE OR DELETE",
    # A password change or a login's rehash changes nothing anyone sees.
    "user": "INSERT OR DELETE OR UPDATE OF username",
}

_BUMP = "UPDATE site_version SET value = value + 1 WHERE id = 1"


def _trigger_name(table: str, event: str = "") -> str:
    suffix = f"_{event.split()[0].lower()}" if event else ""
    return f"{table}{suffix}_moves_site_version"


def create_version_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {SITE_VERSION_FUNCTION}() RETURNS trigger"
            " LANGUAGE plpgsql"
            f" AS $$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table, events in WATCHED.items():
            op.execute(
                f'CREATE TRIGGER {_trigger_name(table)} BEFORE {events} ON "{table}"'
                f" FOR EACH STATEMENT EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
            )
    elif dialect == "sqlite":
        # SQLite triggers run per row; its writers queue for the database anyway.
        for table, events in WATCHED.items():
            for event in events.split(" OR "):
                op.execute(
                    f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event}"
                    f' ON "{table}" BEGIN {_BUMP}; END'
                )


def upgrade() -> None:
    op.create_table(
        "site_version",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_site_version"),
    )
    op.execute("INSERT INTO site_version (id, value) VALUES (1, 0)")
    create_version_triggers()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, events in WATCHED.items():
        if dialect == "postgresql":
            op.execute(f'DROP TRIGGER {_trigger_name(table)} ON "{table}"')
        else:
            for event in events.split(" OR "):
                op.execute(f"DROP TRIGGER {_trigger_name(table, event)}")
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION {SITE_VERSION_FUNCTION}()")
    op.drop_table("site_version")
