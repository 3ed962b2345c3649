"""Ways from one post to others: the next and previous posts, related posts
by shared tags, the tag index and the monthly archive.

Each query is bounded by an index, not by the size of the blog: neighbours
are one step along ``(published, id)``, related posts read at most
``RELATED_PER_TAG`` of each tag's newest posts, and the archive reads the
months' counts the database keeps and each month's newest titles.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import NOW
from flaskr.db import utcnow
from flaskr.models import ArchiveMonth
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.base.paging import earlier_of_now_and
from flaskr.services.base.paging import PostList
from flaskr.services.content.access import WITHOUT_TEXT

#: Related posts shown under a post.
RELATED_SHOWN = 3
#: Newest posts of each of a post's tags that are weighed for "related".
RELATED_PER_TAG = 25


@dataclasses.dataclass(frozen=True)
class PostLink:
    """Enough of a post to link to it."""

    id: int
    title: str
    published: dt.datetime
    author_name: str | None = None
    author_display_name: str | None = None
    slug: str | None = None


_LINK_COLUMNS = (Post.id, Post.title, Post.published, Post.slug)


def _link(row: t.Any) -> PostLink:
    return PostLink(row.id, row.title, row.published, slug=row.slug)


# The statements are built once, with parameters: building and compiling
# them cost more than running them.
_HERE = sa.tuple_(
    sa.bindparam("here_published", type_=Post.published.type),
    sa.bindparam("here_id", type_=sa.BigInteger()),
)
_POSITION = sa.tuple_(Post.published, Post.id)
_HERE_TIME = sa.bindparam("here_published", type_=Post.published.type)
_OLDER = (
    sa.select(*_LINK_COLUMNS, sa.literal("older").label("side"))
    .where(
        Post.published.is_not(None),
        # One bound on the time (see ``earlier_of_now_and``).
        Post.published <= earlier_of_now_and(_HERE_TIME),
        Post.deleted.is_(None),
        Post.withheld.is_(False),
        _POSITION < _HERE,
    )
    .order_by(Post.published.desc(), Post.id.desc())
    .limit(1)
    .subquery()
)
_NEWER = (
    sa.select(*_LINK_COLUMNS, sa.literal("newer").label("side"))
    .where(Post.is_public, _POSITION > _HERE)
    .order_by(Post.published, Post.id)
    .limit(1)
    .subquery()
)
_NEIGHBOURS = sa.union_all(_OLDER.select(), _NEWER.select())


def neighbours(post: Post) -> tuple[PostLink | None, PostLink | None]:
    """The public posts published just before and just after ``post``."""
    if post.published is None:
        return None, None
    found = {
        row.side: _link(row)
        for row in db.session.execute(
            _NEIGHBOURS, {"here_published": post.published, "here_id": post.id}
        )
    }
    return found.get("older"), found.get("newer")


@functools.cache
def _newest_of_tags(count: int) -> sa.CompoundSelect[t.Any]:
    """The ``RELATED_PER_TAG`` newest public posts of each of ``count`` tags
    (``tag_0`` …), but the post ``post_id``, as ``(post_id, published)``."""
    # The time is only compared with others of the same column, so it is
    # left as the database sends it: converting each row costs more.
    published = sa.type_coerce(PostTag.published, sa.types.NullType()).label(
        "published"
    )
    return sa.union_all(
        *(
            sa.select(PostTag.post_id, published)
            .where(
                PostTag.tag_id == sa.bindparam(f"tag_{number}"),
                PostTag.published.is_not(None),
                PostTag.published <= NOW,
                PostTag.post_id != sa.bindparam("post_id"),
            )
            .order_by(PostTag.published.desc(), PostTag.post_id.desc())
            .limit(RELATED_PER_TAG)
            .subquery()
            .select()
            for number in range(count)
        )
    )


_PUBLIC_LINKS = (
    sa.select(*_LINK_COLUMNS, User.username, User.display_name)
    .outerjoin(User, User.id == Post.author_id)
    .where(Post.id.in_(sa.bindparam("ids", expanding=True)), Post.is_public)
)


def related_posts(post: Post, shown: int = RELATED_SHOWN) -> list[PostLink]:
    """Public posts sharing the most tags with ``post``, newest first among
    equals; none for a post without tags."""
    tag_ids = [link.tag_id for link in post.tag_links]
    if not tag_ids:
        return []
    values = {f"tag_{number}": tag_id for number, tag_id in enumerate(tag_ids)}
    shared: collections.Counter[int] = collections.Counter()
    position: dict[int, tuple[t.Any, int]] = {}
    for row in db.session.execute(
        _newest_of_tags(len(tag_ids)), {**values, "post_id": post.id}
    ):
        shared[row.post_id] += 1
        position[row.post_id] = (row.published, row.post_id)
    # Most shared tags first, then newest. More than shown are fetched: a
    # candidate may have gone to the trash since its tag row was read.
    ranked = sorted(shared, key=lambda id_: (shared[id_], position[id_]), reverse=True)
    wanted = ranked[: shown * 3]
    if not wanted:
        return []
    rows = list(db.session.execute(_PUBLIC_LINKS, {"ids": wanted}))
    rank = {post_id: place for place, post_id in enumerate(wanted)}
    rows.sort(key=lambda row: rank[row.id])
    return [
        PostLink(
            row.id,
            row.title,
            row.published,
            row.username,
            row.display_name,
            slug=row.slug,
        )
        for row in rows[:shown]
    ]


@dataclasses.dataclass(frozen=True)
class TagCount:
    name: str
    posts: int


def tag_counts() -> list[TagCount]:
    """Every tag on a public post, with how many public posts carry it, the
    most used first: the counts the database keeps (migration 0021) less each
    tag's posts scheduled for later, so the page costs the same however many
    posts there are, and posts in the trash are not counted."""
    # From the scheduled posts (a short range of the posts' time index) to
    # their tags: as a join, SQLite read every tag's index entries instead,
    # in the order of the grouping.
    scheduled_posts = sa.select(Post.id).where(
        Post.published > NOW, Post.deleted.is_(None), Post.withheld.is_(False)
    )
    scheduled: dict[int, int] = {
        tag_id: count
        for tag_id, count in db.session.execute(
            sa.select(PostTag.tag_id, sa.func.count())
            .where(PostTag.post_id.in_(scheduled_posts))
            .group_by(PostTag.tag_id)
        )
    }
    rows = db.session.execute(
        sa.select(Tag.id, Tag.name, Tag.post_count).where(Tag.post_count > 0)
    )
    counts = [
        TagCount(row.name, row.post_count - scheduled.get(row.id, 0)) for row in rows
    ]
    return sorted(
        (count for count in counts if count.posts > 0),
        key=lambda count: (-count.posts, count.name),
    )


def public_tag_names() -> list[str]:
    """Every tag on a public post, the most used first: from the counts the
    database keeps, each tag checked for one public post (its first entry in
    the ``(tag_id, published)`` index), so a tag only scheduled posts carry
    stays unknown until they come out."""
    public = (
        sa.select(PostTag.post_id)
        .join(Post, Post.id == PostTag.post_id)
        .where(
            PostTag.tag_id == Tag.id,
            PostTag.published.is_not(None),
            PostTag.published <= NOW,
            Post.deleted.is_(None),
            Post.withheld.is_(False),
        )
        .exists()
    )
    query = (
        sa.select(Tag.name)
        .where(Tag.post_count > 0, public)
        .order_by(Tag.post_count.desc(), Tag.name)
    )
    return list(db.session.scalars(query))


#: Titles the archive shows under each month, the newest first; the month's
#: page lists the rest.
ARCHIVE_TITLES = 10


@dataclasses.dataclass(frozen=True)
class ArchiveEntry:
    """A month in the archive: its first day, how many public posts came out
    in it, and the newest of them."""

    month: dt.date
    count: int
    posts: list[PostLink]


_MONTH_POSTS = (
    sa.select(*_LINK_COLUMNS)
    .where(
        Post.published >= sa.bindparam("start", type_=Post.published.type),
        # One bound on the time: the month's end or now, whichever is earlier.
        Post.published < sa.bindparam("end", type_=Post.published.type),
        Post.deleted.is_(None),
        Post.withheld.is_(False),
    )
    .order_by(Post.published.desc(), Post.id.desc())
    .limit(ARCHIVE_TITLES)
)


def _month_key(moment: dt.datetime | dt.date) -> int:
    return moment.year * 100 + moment.month


def archive() -> list[ArchiveEntry]:
    """The months in which public posts came out, newest first, each with its
    count and newest titles: the counts the database keeps (migration 0024)
    less the posts scheduled for later, and one index step per month for the
    titles, so the page costs the same however many posts a month has."""
    now = utcnow()
    scheduled = collections.Counter(
        _month_key(published)
        for published in db.session.scalars(
            sa.select(Post.published).where(
                Post.published > now, Post.deleted.is_(None), Post.withheld.is_(False)
            )
        )
        if published is not None
    )
    counts = db.session.execute(
        sa.select(ArchiveMonth.month, ArchiveMonth.post_count)
        .where(ArchiveMonth.post_count > 0)
        .order_by(ArchiveMonth.month.desc())
    ).all()
    entries: list[ArchiveEntry] = []
    for key, count in counts:
        public = count - scheduled.get(key, 0)
        if public <= 0:
            continue
        year, month = divmod(key, 100)
        start, end = month_bounds(year, month)
        rows = db.session.execute(_MONTH_POSTS, {"start": start, "end": min(end, now)})
        entries.append(ArchiveEntry(start.date(), public, [_link(row) for row in rows]))
    return entries


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of a month (UTC), and of the month after."""
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    if (year, month) == (dt.MAXYEAR, 12):
        return start, dt.datetime.max.replace(tzinfo=dt.UTC)
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, after


def month_list(year: int, month: int) -> PostList:
    """The public posts that came out in a month."""
    start, end = month_bounds(year, month)
    query = sa.select(Post).options(*WITHOUT_TEXT).where(Post.published >= start)
    return PostList(query, (Post.published, Post.id), before=end)
