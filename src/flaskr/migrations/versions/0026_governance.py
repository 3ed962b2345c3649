"""Governing the site: roles, account states, held comments, reports,
invitations and the audit log.

``user.role`` replaces ``user.is_admin`` (administrators become ``admin``,
everyone else ``author``, as they could publish before). ``post.withheld``
and ``comment.withheld`` hide a suspended account's writing; ``comment.state``
holds comments for moderation. The site's settings gain who may join and
comment and which hold rules are on.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _flag(name: str, default: bool) -> sa.Column[bool]:
    return sa.Column(
        name,
        sa.Boolean(),
        nullable=False,
        server_default=sa.true() if default else sa.false(),
    )


def _text(name: str, default: str, length: int | None = None) -> sa.Column[str]:
    kind = sa.String(length) if length else sa.Text()
    return sa.Column(name, kind, nullable=False, server_default=default)


def _user_columns() -> None:
    op.add_column("user", _text("role", "author", 12))
    op.add_column("user", _text("state", "active", 12))
    op.add_column("user", _text("state_reason", ""))
    op.add_column("user", sa.Column("state_changed", UTCDateTime, nullable=True))
    op.add_column("user", sa.Column("last_seen", UTCDateTime, nullable=True))
    op.create_index("ix_user_state", "user", ["state"])
    op.execute("UPDATE \"user\" SET role = 'admin' WHERE is_admin")
    # Not a batch rebuild on SQLite, which would drop the table's triggers.
    op.execute('ALTER TABLE "user" DROP COLUMN is_admin')


def _writing_columns() -> None:
    op.add_column("post", _flag("withheld", False))
    op.add_column("post", _flag("comments_open", True))
    op.add_column("post", sa.Column("review_requested", UTCDateTime, nullable=True))
    op.add_column("comment", _text("state", "visible", 10))
    op.add_column("comment", _text("hold_reason", "", 200))
    op.add_column("comment", _flag("withheld", False))
    op.create_index(
        "ix_comment_held",
        "comment",
        ["created"],
        sqlite_where=sa.text("state = 'held'"),
        postgresql_where=sa.text("state = 'held'"),
    )


def _settings_columns() -> None:
    op.add_column("site_settings", _text("join_mode", "open", 12))
    op.add_column("site_settings", _text("default_role", "author", 12))
    op.add_column("site_settings", _text("refused_email_domains", ""))
    op.add_column("site_settings", _text("comment_policy", "anyone", 12))
    op.add_column("site_settings", sa.Column("hold_rules", sa.String(200)))
    for name, default in (("hold_link_limit", "2"), ("hold_account_hours", "24")):
        op.add_column(
            "site_settings",
            sa.Column(name, sa.Integer(), nullable=False, server_default=default),
        )
    op.add_column("site_settings", _text("hold_words", ""))


def _user_key(name: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [name], ["user.id"], name=f"fk_{table}_{name}_user", ondelete=ondelete
    )


def _tables() -> None:
    op.create_table(
        "invitation",
        sa.Column("id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("expires", UTCDateTime, nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("used", UTCDateTime, nullable=True),
        sa.Column("used_by", BigId, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitation"),
        sa.UniqueConstraint("token_hash", name="uq_invitation_token_hash"),
        _user_key("created_by", "invitation", "SET NULL"),
        _user_key("used_by", "invitation", "SET NULL"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "report",
        sa.Column("id", BigId, nullable=False),
        sa.Column("reporter_id", BigId, nullable=False),
        sa.Column("subject", sa.String(10), nullable=False),
        sa.Column("subject_id", BigId, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("resolved", UTCDateTime, nullable=True),
        sa.Column("resolved_by", BigId, nullable=True),
        sa.Column("resolution", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_report"),
        _user_key("reporter_id", "report", "CASCADE"),
        _user_key("resolved_by", "report", "SET NULL"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_report_reporter_subject",
        "report",
        ["reporter_id", "subject", "subject_id"],
        unique=True,
    )
    op.create_index(
        "ix_report_open",
        "report",
        ["created"],
        sqlite_where=sa.text("resolved IS NULL"),
        postgresql_where=sa.text("resolved IS NULL"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("actor_name", sa.String(), nullable=False, server_default=""),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject_user_id", BigId, nullable=True),
        sa.Column("subject_name", sa.String(), nullable=False, server_default=""),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("comment_id", BigId, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entry"),
        _user_key("actor_id", "audit_entry", "SET NULL"),
        _user_key("subject_user_id", "audit_entry", "SET NULL"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_entry_created", "audit_entry", ["created", "id"])
    op.create_index(
        "ix_audit_entry_subject_user_id", "audit_entry", ["subject_user_id"]
    )


def upgrade() -> None:
    _user_columns()
    _writing_columns()
    _settings_columns()
    _tables()


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("report")
    op.drop_table("invitation")
    op.add_column(
        "user",
        sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE \"user\" SET is_admin = (role = 'admin')")
    op.drop_index("ix_user_state", "user")
    op.drop_index("ix_comment_held", "comment")
    # Not a batch rebuild on SQLite, which would drop the tables' triggers.
    for table, columns in (
        ("user", ("role", "state", "state_reason", "state_changed", "last_seen")),
        ("post", ("withheld", "comments_open", "review_requested")),
        ("comment", ("state", "hold_reason", "withheld")),
        (
            "site_settings",
            (
                "join_mode",
                "default_role",
                "refused_email_domains",
                "comment_policy",
                "hold_rules",
                "hold_link_limit",
                "hold_account_hours",
                "hold_words",
            ),
        ),
    ):
        for column in columns:
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
