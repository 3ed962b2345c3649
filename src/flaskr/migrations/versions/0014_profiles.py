"""Profiles: a display name, a bio, a website and a picture; former usernames.

Authors were faceless: an author page was a bare list. Accounts get the
profile fields, ``avatar`` keeps their pictures, and ``former_username``
keeps names given up by a rename, so ``/u/<old>`` sends readers on and
nobody takes the old name over at once.

Columns are added with ``ADD COLUMN`` (SQLite accepts a reference there), not
a batch rebuild, which would drop the user table's site-version triggers.
Those triggers now also fire on the profile columns bylines and author pages
show, so the page cache never serves a stale profile.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime
from flaskr.migrations.frozen.trigger_functions import SITE_VERSION_FUNCTION

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_BUMP = "UPDATE site_version SET value = value + 1 WHERE id = 1"
_BEFORE = "username"
_AFTER = "username, display_name, bio_html, website, avatar_id"


def _watch_user_columns(columns: str) -> None:
    """Make the user table's update trigger fire on ``columns``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER user_moves_site_version ON "user"')
        op.execute(
            "CREATE TRIGGER user_moves_site_version BEFORE INSERT OR DELETE OR"
            f' UPDATE OF {columns} ON "user" FOR EACH STATEMENT'
            f" EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
        )
    else:
        op.execute("DROP TRIGGER user_update_moves_site_version")
        op.execute(
            f"CREATE TRIGGER user_update_moves_site_version AFTER UPDATE OF {columns}"
            f' ON "user" BEGIN {_BUMP}; END'
        )


def upgrade() -> None:
    op.create_table(
        "avatar",
        sa.Column("id", BigId, nullable=False),
        sa.Column("large", sa.LargeBinary, nullable=False),
        sa.Column("small", sa.LargeBinary, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_avatar"),
        sqlite_autoincrement=True,
    )
    op.add_column("user", sa.Column("display_name", sa.String(80), nullable=True))
    op.add_column("user", sa.Column("bio", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "user", sa.Column("bio_html", sa.Text, nullable=False, server_default="")
    )
    op.add_column("user", sa.Column("website", sa.String(500), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("user", sa.Column("avatar_id", BigId, nullable=True))
        op.create_foreign_key(
            "fk_user_avatar_id_avatar",
            "user",
            "avatar",
            ["avatar_id"],
            ["id"],
        )
    else:
        # Alembic would rebuild the table to add the reference; SQLite takes
        # it in ADD COLUMN when the column defaults to NULL.
        op.execute(
            'ALTER TABLE "user" ADD COLUMN avatar_id INTEGER REFERENCES avatar (id)'
        )
    op.create_table(
        "former_username",
        sa.Column("username_key", sa.String, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("username_key", name="pk_former_username"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_former_username_user_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_former_username_user_id", "former_username", ["user_id"])
    _watch_user_columns(_AFTER)


def downgrade() -> None:
    _watch_user_columns(_BEFORE)
    op.drop_table("former_username")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_user_avatar_id_avatar", "user", type_="foreignkey")
    # Not a batch rebuild on SQLite, which would drop the triggers.
    for column in ("avatar_id", "website", "bio_html", "bio", "display_name"):
        op.execute(f'ALTER TABLE "user" DROP COLUMN {column}')
    op.drop_table("avatar")
