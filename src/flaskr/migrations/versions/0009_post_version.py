"""A version number on each post, for saves from two tabs at once.

Each save by the author moves it by one, and a save names the version its form
was opened at: a save over a newer version is refused whole (issue: two tabs
editing one post). Existing posts start at 1. ``ADD COLUMN`` keeps the table,
so the site-version triggers on it stay (no batch rebuild).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "post",
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    # Not a batch rebuild on SQLite, which would drop the triggers.
    op.execute("ALTER TABLE post DROP COLUMN version")
