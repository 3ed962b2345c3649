"""Follows, API tokens, and post counts kept by the database.

``follow`` says who follows whom; triggers keep ``user.follower_count`` and
``following_count`` and move ``site_version`` (author pages show the counts,
and a reader's kept pages their follow buttons). ``api_token`` holds the JSON
API's tokens as SHA-256 hashes, like ``auth_session``.

``post_count`` on ``site_version``, ``user`` and ``tag`` counts the posts that
are published or scheduled and not in the trash, kept by row triggers on
``post`` and ``post_tag`` so that no write path can forget them (the ORM, bulk
statements, account deletion). A post's count goes before its row does, so a
post deleted with its tags by the database's cascade is not counted twice.
Readers subtract the few scheduled posts still to come (an index range), so
counts of public posts never count a table.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime
from flaskr.migrations.frozen.trigger_functions import SITE_VERSION_FUNCTION

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_BUMP = "UPDATE site_version SET value = value + 1 WHERE id = 1"

#: Whether a row of ``post`` named ``row`` (``NEW``/``OLD``) counts.
_COUNTED = "({row}.published IS NOT NULL AND {row}.deleted IS NULL)"


def _counted(row: str) -> str:
    return _COUNTED.format(row=row)


def _change_counts(row: str, by: str) -> list[str]:
    """Statements adding ``by`` to every count the post ``row`` is part of."""
    return [
        f"UPDATE site_version SET post_count = post_count {by} 1 WHERE id = 1",
        f'UPDATE "user" SET post_count = post_count {by} 1 WHERE id = {row}.author_id',
        f"UPDATE tag SET post_count = post_count {by} 1 WHERE id IN"
        f" (SELECT tag_id FROM post_tag WHERE post_id = {row}.id)",
    ]


def _change_tag_count(row: str, by: str) -> str:
    return (
        f"UPDATE tag SET post_count = post_count {by} 1 WHERE id = {row}.tag_id"
        f" AND EXISTS (SELECT 1 FROM post WHERE id = {row}.post_id"
        " AND published IS NOT NULL AND deleted IS NULL)"
    )


def _follow_counts(row: str, by: str) -> list[str]:
    return [
        f'UPDATE "user" SET following_count = following_count {by} 1'
        f" WHERE id = {row}.follower_id",
        f'UPDATE "user" SET follower_count = follower_count {by} 1'
        f" WHERE id = {row}.followed_id",
    ]


def _sqlite_triggers() -> None:
    def trigger(name: str, when: str, body: list[str]) -> None:
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(body)}; END")

    trigger(
        "post_insert_counts",
        f"AFTER INSERT ON post WHEN {_counted('NEW')}",
        _change_counts("NEW", "+"),
    )
    trigger(
        "post_update_counts",
        "AFTER UPDATE OF published, deleted, author_id ON post"
        f" WHEN {_counted('OLD')} IS NOT {_counted('NEW')}"
        " OR OLD.author_id IS NOT NEW.author_id",
        [
            *(f"{s} AND {_counted('OLD')}" for s in _change_counts("OLD", "-")[1:]),
            *(f"{s} AND {_counted('NEW')}" for s in _change_counts("NEW", "+")[1:]),
            "UPDATE site_version SET post_count = post_count"
            f" + {_counted('NEW')} - {_counted('OLD')} WHERE id = 1",
        ],
    )
    trigger(
        "post_delete_counts",
        f"BEFORE DELETE ON post WHEN {_counted('OLD')}",
        _change_counts("OLD", "-"),
    )
    trigger(
        "post_tag_insert_counts",
        "AFTER INSERT ON post_tag",
        [_change_tag_count("NEW", "+")],
    )
    trigger(
        "post_tag_delete_counts",
        "AFTER DELETE ON post_tag",
        [_change_tag_count("OLD", "-")],
    )
    trigger(
        "follow_insert_counts",
        "AFTER INSERT ON follow",
        [*_follow_counts("NEW", "+"), _BUMP],
    )
    trigger(
        "follow_delete_counts",
        "AFTER DELETE ON follow",
        [*_follow_counts("OLD", "-"), _BUMP],
    )


def _postgresql_triggers() -> None:
    def function(name: str, body: str) -> None:
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN {body} END $$"
        )

    minus = "; ".join(_change_counts("OLD", "-"))
    plus = "; ".join(_change_counts("NEW", "+"))
    function(
        "count_posts",
        f"IF TG_OP <> 'INSERT' AND {_counted('OLD')} AND (TG_OP = 'DELETE'"
        f" OR NOT {_counted('NEW')} OR OLD.author_id IS DISTINCT FROM NEW.author_id)"
        f" THEN {minus}; END IF;"
        f" IF TG_OP <> 'DELETE' AND {_counted('NEW')} AND (TG_OP = 'INSERT'"
        f" OR NOT {_counted('OLD')} OR OLD.author_id IS DISTINCT FROM NEW.author_id)"
        f" THEN {plus}; END IF;"
        " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;",
    )
    op.execute(
        "CREATE TRIGGER post_counts AFTER INSERT OR UPDATE OF published, deleted,"
        " author_id ON post FOR EACH ROW EXECUTE FUNCTION count_posts()"
    )
    op.execute(
        "CREATE TRIGGER post_delete_counts BEFORE DELETE ON post"
        " FOR EACH ROW EXECUTE FUNCTION count_posts()"
    )
    function(
        "count_post_tags",
        f"IF TG_OP = 'INSERT' THEN {_change_tag_count('NEW', '+')};"
        f" ELSE {_change_tag_count('OLD', '-')}; END IF; RETURN NULL;",
    )
    op.execute(
        "CREATE TRIGGER post_tag_counts AFTER INSERT OR DELETE ON post_tag"
        " FOR EACH ROW EXECUTE FUNCTION count_post_tags()"
    )
    function(
        "count_follows",
        f"IF TG_OP = 'INSERT' THEN {'; '.join(_follow_counts('NEW', '+'))};"
        f" ELSE {'; '.join(_follow_counts('OLD', '-'))}; END IF; RETURN NULL;",
    )
    op.execute(
        "CREATE TRIGGER follow_counts AFTER INSERT OR DELETE ON follow"
        " FOR EACH ROW EXECUTE FUNCTION count_follows()"
    )
    op.execute(
        "CREATE TRIGGER follow_moves_site_version BEFORE INSERT OR DELETE ON follow"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
    )


def _fill_counts() -> None:
    counted = "published IS NOT NULL AND deleted IS NULL"
    op.execute(
        "UPDATE site_version SET post_count ="
        f" (SELECT count(*) FROM post WHERE {counted})"
    )
    op.execute(
        'UPDATE "user" SET post_count = (SELECT count(*) FROM post'
        f' WHERE post.author_id = "user".id AND {counted})'
    )
    op.execute(
        "UPDATE tag SET post_count = (SELECT count(*) FROM post_tag"
        " JOIN post ON post.id = post_tag.post_id WHERE post_tag.tag_id = tag.id"
        f" AND post.{counted.replace(' AND ', ' AND post.')})"
    )


def upgrade() -> None:
    op.create_table(
        "follow",
        sa.Column("follower_id", BigId, nullable=False),
        sa.Column("followed_id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name="pk_follow"),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["user.id"],
            name="fk_follow_follower_id_user",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["user.id"],
            name="fk_follow_followed_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_follow_followed_id", "follow", ["followed_id", "follower_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("last_used", UTCDateTime, nullable=False),
        sa.Column("expires", UTCDateTime, nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_api_token_user_id_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_index("ix_api_token_expires", "api_token", ["expires"])
    for table in ("user", "tag", "site_version"):
        # Not a batch rebuild on SQLite, which would drop the tables' triggers.
        op.execute(
            f'ALTER TABLE "{table}" ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0'
        )
    for column in ("follower_count", "following_count"):
        op.execute(f'ALTER TABLE "user" ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0')
    _fill_counts()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER post_counts ON post")
        op.execute("DROP TRIGGER post_delete_counts ON post")
        op.execute("DROP TRIGGER post_tag_counts ON post_tag")
        op.execute("DROP FUNCTION count_post_tags()")
        op.execute("DROP FUNCTION count_posts()")
    else:
        for name in (
            "post_insert_counts",
            "post_update_counts",
            "post_delete_counts",
            "post_tag_insert_counts",
            "post_tag_delete_counts",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("follow")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION count_follows()")
    op.drop_table("api_token")
    for column in ("following_count", "follower_count", "post_count"):
        op.execute(f'ALTER TABLE "user" DROP COLUMN {column}')
    for table in ("tag", "site_version"):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN post_count')
