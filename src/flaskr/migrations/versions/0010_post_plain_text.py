"""A plain-text copy of each post's rendered body, for search and excerpts.

Search indexed the Markdown source and cut its snippets from it, so results
showed ``*``, backticks and ``>``; excerpts joined words with spaces and put
one before each punctuation mark that followed an emphasis or a link. Both
now come from ``body_text``, which saving a post fills from the rendered
Markdown; this migration fills it, and refills the excerpts, for the posts
already there. SQLite's full-text table reads its text from the ``post``
table by column name, so it is made again over ``body_text``; PostgreSQL's
generated ``search_vector`` is made again from it too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.markdown import plain_text
from flaskr.migrations.frozen.markdown import shorten

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 500


def _sqlite_search(text_column: str) -> list[str]:
    """SQLite's full-text table over the title and ``text_column``, and the
    triggers that keep it."""
    new = f"new.id, new.title, new.{text_column}"
    old = f"old.id, old.title, old.{text_column}"
    columns = f"rowid, title, {text_column}"
    return [
        "CREATE VIRTUAL TABLE post_fts USING fts5("
        f" title, {text_column}, content='post', content_rowid='id',"
        " tokenize='porter unicode61 remove_diacritics 2')",
        "CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN"
        f" INSERT INTO post_fts ({columns}) VALUES ({new});"
        " END",
        "CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN"
        f" INSERT INTO post_fts (post_fts, {columns}) VALUES ('delete', {old});"
        " END",
        f"CREATE TRIGGER post_fts_update AFTER UPDATE OF title, {text_column}"
        " ON post BEGIN"
        f" INSERT INTO post_fts (post_fts, {columns}) VALUES ('delete', {old});"
        f" INSERT INTO post_fts ({columns}) VALUES ({new});"
        " END",
        "INSERT INTO post_fts (post_fts) VALUES ('rebuild')",
    ]


_SQLITE_DROP_SEARCH = [
    "DROP TRIGGER post_fts_insert",
    "DROP TRIGGER post_fts_delete",
    "DROP TRIGGER post_fts_update",
    "DROP TABLE post_fts",
]


def _postgresql_search(text_column: str) -> list[str]:
    return [
        "DROP INDEX ix_post_search_vector",
        "ALTER TABLE post DROP COLUMN search_vector",
        "ALTER TABLE post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        " setweight(to_tsvector('english', title), 'A')"
        f" || setweight(to_tsvector('english', {text_column}), 'B')) STORED",
        "CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)",
    ]


def _fill_plain_text(connection: sa.Connection) -> None:
    post = sa.table(
        "post",
        sa.column("id", BigId),
        sa.column("body", sa.Text),
        sa.column("body_text", sa.Text),
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
            text = plain_text(row.body)
            connection.execute(
                post.update()
                .where(post.c.id == row.id)
                .values(body_text=text, excerpt=shorten(text))
            )
        last_id = rows[-1].id


def _rebuild_search(text_column: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = _SQLITE_DROP_SEARCH + _sqlite_search(text_column)
    elif dialect == "postgresql":
        statements = _postgresql_search(text_column)
    else:
        statements = []
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    # ADD COLUMN, not a batch rebuild: the site-version triggers stay.
    op.add_column(
        "post", sa.Column("body_text", sa.Text, nullable=False, server_default="")
    )
    _fill_plain_text(op.get_bind())
    _rebuild_search("body_text")


def downgrade() -> None:
    _rebuild_search("body")
    op.execute("ALTER TABLE post DROP COLUMN body_text")
