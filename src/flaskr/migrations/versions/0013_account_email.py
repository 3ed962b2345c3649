"""E-mail addresses on accounts, and one-time links sent to them.

A forgotten password lost the blog: there was no address to send a reset
link to. Accounts get an optional, confirmed address (unique regardless of
letter case), and ``account_token`` keeps the hashes of the links that
confirm an address or reset a password (``services/recovery.py``). ``ADD
COLUMN`` keeps the user table, so its site-version triggers stay.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("user", sa.Column("email_key", sa.String(320), nullable=True))
    op.create_index("uq_user_email_key", "user", ["email_key"], unique=True)
    op.create_table(
        "account_token",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("used", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_token"),
        sa.UniqueConstraint("token_hash", name="uq_account_token_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_account_token_user_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_account_token_user_id", "account_token", ["user_id", "purpose"])


def downgrade() -> None:
    op.drop_table("account_token")
    op.drop_index("uq_user_email_key", "user")
    # Not a batch rebuild on SQLite, which would drop the triggers.
    op.execute('ALTER TABLE "user" DROP COLUMN email_key')
    op.execute('ALTER TABLE "user" DROP COLUMN email')
