"""The fediverse: actors' keys, remote actors, their follows of writers,
likes and boosts, replies as comments, blocked domains, and the activities
waiting for remote inboxes.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

URI = 2048
DOMAIN = 260


def _key(
    column: str, table: str, target: str, ondelete: str
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete=ondelete,
    )


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "actor_key",
        sa.Column("owner", sa.String(40), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_actor_key"),
    )
    op.create_table(
        "remote_actor",
        sa.Column("id", BigId, nullable=False),
        sa.Column("uri", sa.String(URI), nullable=False),
        sa.Column("domain", sa.String(DOMAIN), nullable=False),
        sa.Column("inbox", sa.String(URI), nullable=False),
        sa.Column("shared_inbox", sa.String(URI), nullable=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("profile_url", sa.String(URI), nullable=True),
        sa.Column("icon_url", sa.String(URI), nullable=True),
        sa.Column("key_id", sa.String(URI), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("fetched", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remote_actor"),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_remote_actor_uri", "remote_actor", ["uri"], unique=True)
    op.create_index("ix_remote_actor_key_id", "remote_actor", ["key_id"])
    op.create_index("ix_remote_actor_domain", "remote_actor", ["domain"])
    op.create_table(
        "remote_follower",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("follow_id", sa.String(URI), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "actor_id", name="pk_remote_follower"),
        _key("user_id", "remote_follower", "user", "CASCADE"),
        _key("actor_id", "remote_follower", "remote_actor", "CASCADE"),
    )
    op.create_index("ix_remote_follower_actor_id", "remote_follower", ["actor_id"])
    op.create_index(
        "ix_remote_follower_user_id_state",
        "remote_follower",
        ["user_id", "state", "created"],
    )
    op.create_table(
        "remote_reaction",
        sa.Column("id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("activity_id", sa.String(URI), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remote_reaction"),
        _key("post_id", "remote_reaction", "post", "CASCADE"),
        _key("actor_id", "remote_reaction", "remote_actor", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_remote_reaction_activity_id",
        "remote_reaction",
        ["activity_id"],
        unique=True,
    )
    op.create_index(
        "uq_remote_reaction_post_actor_kind",
        "remote_reaction",
        ["post_id", "actor_id", "kind"],
        unique=True,
    )
    op.create_index("ix_remote_reaction_actor_id", "remote_reaction", ["actor_id"])
    op.create_table(
        "blocked_domain",
        sa.Column("domain", sa.String(DOMAIN), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("blocked_by", BigId, nullable=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("domain", name="pk_blocked_domain"),
        sa.ForeignKeyConstraint(
            ["blocked_by"],
            ["user.id"],
            name="fk_blocked_domain_blocked_by_user",
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "federation_delivery",
        sa.Column("id", BigId, nullable=False),
        sa.Column("activity_id", sa.String(URI), nullable=False),
        sa.Column("inbox", sa.String(URI), nullable=False),
        sa.Column("activity", sa.JSON(), nullable=False),
        sa.Column("signer", sa.String(40), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("next_attempt", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_federation_delivery"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_federation_delivery_activity_inbox",
        "federation_delivery",
        ["activity_id", "inbox"],
        unique=True,
    )
    op.create_index(
        "ix_federation_delivery_due",
        "federation_delivery",
        ["next_attempt", "id"],
        sqlite_where=sa.text("done IS NULL AND failed = 0"),
        postgresql_where=sa.text("done IS NULL AND NOT failed"),
    )
    op.create_table(
        "remote_following",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("follow_id", sa.String(URI), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "actor_id", name="pk_remote_following"),
        _key("user_id", "remote_following", "user", "CASCADE"),
        _key("actor_id", "remote_following", "remote_actor", "CASCADE"),
    )
    op.create_index("ix_remote_following_actor_id", "remote_following", ["actor_id"])
    op.create_table(
        "remote_post",
        sa.Column("id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("uri", sa.String(URI), nullable=False),
        sa.Column("url", sa.String(URI), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=True),
        sa.Column("received", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remote_post"),
        _key("actor_id", "remote_post", "remote_actor", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_remote_post_uri", "remote_post", ["uri"], unique=True)
    op.create_index(
        "ix_remote_post_actor_id_published", "remote_post", ["actor_id", "published"]
    )
    op.create_table(
        "remote_reply",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("remote_post_id", BigId, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remote_reply"),
        _key("user_id", "remote_reply", "user", "CASCADE"),
        _key("remote_post_id", "remote_reply", "remote_post", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_remote_reply_remote_post_id", "remote_reply", ["remote_post_id", "id"]
    )
    op.create_index("ix_remote_reply_user_id", "remote_reply", ["user_id"])
    op.add_column(
        "user",
        sa.Column(
            "approve_fediverse_followers",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.add_column("post", _count("fediverse_likes"))
    op.add_column("post", _count("fediverse_shares"))
    # Not a batch rebuild on SQLite, which would drop the table's triggers:
    # SQLite adds a column with a reference when its default is NULL.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE comment ADD COLUMN remote_actor_id INTEGER"
            " REFERENCES remote_actor (id)"
        )
    else:
        op.add_column("comment", sa.Column("remote_actor_id", BigId, nullable=True))
        op.create_foreign_key(
            "fk_comment_remote_actor_id_remote_actor",
            "comment",
            "remote_actor",
            ["remote_actor_id"],
            ["id"],
        )
    op.add_column("comment", sa.Column("remote_id", sa.String(URI), nullable=True))
    op.add_column("comment", sa.Column("remote_url", sa.String(URI), nullable=True))
    op.create_index("ix_comment_remote_actor_id", "comment", ["remote_actor_id"])
    op.create_index("uq_comment_remote_id", "comment", ["remote_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_comment_remote_id", "comment")
    op.drop_index("ix_comment_remote_actor_id", "comment")
    op.execute("ALTER TABLE comment DROP COLUMN remote_url")
    op.execute("ALTER TABLE comment DROP COLUMN remote_id")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            "fk_comment_remote_actor_id_remote_actor", "comment", type_="foreignkey"
        )
    op.execute("ALTER TABLE comment DROP COLUMN remote_actor_id")
    op.drop_column("post", "fediverse_shares")
    op.drop_column("post", "fediverse_likes")
    op.drop_column("user", "approve_fediverse_followers")
    op.drop_table("remote_reply")
    op.drop_table("remote_post")
    op.drop_table("remote_following")
    op.drop_table("federation_delivery")
    op.drop_table("blocked_domain")
    op.drop_table("remote_reaction")
    op.drop_table("remote_follower")
    op.drop_table("remote_actor")
    op.drop_table("actor_key")
