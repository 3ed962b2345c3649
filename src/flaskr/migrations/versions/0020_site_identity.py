"""The site's identity run by an administrator; word counts for reading times.

``user.is_admin`` marks administrators (``flask make-admin``, or the first
account of a fresh site). ``site_settings`` holds one row: the title,
description and About page they set, and the site's icon; a trigger moves
``site_version`` when it changes, as every page shows the title.
``post.word_count`` lets lists show a reading time without reading the text:
filled here by counting the spaces and line breaks of ``body_text`` (one line
per block, words one space apart), and counted exactly at each later save.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.trigger_functions import SITE_VERSION_FUNCTION

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BUMP = "UPDATE site_version SET value = value + 1 WHERE id = 1"


def _count_words() -> None:
    newline = "chr(10)" if op.get_bind().dialect.name == "postgresql" else "char(10)"
    op.execute(
        "UPDATE post SET word_count = CASE WHEN trim(body_text) = '' THEN 0"
        " ELSE length(body_text)"
        f" - length(replace(replace(body_text, ' ', ''), {newline}, '')) + 1 END"
    )


def upgrade() -> None:
    op.add_column(
        "user",
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "post",
        sa.Column("word_count", sa.Integer, nullable=False, server_default="0"),
    )
    _count_words()
    op.create_table(
        "site_settings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(80), nullable=False, server_default=""),
        sa.Column("description", sa.String(300), nullable=False, server_default=""),
        sa.Column("about", sa.Text, nullable=False, server_default=""),
        sa.Column("about_html", sa.Text, nullable=False, server_default=""),
        sa.Column("serif_body", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("icon_key", sa.String(32), nullable=True),
        sa.Column("icon_large", sa.LargeBinary, nullable=True),
        sa.Column("icon_small", sa.LargeBinary, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_site_settings"),
    )
    op.execute("INSERT INTO site_settings (id) VALUES (1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER site_settings_moves_site_version"
            " BEFORE INSERT OR UPDATE OR DELETE ON site_settings"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER site_settings_{event.lower()}_moves_site_version"
                f" AFTER {event} ON site_settings BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    op.drop_table("site_settings")
    # Not a batch rebuild on SQLite, which would drop the tables' triggers.
    op.execute("ALTER TABLE post DROP COLUMN word_count")
    op.execute('ALTER TABLE "user" DROP COLUMN is_admin')
