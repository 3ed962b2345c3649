"""A summary and a readable, unique address (slug) for every post.

Writers could not say what lists and feeds show of a post, and a post's only
address was its number. ``summary`` is the writer's own (empty: the start of
the text, as before), and ``slug`` is made from the title for every post
there is, as saving makes it for new ones (``services/posts.py``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.slugs import free_slug
from flaskr.migrations.frozen.slugs import slugify

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column(
        "post", sa.Column("summary", sa.Text, nullable=False, server_default="")
    )
    op.add_column("post", sa.Column("slug", sa.String(80), nullable=True))
    op.create_index("uq_post_slug", "post", ["slug"], unique=True)
    connection = op.get_bind()
    post = sa.table(
        "post", sa.column("id", sa.Integer), sa.column("title"), sa.column("slug")
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(post.c.id, post.c.title)
            .where(post.c.id > last_id)
            .order_by(post.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            slug = free_slug(connection, slugify(row.title))
            connection.execute(
                sa.update(post).where(post.c.id == row.id).values(slug=slug)
            )
        last_id = rows[-1].id


def downgrade() -> None:
    op.drop_index("uq_post_slug", "post")
    # Not a batch rebuild on SQLite, which would drop the triggers.
    op.execute("ALTER TABLE post DROP COLUMN slug")
    op.execute("ALTER TABLE post DROP COLUMN summary")
