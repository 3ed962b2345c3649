"""Images held for writers between a post form's previews and its save.

An image chosen in a post form was lost on a preview or a form sent back with
a field to fix, and had to be chosen again. Now it is processed once and held
here for its writer (``services/held_images.py``), named by the form, until
the post is saved with it or it expires. Nothing public shows these rows, so
they move no site version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_image",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("display", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_held_image"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_held_image_user_id_user",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_held_image_user_id_created", "held_image", ["user_id", "created"]
    )
    op.create_index("ix_held_image_created", "held_image", ["created"])


def downgrade() -> None:
    op.drop_table("held_image")
