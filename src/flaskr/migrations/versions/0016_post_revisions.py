"""Revisions: what each save of a post left, to compare and go back to.

A save replaced the post's text for good: yesterday's version was gone.
``post_revision`` keeps the title, text, summary and tags of each save
(``services/revisions.py``); a post saved before this keeps its state as it
was as a first revision when it is next saved. Only its writer sees them, so
they move no site version.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_revision",
        sa.Column("id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("saved_by", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_post_revision"),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["post.id"],
            name="fk_post_revision_post_id_post",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["saved_by"],
            ["user.id"],
            name="fk_post_revision_saved_by_user",
            ondelete="SET NULL",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_post_revision_post_id_id", "post_revision", ["post_id", "id"])


def downgrade() -> None:
    op.drop_table("post_revision")
