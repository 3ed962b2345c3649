"""The event line: what happened, recorded with the change, handled after.

``event`` holds one row per thing that happened (a post published, trashed or
deleted, an account renamed), written in the transaction of the change.
``event_delivery`` holds each handler's progress with each event, claimed,
retried and marked done as the mail outbox does (``services/base/events.py``).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("due", UTCDateTime, nullable=False),
        sa.Column("key", sa.String(120), nullable=True),
        sa.Column("dispatched", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_event_due",
        "event",
        ["due", "id"],
        sqlite_where=sa.text("dispatched = 0"),
        postgresql_where=sa.text("NOT dispatched"),
    )
    op.create_index("uq_event_key", "event", ["key"], unique=True)
    op.create_table(
        "event_delivery",
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("handler", sa.String(40), nullable=False),
        sa.Column("next_attempt", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler", name="pk_event_delivery"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name="fk_event_delivery_event_id_event",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_event_delivery_due",
        "event_delivery",
        ["next_attempt", "event_id"],
        sqlite_where=sa.text("done IS NULL AND failed = 0"),
        postgresql_where=sa.text("done IS NULL AND NOT failed"),
    )


def downgrade() -> None:
    op.drop_table("event_delivery")
    op.drop_table("event")
