"""Markdown, drafts, tags and search.

Existing posts become published on the date they were created, and their text
is rendered as Markdown (with line breaks kept, as before). Search gets a
full-text index: an FTS5 table kept by triggers on SQLite, a generated
``tsvector`` column with a GIN index on PostgreSQL.

Note for later migrations: a SQLite batch rebuild of ``post`` drops the
triggers below; recreate them with :func:`create_sqlite_search` afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime
from flaskr.migrations.frozen.markdown import excerpt
from flaskr.migrations.frozen.markdown import render

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 500

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE post_fts USING fts5("
    " title, body, content='post', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN"
    " INSERT INTO post_fts (rowid, title, body) VALUES (new.id, new.title, new.body);"
    " END",
    "CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN"
    " INSERT INTO post_fts (post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " END",
    "CREATE TRIGGER post_fts_update AFTER UPDATE OF title, body ON post BEGIN"
    " INSERT INTO post_fts (post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO post_fts (rowid, title, body) VALUES (new.id, new.title, new.body);"
    " END",
    "INSERT INTO post_fts (post_fts) VALUES ('rebuild')",
]

POSTGRESQL_SEARCH = [
    "ALTER TABLE post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    " setweight(to_tsvector('english', title), 'A')"
    " || setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)",
]


def create_sqlite_search() -> None:
    for statement in SQLITE_SEARCH:
        op.execute(statement)


def _render_existing_posts(connection: sa.Connection) -> None:
    post = sa.table(
        "post",
        sa.column("id", BigId),
        sa.column("body", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("excerpt", sa.Text),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(post.c.id, post.c.body)
            .where(post.c.id > last_id)
            .order_by(post.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            connection.execute(
                post.update()
                .where(post.c.id == row.id)
                .values(body_html=render(row.body), excerpt=excerpt(row.body))
            )
        last_id = rows[-1].id


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column("post", sa.Column("published", UTCDateTime, nullable=True))
    op.add_column(
        "post", sa.Column("body_html", sa.Text, nullable=False, server_default="")
    )
    op.add_column(
        "post", sa.Column("excerpt", sa.Text, nullable=False, server_default="")
    )
    op.execute("UPDATE post SET published = created")
    _render_existing_posts(connection)

    op.drop_index("ix_post_created_id", "post")
    op.drop_index("ix_post_author_id", "post")
    op.create_index("ix_post_published_id", "post", ["published", "id"])
    op.create_index(
        "ix_post_author_id_published", "post", ["author_id", "published", "id"]
    )

    op.create_table(
        "tag",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tag"),
        sa.UniqueConstraint("name", name="uq_tag_name"),
    )
    op.create_table(
        "post_tag",
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("tag_id", BigId, nullable=False),
        sa.Column("published", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name="pk_post_tag"),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["post.id"],
            name="fk_post_tag_post_id_post",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name="fk_post_tag_tag_id_tag", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_post_tag_tag_id_published", "post_tag", ["tag_id", "published", "post_id"]
    )

    if connection.dialect.name == "sqlite":
        create_sqlite_search()
    elif connection.dialect.name == "postgresql":
        for statement in POSTGRESQL_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in ("post_fts_insert", "post_fts_delete", "post_fts_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE post_fts")
    elif connection.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_search_vector")
        op.execute("ALTER TABLE post DROP COLUMN search_vector")
    op.drop_table("post_tag")
    op.drop_table("tag")
    op.drop_index("ix_post_author_id_published", "post")
    op.drop_index("ix_post_published_id", "post")
    op.create_index("ix_post_author_id", "post", ["author_id"])
    op.create_index("ix_post_created_id", "post", ["created", "id"])
    op.execute("DELETE FROM post WHERE published IS NULL")
    autoincrement = {"sqlite_autoincrement": True}
    with op.batch_alter_table("post", table_kwargs=autoincrement) as batch:
        for column in ("excerpt", "body_html", "published"):
            batch.drop_column(column)
