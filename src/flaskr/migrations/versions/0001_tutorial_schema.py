"""The Flask tutorial's schema, where every Flaskr database starts.

A database made by the tutorial's ``schema.sql`` already has these tables and no
Alembic version: this revision leaves them as they are, so the revisions after
it upgrade that database in place.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table("user") and inspector.has_table("post"):
        return
    op.create_table(
        "user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="tutorial_user_pkey"),
        sa.UniqueConstraint("username", name="tutorial_user_username_key"),
    )
    op.create_table(
        "post",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column(
            "created",
            sa.DateTime,
            nullable=False,
            server_default=sa.func.current_timestamp(),
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="tutorial_post_pkey"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name="tutorial_post_author_id_fkey"
        ),
    )


def downgrade() -> None:
    op.drop_table("post")
    op.drop_table("user")
