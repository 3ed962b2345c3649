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
    def of(cls, post: Post) -> Cursor:
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


def keyset_page(
    query: sa.Select[Post],
    position: tuple[
        sa.orm.InstrumentedAttribute[t.Any], sa.orm.InstrumentedAttribute[t.Any]
    ],
    per_page: int,
    before: Cursor | None,
    after: Cursor | None,
) -> PostPage:
    """Run ``query`` for one page, newest first, ordered by ``position``."""
    published, post_id = position
    pair = sa.tuple_(published, post_id)
    query = query.where(
        published.is_not(None), published <= NOW, Post.deleted.is_(None)
    )
    query = query.limit(per_page + 1)
    if after is not None:
        query = query.where(pair > cursor_bound(after))
        query = query.order_by(published.asc(), post_id.asc())
    else:
        if before is not None:
            query = query.where(pair < cursor_bound(before))
        query = query.order_by(published.desc(), post_id.desc())
    posts = list(db.session.scalars(query).unique())
    has_more = len(posts) > per_page
    posts = posts[:per_page]

    if after is not None:
        posts.reverse()
        has_newer, has_older = has_more, True
    else:
        has_newer, has_older = before is not None, has_more
    return PostPage(
        posts=posts,
        newer=Cursor.of(posts[0]) if posts and has_newer else None,
        older=Cursor.of(posts[-1]) if posts and has_older else None,
    )


def cursor_bound(cursor: Cursor) -> sa.Tuple:
    """``cursor`` as a pair of SQL values, to compare with ``(time, id)`` columns."""
    return sa.tuple_(sa.literal(cursor.time, UTCDateTime), sa.literal(cursor.id))
