"""The public titles' index leaves withheld posts out.

Searches on PostgreSQL read public titles from ``ix_post_title_vector_public``
(0008, 0018) without the posts' rows. Since 0026 a public post is also not
withheld (its writer is not suspended); with the index's condition saying so,
the search still reads the index alone.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_PUBLIC_TITLES = (
    "CREATE INDEX ix_post_title_vector_public ON post (id)"
    " INCLUDE (title_vector, published)"
    " WHERE published IS NOT NULL AND deleted IS NULL{also}"
)


def _rebuild(also: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_title_vector_public")
        op.execute(_PUBLIC_TITLES.format(also=also))


def upgrade() -> None:
    _rebuild(" AND NOT withheld")


def downgrade() -> None:
    _rebuild("")
