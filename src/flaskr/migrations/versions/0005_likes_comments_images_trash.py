"""Likes, comments, images, and a trash for deleted posts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, no table rebuild: the SQLite search triggers stay.
    op.add_column("post", sa.Column("deleted", UTCDateTime, nullable=True))
    for counter in ("like_count", "comment_count"):
        op.add_column(
            "post", sa.Column(counter, sa.Integer, nullable=False, server_default="0")
        )
    # Partial: only posts in the trash (see models.Post).
    op.create_index(
        "ix_post_deleted",
        "post",
        ["deleted"],
        sqlite_where=sa.text("deleted IS NOT NULL"),
        postgresql_where=sa.text("deleted IS NOT NULL"),
    )

    op.create_table(
        "image",
        sa.Column("id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("alt", sa.String(300), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("display", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_image"),
        sa.UniqueConstraint("post_id", name="uq_image_post_id"),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name="fk_image_post_id_post", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "post_like",
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("post_id", "user_id", name="pk_post_like"),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["post.id"],
            name="fk_post_like_post_id_post",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_post_like_user_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_post_like_user_id_created", "post_like", ["user_id", "created", "post_id"]
    )
    op.create_table(
        "comment",
        sa.Column("id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("author_id", BigId, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comment"),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name="fk_comment_post_id_post", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name="fk_comment_author_id_user"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_comment_post_id_created", "comment", ["post_id", "created", "id"]
    )
    op.create_index("ix_comment_author_id", "comment", ["author_id"])


def downgrade() -> None:
    op.drop_table("comment")
    op.drop_table("post_like")
    op.drop_table("image")
    op.drop_index("ix_post_deleted", "post")
    autoincrement = {"sqlite_autoincrement": True}
    with op.batch_alter_table("post", table_kwargs=autoincrement) as batch:
        for column in ("comment_count", "like_count", "deleted"):
            batch.drop_column(column)
