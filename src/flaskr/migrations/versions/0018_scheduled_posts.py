"""Posts published at a time to come: the page cache learns when.

A post may now be published at a future time and stay out of every public
place until then, with no cron job. Queries compare ``published`` with the
time they run at; ``site_version.next_publication`` tells every server's page
cache the soonest time a scheduled post comes out, so pages kept before it
are not served after it (``plumbing/page_cache.py``).

On PostgreSQL the public titles' index (0008) also carries ``published``, so
a search still reads titles without the posts' rows now that it compares it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_PUBLIC_TITLES = (
    "CREATE INDEX ix_post_title_vector_public ON post (id) INCLUDE ({columns})"
    " WHERE published IS NOT NULL AND deleted IS NULL"
)


def upgrade() -> None:
    op.add_column(
        "site_version", sa.Column("next_publication", UTCDateTime, nullable=True)
    )
    # The zone a writer last scheduled in: their times are shown in it.
    op.add_column("user", sa.Column("time_zone", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_title_vector_public")
        op.execute(_PUBLIC_TITLES.format(columns="title_vector, published"))
    # Posts already dated in the future (none were, before this) come out
    # at their time like the ones scheduled from now on.
    op.execute(
        "UPDATE site_version SET next_publication = (SELECT min(published)"
        " FROM post WHERE published > CURRENT_TIMESTAMP AND deleted IS NULL)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_title_vector_public")
        op.execute(_PUBLIC_TITLES.format(columns="title_vector"))
    op.execute('ALTER TABLE "user" DROP COLUMN time_zone')
    op.execute("ALTER TABLE site_version DROP COLUMN next_publication")
