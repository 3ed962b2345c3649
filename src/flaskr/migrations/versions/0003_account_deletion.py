"""Posts can outlive their author's account; sessions can be purged by age.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

from flaskr.migrations.frozen.column_types import BigId

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# SQLite rebuilds the table; reflection does not carry AUTOINCREMENT over.
_POST_TABLE = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("post", table_kwargs=_POST_TABLE) as batch:
        batch.alter_column("author_id", existing_type=BigId, nullable=True)
    op.create_index("ix_auth_session_created", "auth_session", ["created"])


def downgrade() -> None:
    op.drop_index("ix_auth_session_created", "auth_session")
    op.execute("DELETE FROM post WHERE author_id IS NULL")
    with op.batch_alter_table("post", table_kwargs=_POST_TABLE) as batch:
        batch.alter_column("author_id", existing_type=BigId, nullable=False)
