"""Flaskr's core schema: case-insensitive usernames, argon2 hashes, edit times,
server-side sessions, and the indexes the pages need.

The tutorial's ``user`` and ``post`` tables are copied into new ones and
replaced, keeping every id, name, password hash, date and text. Werkzeug
password hashes stay as they are; Flaskr replaces each at the user's next login.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 1000


def _username_key(username: str) -> str:
    # Frozen here: models.username_key may change in later revisions.
    return username.casefold()


def _refuse_clashing_usernames(connection: sa.Connection) -> None:
    """Stop before changing anything if two names differ only in case."""
    owners: dict[str, list[str]] = {}
    query = sa.text('SELECT username FROM "user" ORDER BY id')
    for (username,) in connection.execute(query):
        owners.setdefault(_username_key(username), []).append(username)
    clashes = [names for names in owners.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(repr(name) for name in names) for names in clashes)
        raise RuntimeError(
            "Usernames must be unique without regard to case, but these are not: "
            f"{listed}. Rename all but one of each group, then upgrade again."
        )


def upgrade() -> None:
    connection = op.get_bind()
    _refuse_clashing_usernames(connection)

    user = op.create_table(
        "user_v2",
        sa.Column("id", BigId, nullable=False),
        sa.Column("username", sa.String, nullable=False),
        sa.Column("username_key", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("created", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
        sa.UniqueConstraint("username_key", name="uq_user_username_key"),
        sqlite_autoincrement=True,
    )
    old_users = connection.execute(
        sa.text('SELECT id, username, password FROM "user" ORDER BY id')
    )
    while rows := old_users.fetchmany(_BATCH):
        op.bulk_insert(
            user,
            [
                {
                    "id": row.id,
                    "username": row.username,
                    "username_key": _username_key(row.username),
                    "password_hash": row.password,
                }
                for row in rows
            ],
        )

    op.create_table(
        "post_v2",
        sa.Column("id", BigId, nullable=False),
        sa.Column("author_id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_post"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_v2.id"], name="fk_post_author_id_user"
        ),
        sqlite_autoincrement=True,
    )
    if connection.dialect.name == "sqlite":
        # The tutorial stored "YYYY-MM-DD HH:MM:SS" in UTC. SQLAlchemy's text
        # has microseconds too, and text order must match time order for paging.
        created = "COALESCE(strftime('%Y-%m-%d %H:%M:%f', created) || '000', created)"
    else:
        created = "created AT TIME ZONE 'UTC'"
    op.execute(
        "INSERT INTO post_v2 (id, author_id, created, title, body)"
        f" SELECT id, author_id, {created}, title, body FROM post"
    )

    op.drop_table("post")
    op.drop_table("user")
    op.rename_table("user_v2", "user")
    op.rename_table("post_v2", "post")
    if connection.dialect.name == "postgresql":
        for table in ("user", "post"):
            op.execute(f"ALTER SEQUENCE {table}_v2_id_seq RENAME TO {table}_id_seq")
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                f' COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
    op.create_index("ix_post_author_id", "post", ["author_id"])
    op.create_index("ix_post_created_id", "post", ["created", "id"])

    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_session"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_auth_session_user_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_auth_session_user_id", "auth_session", ["user_id"])
    op.create_index("ix_auth_session_last_seen", "auth_session", ["last_seen"])


def downgrade() -> None:
    raise RuntimeError(
        "Flaskr cannot turn its schema back into the tutorial's; restore a backup."
    )
