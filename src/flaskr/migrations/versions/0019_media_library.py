"""A writer's picture library, for pictures placed in posts' text.

A post had one picture, above its text. ``media_image`` keeps the pictures a
writer uploads from the editor or the library page (``services/media.py``),
each under a random key, re-encoded like post images; posts show them with
Markdown. What readers see changes only when a post's text does, so these
rows move no site version.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_image",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("alt", sa.String(300), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("display", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_media_image"),
        sa.UniqueConstraint("key", name="uq_media_image_key"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_media_image_user_id_user",
            ondelete="SET NULL",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_media_image_user_id_id", "media_image", ["user_id", "id"])


def downgrade() -> None:
    op.drop_table("media_image")
