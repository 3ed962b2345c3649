"""Public posts filtered by author, tag, a reader's likes or follows, as the
JSON API lists them: by offset (bounded) or from a known position (keyset),
with counts that do not count the table.

Every list walks an index newest first and stops after a page: published
posts ``(published, id)``, a tag's ``post_tag (tag_id, published, post_id)``;
an author's ``(author_id, published, id)``.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from flaskr.db import db
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import out_and_older
from flaskr.services.content.access import WITHOUT_TEXT
from flaskr.services.reading.queries import public_count_by
from flaskr.services.reading.queries import public_count_tagged
from flaskr.services.reading.queries import public_post_count
from flaskr.services.social.follows import following_feed_count
from flaskr.services.social.follows import follows_author

#: Counts that no kept count answers (a mix of filters, a reader's likes)
#: are counted up to this many posts, then reported as this many.
COUNT_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class PostFilter:
    """Which public posts a list holds; every part given must hold."""

    author: User | None = None
    tag: Tag | None = None
    liked_by: User | None = None
    #: The Following feed: posts of the writers this reader follows.
    followed_by: User | None = None


@dataclasses.dataclass(frozen=True)
class ListPage:
    posts: list[Post]
    #: Where the next (older) page starts, or ``None`` on the last page.
    older: Cursor | None


def _filtered(
    which: PostFilter, columns: t.Any, before: Cursor | None = None
) -> tuple[sa.Select[t.Any], t.Any, t.Any]:
    """The select of ``columns`` for ``which``'s public posts (older than
    ``before``), and the two columns it is ordered by."""
    query = sa.select(columns).select_from(Post)
    published, post_id = Post.published, Post.id
    if which.tag is not None:
        query = query.join(PostTag, PostTag.post_id == Post.id).where(
            PostTag.tag_id == which.tag.id
        )
        published, post_id = PostTag.published, PostTag.post_id
    if which.author is not None:
        query = query.where(Post.author_id == which.author.id)
    if which.liked_by is not None:
        query = query.join(Like, Like.post_id == Post.id).where(
            Like.user_id == which.liked_by.id
        )
    if which.followed_by is not None:
        query = query.where(follows_author(which.followed_by))
    query = query.where(
        out_and_older((published, post_id), before),
        Post.deleted.is_(None),
        Post.withheld.is_(False),
    )
    return query, published, post_id


def list_posts(
    which: PostFilter, limit: int, *, offset: int = 0, before: Cursor | None = None
) -> ListPage:
    """Up to ``limit`` of ``which``'s posts, newest first, after skipping
    ``offset`` (the caller bounds it) or starting below ``before``."""
    query, published, post_id = _filtered(which, Post, before)
    query = (
        # Lists show no pictures: the posts' images are not loaded.
        query.options(*WITHOUT_TEXT, lazyload(Post.image))
        .order_by(published.desc(), post_id.desc())
        .offset(offset)
        .limit(limit + 1)
    )
    posts = list(db.session.scalars(query).unique())
    older = Cursor.of(posts[limit - 1]) if len(posts) > limit else None
    return ListPage(posts=posts[:limit], older=older)


def count_posts(which: PostFilter) -> int:
    """How many posts ``which`` holds: from the counts the database keeps when
    one filter is given (less the few posts scheduled for later), else counted
    up to :data:`COUNT_LIMIT`."""
    parts = (which.author, which.tag, which.liked_by, which.followed_by)
    given = [part for part in parts if part is not None]
    if not given:
        return public_post_count()
    if len(given) == 1:
        if which.author is not None:
            return public_count_by(which.author)
        if which.tag is not None:
            return public_count_tagged(which.tag)
        if which.followed_by is not None:
            return following_feed_count(which.followed_by)
    column = PostTag.post_id if which.tag is not None else Post.id
    query, _, _ = _filtered(which, column)
    bounded = query.limit(COUNT_LIMIT).subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(bounded)) or 0)
