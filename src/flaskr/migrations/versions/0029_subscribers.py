"""Follow by e-mail: subscribers, what they follow, and which posts each was
mailed. Posts may be kept out of the mail; outbox mails carry headers of
their own (``List-Unsubscribe``); the site may show writers their
subscribers' addresses.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def _key(
    column: str, table: str, target: str, ondelete: str
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete=ondelete,
    )


def _flag(name: str, default: bool) -> sa.Column[bool]:
    return sa.Column(
        name,
        sa.Boolean(),
        nullable=False,
        server_default=sa.true() if default else sa.false(),
    )


def upgrade() -> None:
    op.create_table(
        "subscriber",
        sa.Column("id", BigId, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("confirmed", UTCDateTime, nullable=True),
        sa.Column("cadence", sa.String(10), nullable=False, server_default="each"),
        sa.Column("link_key", sa.String(64), nullable=False),
        sa.Column("last_digest", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber"),
        _key("user_id", "subscriber", "user", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_subscriber_email_key", "subscriber", ["email_key"], unique=True)
    op.create_index("ix_subscriber_user_id", "subscriber", ["user_id"])
    op.create_table(
        "subscription",
        sa.Column("id", BigId, nullable=False),
        sa.Column("subscriber_id", BigId, nullable=False),
        sa.Column("author_id", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscription"),
        _key("subscriber_id", "subscription", "subscriber", "CASCADE"),
        _key("author_id", "subscription", "user", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_subscription_author",
        "subscription",
        ["subscriber_id", "author_id"],
        unique=True,
        sqlite_where=sa.text("author_id IS NOT NULL"),
        postgresql_where=sa.text("author_id IS NOT NULL"),
    )
    op.create_index(
        "uq_subscription_site",
        "subscription",
        ["subscriber_id"],
        unique=True,
        sqlite_where=sa.text("author_id IS NULL"),
        postgresql_where=sa.text("author_id IS NULL"),
    )
    op.create_index("ix_subscription_author_id", "subscription", ["author_id"])
    op.create_table(
        "post_mailing",
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("subscriber_id", BigId, nullable=False),
        sa.Column("mail_id", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("post_id", "subscriber_id", name="pk_post_mailing"),
        _key("post_id", "post_mailing", "post", "CASCADE"),
        _key("subscriber_id", "post_mailing", "subscriber", "CASCADE"),
        _key("mail_id", "post_mailing", "outbox_mail", "SET NULL"),
    )
    op.create_index("ix_post_mailing_subscriber_id", "post_mailing", ["subscriber_id"])
    op.add_column("post", _flag("mail_subscribers", True))
    op.add_column(
        "outbox_mail",
        sa.Column("headers", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column("site_settings", _flag("writers_see_subscribers", False))


def downgrade() -> None:
    op.drop_column("site_settings", "writers_see_subscribers")
    op.drop_column("outbox_mail", "headers")
    op.drop_column("post", "mail_subscribers")
    op.drop_table("post_mailing")
    op.drop_table("subscription")
    op.drop_table("subscriber")
