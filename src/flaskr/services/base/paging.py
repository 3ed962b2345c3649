"""Keyset pages: lists read newest first, a page after a known position.

A page link carries the position of the last item shown ("older than this"),
not an offset, so every page costs the same however many items come before it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import MAX_ID
from flaskr.db import NOW
from flaskr.db import UTCDateTime
from flaskr.models import Post
from flaskr.models import SiteVersion

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_CURSOR_PATTERN = re.compile(r"([0-9]{1,18})-([0-9]{1,19})")


class InvalidCursorError(ValueError):
    """A page link that Flaskr did not make."""


@dataclasses.dataclass(frozen=True)
class Cursor:
    """A position in a newest-first list: a time (when a post was published, or
    liked) and a post id to break ties."""

    time: dt.datetime
    id: int

    @classmethod
    def of(cls, post: Post | PostStub) -> Cursor:
        assert post.published is not None
        return cls(post.published, post.id)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read a cursor made by :meth:`__str__`.

        :raise InvalidCursorError: ``text`` is not one.
        """
        match = _CURSOR_PATTERN.fullmatch(text)
        if match is None:
            raise InvalidCursorError(text)
        microseconds, post_id = (int(part) for part in match.groups())
        if not 1 <= post_id <= MAX_ID:
            raise InvalidCursorError(text)
        try:
            time = _EPOCH + dt.timedelta(microseconds=microseconds)
        except OverflowError:
            raise InvalidCursorError(text) from None
        return cls(time, post_id)

    def __str__(self) -> str:
        microseconds = (self.time - _EPOCH) // dt.timedelta(microseconds=1)
        return f"{microseconds}-{self.id}"


@dataclasses.dataclass(frozen=True)
class PostPage:
    posts: list[Post]
    #: Where the page of newer posts starts, or ``None`` on the first page.
    newer: Cursor | None
    #: Where the page of older posts starts, or ``None`` on the last page.
    older: Cursor | None


@dataclasses.dataclass(frozen=True, slots=True)
class PostStub:
    """What a list needs to find a post's card already rendered: the post's
    id and place, its reactions' stamp, and the site version read with them
    (``models.SiteVersion``), in one statement."""

    id: int
    published: dt.datetime
    reactions_version: int
    site_version: int


@dataclasses.dataclass(frozen=True)
class StubPage:
    """A :class:`PostPage` of :class:`PostStub`\\ s."""

    posts: list[PostStub]
    newer: Cursor | None
    older: Cursor | None


Position = tuple[
    sa.orm.InstrumentedAttribute[t.Any], sa.orm.InstrumentedAttribute[t.Any]
]

_SITE_VERSION = (
    sa.select(SiteVersion.value).where(SiteVersion.id == 1).scalar_subquery()
)


@dataclasses.dataclass(frozen=True)
class PostList:
    """Which public posts a list shows (``query``, a select of ``Post``), and
    the pair of columns it is ordered by, newest first."""

    query: sa.Select[Post]
    position: Position
    #: A time all the posts came out before (a month's end), if any.
    before: dt.datetime | None = None

    def page(
        self,
        per_page: int,
        *,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> PostPage:
        """One page of the posts, loaded whole."""
        query = self._paged(per_page, before, after)
        posts = list(db.session.scalars(query).unique())
        return PostPage(*_bounds(posts, per_page, before, after))

    def stubs(
        self,
        per_page: int,
        *,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> StubPage:
        """One page as :class:`PostStub`\\ s: no post is loaded."""
        query = self._paged(per_page, before, after).with_only_columns(
            Post.id,
            Post.published,
            Post.reactions_version,
            _SITE_VERSION,
            maintain_column_froms=True,
        )
        stubs = [PostStub(*row) for row in db.session.execute(query)]
        return StubPage(*_bounds(stubs, per_page, before, after))

    def _paged(
        self, per_page: int, before: Cursor | None, after: Cursor | None
    ) -> sa.Select[Post]:
        published, post_id = self.position
        query = self.query.where(
            out_and_older(self.position, before, until=self.before),
            Post.deleted.is_(None),
            Post.withheld.is_(False),
        ).limit(per_page + 1)
        if after is not None:
            query = query.where(sa.tuple_(published, post_id) > cursor_bound(after))
            return query.order_by(published.asc(), post_id.asc())
        return query.order_by(published.desc(), post_id.desc())


_Item = t.TypeVar("_Item", Post, PostStub)


def _bounds(
    items: list[_Item], per_page: int, before: Cursor | None, after: Cursor | None
) -> tuple[list[_Item], Cursor | None, Cursor | None]:
    """The page's items in order (of ``per_page + 1`` read), and where the
    pages before and after it start."""
    has_more = len(items) > per_page
    items = items[:per_page]
    if after is not None:
        items.reverse()
        has_newer, has_older = has_more, True
    else:
        has_newer, has_older = before is not None, has_more
    return (
        items,
        Cursor.of(items[0]) if items and has_newer else None,
        Cursor.of(items[-1]) if items and has_older else None,
    )


def earlier_of_now_and(time: sa.ColumnElement[t.Any]) -> sa.ColumnElement[t.Any]:
    """The earlier of now and ``time``, as one SQL value: bounding a post's
    time by both separately, SQLite may start its index walk at now and step
    through every newer row to reach the bound that mattered."""
    return sa.case((time > NOW, NOW), else_=time)


def out_and_older(
    position: Position,
    before: Cursor | None = None,
    *,
    until: dt.datetime | None = None,
) -> sa.ColumnElement[bool]:
    """Published, at a time already come, older than ``before`` (if given)
    and before ``until`` (if given), for rows ordered by ``position`` (a time
    and an id).

    The time is bounded once, by the earliest of now and the others
    (:func:`earlier_of_now_and`).
    """
    published, post_id = position
    limits = []
    if before is not None:
        limits.append(before.time)
    if until is not None:
        limits.append(until - dt.timedelta(microseconds=1))
    if not limits:
        return sa.and_(published.is_not(None), published <= NOW)
    time = sa.literal(min(limits), UTCDateTime)
    conditions = [
        published.is_not(None),
        published <= earlier_of_now_and(time),
    ]
    if before is not None:
        conditions.append(sa.tuple_(published, post_id) < cursor_bound(before))
    return sa.and_(*conditions)


def cursor_bound(cursor: Cursor) -> sa.Tuple:
    """``cursor`` as a pair of SQL values, to compare with ``(time, id)`` columns."""
    return sa.tuple_(sa.literal(cursor.time, UTCDateTime), sa.literal(cursor.id))
