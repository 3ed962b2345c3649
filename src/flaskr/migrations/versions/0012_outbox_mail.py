"""An outbox for mail: recorded with what caused it, sent afterwards.

Password resets and address confirmations (issue: accounts people can
recover) must not be lost when the SMTP server is down or a worker dies, and
must not be sent for a change that was rolled back. Each mail is a row here,
written in the same transaction; ``services/mail.py`` sends the due ones.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_mail",
        sa.Column("id", BigId, nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("next_attempt", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("failed", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_mail"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbox_mail_due",
        "outbox_mail",
        ["next_attempt"],
        sqlite_where=sa.text("sent IS NULL"),
        postgresql_where=sa.text("sent IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox_mail")
