"""Posts: reading pages of them and writing them.

The index pages by keyset ("posts older than this one"), not by offset, so a
page costs the same however many posts come before it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa

from .db import db
from .db import UTCDateTime
from .db import utcnow
from .models import BODY_MAX_LENGTH
from .models import Post
from .models import TITLE_MAX_LENGTH
from .models import User

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_CURSOR_PATTERN = re.compile(r"(\d{1,18})-(\d{1,19})")


class InvalidCursorError(ValueError):
    """A page link that Flaskr did not make."""


@dataclasses.dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order of posts."""

    created: dt.datetime
    id: int

    @classmethod
    def of(cls, post: Post) -> Cursor:
        return cls(post.created, post.id)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read a cursor made by :meth:`__str__`.

        :raise InvalidCursorError: ``text`` is not one.
        """
        match = _CURSOR_PATTERN.fullmatch(text)
        if match is None:
            raise InvalidCursorError(text)
        microseconds, post_id = (int(part) for part in match.groups())
        try:
            created = _EPOCH + dt.timedelta(microseconds=microseconds)
        except OverflowError:
            raise InvalidCursorError(text) from None
        return cls(created, post_id)

    def __str__(self) -> str:
        microseconds = (self.created - _EPOCH) // dt.timedelta(microseconds=1)
        return f"{microseconds}-{self.id}"


@dataclasses.dataclass(frozen=True)
class PostPage:
    posts: list[Post]
    #: Where the page of newer posts starts, or ``None`` on the first page.
    newer: Cursor | None
    #: Where the page of older posts starts, or ``None`` on the last page.
    older: Cursor | None


def page_of_posts(
    per_page: int, *, before: Cursor | None = None, after: Cursor | None = None
) -> PostPage:
    """A page of posts, newest first, with their authors, in one query.

    :param before: start just after this position (the "older" link).
    :param after: end just before this position (the "newer" link).
    """
    position = sa.tuple_(Post.created, Post.id)
    query = sa.select(Post).limit(per_page + 1)
    if after is not None:
        query = query.where(position > _bound(after))
        query = query.order_by(Post.created.asc(), Post.id.asc())
    else:
        if before is not None:
            query = query.where(position < _bound(before))
        query = query.order_by(Post.created.desc(), Post.id.desc())
    posts = list(db.session.scalars(query))
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


def _bound(cursor: Cursor) -> sa.Tuple:
    return sa.tuple_(sa.literal(cursor.created, UTCDateTime), sa.literal(cursor.id))


def title_problem(title: str) -> str | None:
    """Why ``title`` may not be a post's title, or ``None`` if it may."""
    if not title:
        return "Title is required."
    if len(title) > TITLE_MAX_LENGTH:
        return f"Title must be at most {TITLE_MAX_LENGTH} characters long."
    if any(ord(char) < 32 or ord(char) == 127 for char in title):
        return "Title must not contain control characters."
    return None


def body_problem(body: str) -> str | None:
    """Why ``body`` may not be a post's text, or ``None`` if it may."""
    if len(normalize_text(body)) > BODY_MAX_LENGTH:
        return f"Text must be at most {BODY_MAX_LENGTH:,} characters long."
    if "\x00" in body:
        return "Text must not contain NUL characters."
    return None


def get_post(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


def normalize_text(text: str) -> str:
    """Line breaks as ``\\n``, however the browser sent them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def create_post(author: User, title: str, body: str) -> Post:
    """Create and commit a post; the caller has checked the title and body."""
    post = Post(author=author, title=title, body=normalize_text(body))
    db.session.add(post)
    db.session.commit()
    return post


def update_post(post: Post, title: str, body: str) -> None:
    post.title = title
    post.body = normalize_text(body)
    post.updated = utcnow()
    db.session.commit()


def delete_post(post: Post) -> None:
    db.session.delete(post)
    db.session.commit()
