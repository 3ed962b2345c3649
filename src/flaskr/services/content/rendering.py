"""Rendering every post's Markdown again, after the renderer learned
something new (``flask render-posts``)."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.services.base import markdown


def _excerpt(summary: str, body_text: str) -> str:
    return markdown.shorten(summary or body_text)


def render_all_again(batch: int = 500) -> t.Iterator[int]:
    """Render every post's Markdown again (after the renderer learned
    something new), a batch per transaction; yield how many were done."""
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Post.id, Post.body, Post.summary)
            .where(Post.id > last_id)
            .order_by(Post.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        changes = []
        for row in rows:
            text = markdown.plain_text(row.body)
            changes.append(
                {
                    "post_id": row.id,
                    "body_html": markdown.render(row.body),
                    "body_text": text,
                    "excerpt": _excerpt(row.summary, text),
                    "word_count": len(text.split()),
                }
            )
        db.session.execute(_RENDERED, changes)
        db.session.commit()
        last_id = rows[-1].id
        yield len(rows)


#: A Core statement, run once per batch with a row of values per post.
_POSTS = t.cast(sa.Table, Post.__table__)


_RENDERED = (
    sa.update(_POSTS)
    .where(_POSTS.c.id == sa.bindparam("post_id"))
    .values(
        body_html=sa.bindparam("body_html"),
        body_text=sa.bindparam("body_text"),
        excerpt=sa.bindparam("excerpt"),
        word_count=sa.bindparam("word_count"),
    )
)
