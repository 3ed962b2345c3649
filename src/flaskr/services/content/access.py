"""Finding one post, and who may read it: the author and editors always,
everyone else once it is published and out of the trash."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import defer

from flaskr.db import db
from flaskr.db import NOW
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.base import roles
from flaskr.services.content.rules import normalize_tag
from flaskr.services.content.rules import slug_problem

#: Lists show excerpts: the source and the HTML (up to 100,000 characters each)
#: stay in the database. Feeds, which need the HTML, ask ``with_text``.
WITHOUT_TEXT = (defer(Post.body), defer(Post.body_html), defer(Post.body_text))


def drafts_of(author: User) -> list[Post]:
    """The author's drafts and scheduled posts, most recently written first."""
    query = (
        select_posts(with_text=False)
        .where(
            Post.author_id == author.id,
            sa.or_(Post.published.is_(None), Post.published > NOW),
            Post.deleted.is_(None),
        )
        .order_by(sa.func.coalesce(Post.updated, Post.created).desc(), Post.id.desc())
    )
    return list(db.session.scalars(query).unique())


def trash_of(author: User) -> list[Post]:
    """The author's posts in the trash, most recently deleted first."""
    query = (
        select_posts(with_text=False)
        .where(Post.author_id == author.id, Post.deleted.is_not(None))
        .order_by(Post.deleted.desc(), Post.id.desc())
    )
    return list(db.session.scalars(query).unique())


def select_posts(with_text: bool) -> sa.Select[Post]:
    query = sa.select(Post)
    return query if with_text else query.options(*WITHOUT_TEXT)


def get_post(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


def _may_read(
    published: dt.datetime | None,
    deleted: dt.datetime | None,
    withheld: bool,
    author_id: int | None,
    reader: User | None,
) -> bool:
    """Nobody reads a post in the trash; only its author and the site's
    editors (who review and publish drafts) read a draft, a post whose time
    has not come or one withheld while its author is suspended."""
    if deleted is not None:
        return False
    writer_or_editor = (
        reader is not None and reader.id == author_id
    ) or roles.may_moderate(reader)
    if withheld:
        return writer_or_editor
    return _is_out(published) or writer_or_editor


def _is_out(published: dt.datetime | None) -> bool:
    return published is not None and published <= utcnow()


def get_readable_post(post_id: int, reader: User | None) -> Post | None:
    """The post, unless it is in the trash, or a draft ``reader`` did not
    write (and may not review: an editor's)."""
    post = get_post(post_id)
    if post is None or not _may_read(
        post.published, post.deleted, post.withheld, post.author_id, reader
    ):
        return None
    return post


class Access(enum.Enum):
    """Who may read a post."""

    NOBODY = "nobody"  # (that is: not the one asking, or there is no such post)
    AUTHOR_ONLY = "author only"
    EVERYONE = "everyone"


def access_to_post(post_id: int, reader: User | None) -> Access:
    """Whether ``reader`` may read the post, and whether everyone may, found
    without loading the post.

    :return: ``NOBODY`` when ``reader`` may not (or there is no such post).
    """
    row = db.session.execute(
        sa.select(Post.published, Post.deleted, Post.withheld, Post.author_id).where(
            Post.id == post_id
        )
    ).first()
    if row is None or not _may_read(*row, reader):
        return Access.NOBODY
    public = _is_out(row.published) and not row.withheld
    return Access.EVERYONE if public else Access.AUTHOR_ONLY


def find_tag(name: str) -> Tag | None:
    """The tag called ``name``, if a published post carries it.

    Tags only on drafts stay unknown, so a tag page cannot reveal a draft.
    """
    if normalize_tag(name) != name:
        return None  # no tag is stored so (and PostgreSQL refuses a NUL)
    query = (
        sa.select(Tag)
        .join(PostTag, PostTag.tag_id == Tag.id)
        .join(Post, Post.id == PostTag.post_id)
        .where(
            Tag.name == name,
            PostTag.published.is_not(None),
            PostTag.published <= NOW,
            Post.deleted.is_(None),
            Post.withheld.is_(False),
        )
        .limit(1)
    )
    return db.session.scalars(query).first()


def find_post_id(slug: str) -> int | None:
    """The id of the post whose address is ``slug``."""
    if slug_problem(slug) is not None or not slug:
        return None  # no post has it (and PostgreSQL refuses a NUL)
    return db.session.scalar(sa.select(Post.id).where(Post.slug == slug))
