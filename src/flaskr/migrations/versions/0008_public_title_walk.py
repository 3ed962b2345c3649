"""PostgreSQL: the newest public titles, readable without visiting posts.

To find the newest posts with every searched word in the title, PostgreSQL
walks posts from the newest, testing each title's ``tsvector`` (the GIN index
finds every match, then all of them must be sorted). For a common pair at a
million posts the walk passed ~3,600 posts and read ~1,000 table pages, as each
post row carries its text. This index holds only the public posts' ids and
title vectors, so the same walk reads ~50 index pages and no table page
(an index-only scan, once autovacuum has marked the pages visible): a new
common-word search's SQL went from 4.5 to 1.6 ms (bench/README.md).

The GIN index stays: for rare words, finding the few matches there is quicker
than walking. SQLite needs nothing: it has a full-text table of titles (0007).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Two seconds at a million posts, during which posts cannot be written.
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_post_title_vector_public ON post (id) INCLUDE (title_vector)"
    " WHERE published IS NOT NULL AND deleted IS NULL"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_title_vector_public")
