"""Ways from one post to others: the next and previous posts, related posts
by shared tags, the tag index and the monthly archive.

Each query is bounded by an index, not by the size of the blog: neighbours
are one step along ``(published, id)``, related posts read at most
``RELATED_PER_TAG`` of each tag's newest posts, and the archive finds each
month with one step back along ``published``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import NOW
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.paging import Cursor
from flaskr.services.paging import keyset_page
from flaskr.services.paging import PostPage
from flaskr.services.posts import WITHOUT_TEXT

#: Related posts shown under a post.
RELATED_SHOWN = 3
#: Newest posts of each of a post's tags that are weighed for "related".
RELATED_PER_TAG = 50


@dataclasses.dataclass(frozen=True)
class PostLink:
    """Enough of a post to link to it."""

    id: int
    title: str
    published: dt.datetime
    author_name: str | None = None
    author_display_name: str | None = None


_LINK_COLUMNS = (Post.id, Post.title, Post.published)


def _link(row: t.Any) -> PostLink:
    return PostLink(row.id, row.title, row.published)


def neighbours(post: Post) -> tuple[PostLink | None, PostLink | None]:
    """The public posts published just before and just after ``post``."""
    if post.published is None:
        return None, None
    position = sa.tuple_(Post.published, Post.id)
    here = sa.tuple_(sa.literal(post.published, Post.published.type), post.id)
    older = db.session.execute(
        sa.select(*_LINK_COLUMNS)
        .where(Post.is_public, position < here)
        .order_by(Post.published.desc(), Post.id.desc())
        .limit(1)
    ).first()
    newer = db.session.execute(
        sa.select(*_LINK_COLUMNS)
        .where(Post.is_public, position > here)
        .order_by(Post.published, Post.id)
        .limit(1)
    ).first()
    return (_link(older) if older else None), (_link(newer) if newer else None)


def related_posts(post: Post, shown: int = RELATED_SHOWN) -> list[PostLink]:
    """Public posts sharing the most tags with ``post``, newest first among
    equals; none for a post without tags."""
    tag_ids = [link.tag_id for link in post.tag_links]
    if not tag_ids:
        return []
    newest_per_tag = [
        sa.select(PostTag.post_id, PostTag.published)
        .where(
            PostTag.tag_id == tag_id,
            PostTag.published.is_not(None),
            PostTag.published <= NOW,
            PostTag.post_id != post.id,
        )
        .order_by(PostTag.published.desc(), PostTag.post_id.desc())
        .limit(RELATED_PER_TAG)
        .subquery()
        .select()
        for tag_id in tag_ids
    ]
    shared: collections.Counter[int] = collections.Counter()
    newest: dict[int, tuple[dt.datetime, int]] = {}
    for row in db.session.execute(sa.union_all(*newest_per_tag)):
        shared[row.post_id] += 1
        newest[row.post_id] = (row.published, row.post_id)
    # Most shared tags first, then newest. More than shown are fetched: a
    # candidate may have gone to the trash since its tag row was read.
    ranked = sorted(shared, key=lambda id_: (-shared[id_], _newest_first(newest[id_])))
    wanted = ranked[: shown * 3]
    if not wanted:
        return []
    rows = list(
        db.session.execute(
            sa.select(*_LINK_COLUMNS, User.username, User.display_name)
            .outerjoin(User, User.id == Post.author_id)
            .where(Post.id.in_(wanted), Post.is_public)
        )
    )
    rank = {post_id: place for place, post_id in enumerate(wanted)}
    rows.sort(key=lambda row: rank[row.id])
    return [
        PostLink(row.id, row.title, row.published, row.username, row.display_name)
        for row in rows[:shown]
    ]


def _newest_first(position: tuple[dt.datetime, int]) -> tuple[float, int]:
    return -position[0].timestamp(), -position[1]


@dataclasses.dataclass(frozen=True)
class TagCount:
    name: str
    posts: int


def tag_counts() -> list[TagCount]:
    """Every tag on a public post, with how many public posts carry it, the
    most used first. Each count reads the tag's part of the
    ``(tag_id, published)`` index, not the posts."""
    rows = db.session.execute(
        sa.select(Tag.name, sa.func.count().label("posts"))
        .join(PostTag, PostTag.tag_id == Tag.id)
        .where(PostTag.published.is_not(None), PostTag.published <= NOW)
        .group_by(Tag.id, Tag.name)
        .order_by(sa.func.count().desc(), Tag.name)
    ).all()
    return [TagCount(row.name, row.posts) for row in rows]


def _month_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def archive_months() -> list[dt.date]:
    """The months (their first days) in which public posts came out, newest
    first: one step back along the ``published`` index per month."""
    months: list[dt.date] = []
    newest_before = (
        sa.select(sa.func.max(Post.published))
        .where(Post.is_public, Post.published < sa.bindparam("bound"))
        .scalar_subquery()
    )
    bound: dt.datetime | None = None
    while True:
        if bound is None:
            found = db.session.scalar(
                sa.select(sa.func.max(Post.published)).where(Post.is_public)
            )
        else:
            found = db.session.scalar(sa.select(newest_before), {"bound": bound})
        if found is None:
            return months
        bound = _month_start(found)
        months.append(bound.date())


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of a month (UTC), and of the month after."""
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, after


def posts_of_month(
    year: int,
    month: int,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> PostPage:
    """A page of the public posts that came out in a month, newest first."""
    start, end = month_bounds(year, month)
    query = (
        sa.select(Post)
        .options(*WITHOUT_TEXT)
        .where(Post.published >= start, Post.published < end)
    )
    return keyset_page(query, (Post.published, Post.id), per_page, before, after)
