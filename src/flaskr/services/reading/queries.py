"""Lists and counts of published posts.

Each list reads one index in order (see ``paging``): published posts by
``(published, id)``, an author's by ``(author_id, published, id)``, a tag's by
``post_tag (tag_id, published, post_id)``.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import NOW
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import SiteVersion
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import PostList
from flaskr.services.base.paging import PostPage
from flaskr.services.content.access import select_posts


def published_list(*, with_text: bool = False) -> PostList:
    """Every published post, with its author, tags and image."""
    return PostList(select_posts(with_text), (Post.published, Post.id))


def list_by(author: User, *, with_text: bool = False) -> PostList:
    query = select_posts(with_text).where(Post.author_id == author.id)
    return PostList(query, (Post.published, Post.id))


def list_tagged(tag: Tag, *, with_text: bool = False) -> PostList:
    query = (
        select_posts(with_text)
        .join(PostTag, PostTag.post_id == Post.id)
        .where(PostTag.tag_id == tag.id)
    )
    return PostList(query, (PostTag.published, PostTag.post_id))


def published_posts(
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    """A page of published posts with their authors, tags and images."""
    return published_list(with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_by(
    author: User,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    return list_by(author, with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_tagged(
    tag: Tag,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    return list_tagged(tag, with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_with_ids(ids: t.Collection[int]) -> dict[int, Post]:
    """The posts with these ids that exist (with authors, tags and images,
    without their text), by id."""
    if not ids:
        return {}
    query = select_posts(with_text=False).where(Post.id.in_(ids))
    return {post.id: post for post in db.session.scalars(query).unique()}


def _less_scheduled(kept: int | None, scheduled: sa.Select[t.Any]) -> int:
    return int(kept or 0) - int(db.session.scalar(scheduled) or 0)


def public_post_count() -> int:
    """How many posts anyone may read: the count the database keeps (posts
    published or scheduled, outside the trash; migration 0021) less those
    still to come, an index range of the few scheduled posts."""
    kept = db.session.scalar(
        sa.select(SiteVersion.post_count).where(SiteVersion.id == 1)
    )
    scheduled = sa.select(sa.func.count()).where(
        Post.published > NOW, Post.deleted.is_(None), Post.withheld.is_(False)
    )
    return _less_scheduled(kept, scheduled)


def public_count_by(author: User) -> int:
    """How many of ``author``'s posts anyone may read (as :func:`public_post_count`)."""
    scheduled = sa.select(sa.func.count()).where(
        Post.author_id == author.id,
        Post.published > NOW,
        Post.deleted.is_(None),
        Post.withheld.is_(False),
    )
    return _less_scheduled(author.post_count, scheduled)


def public_count_tagged(tag: Tag) -> int:
    """How many posts tagged ``tag`` anyone may read (as :func:`public_post_count`)."""
    scheduled = (
        sa.select(sa.func.count())
        .select_from(PostTag)
        .join(Post, Post.id == PostTag.post_id)
        .where(
            PostTag.tag_id == tag.id,
            PostTag.published > NOW,
            Post.deleted.is_(None),
            Post.withheld.is_(False),
        )
    )
    return _less_scheduled(tag.post_count, scheduled)


#: Posts in each sitemap file (search engines accept up to 50,000).
SITEMAP_POSTS = 10_000


def highest_post_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(Post.id))) or 0


def published_in_id_range(start: int, stop: int) -> list[sa.Row[t.Any]]:
    """``(id, slug, published, updated)`` of published posts with ``start <=
    id < stop``, read along the primary key."""
    query = (
        sa.select(Post.id, Post.slug, Post.published, Post.updated)
        .where(
            Post.id >= start,
            Post.id < stop,
            Post.is_public,
        )
        .order_by(Post.id)
    )
    return list(db.session.execute(query))
