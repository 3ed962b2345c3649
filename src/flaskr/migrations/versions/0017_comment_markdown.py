"""Comments with light Markdown that their authors can edit; a choice to be
mailed about new comments.

Comments were plain text, fixed once posted, and a writer learned of them
only by looking. ``comment.body_html`` keeps each comment rendered (emphasis,
code, links; filled here for the comments there are), ``comment.edited``
when its author last changed it, and ``user.notify_comments`` whether a
writer is mailed about comments on their posts (on unless they turn it off).
``ADD COLUMN`` keeps the tables' site-version triggers.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import UTCDateTime
from flaskr.migrations.frozen.markdown import render_light

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column(
        "comment", sa.Column("body_html", sa.Text, nullable=False, server_default="")
    )
    op.add_column("comment", sa.Column("edited", UTCDateTime, nullable=True))
    op.add_column(
        "user",
        sa.Column(
            "notify_comments", sa.Boolean, nullable=False, server_default=sa.true()
        ),
    )
    connection = op.get_bind()
    comment = sa.table(
        "comment",
        sa.column("id", sa.Integer),
        sa.column("body"),
        sa.column("body_html"),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(comment.c.id, comment.c.body)
            .where(comment.c.id > last_id)
            .order_by(comment.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            connection.execute(
                sa.update(comment)
                .where(comment.c.id == row.id)
                .values(body_html=render_light(row.body))
            )
        last_id = rows[-1].id


def downgrade() -> None:
    # Not a batch rebuild on SQLite, which would drop the triggers.
    op.execute('ALTER TABLE "user" DROP COLUMN notify_comments')
    op.execute("ALTER TABLE comment DROP COLUMN edited")
    op.execute("ALTER TABLE comment DROP COLUMN body_html")
