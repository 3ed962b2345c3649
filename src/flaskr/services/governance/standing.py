"""The counts readers see, kept in line with suspended and removed accounts.

Triggers and the reactions service keep counts (posts per writer, tag, month
and site; likes and comments per post; followers and followed per writer) by
adding and taking one at a time, and know nothing of ``withheld`` writing or
of an account's state. A suspension, its lifting and a removal therefore
count again, exactly and in their own transaction, every count the account's
posts, comments, likes and follows are part of: readers then never count
what they cannot see, and the count statements of lists stay as cheap as
before. A count a trigger changes while the account is suspended (a
moderator trashing one of its posts) is made exact again when it is lifted.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from flaskr.db import db
from flaskr.models import ArchiveMonth
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import SiteVersion
from flaskr.models import Tag
from flaskr.models import User
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.services.reading.navigation import month_bounds
from flaskr.services.social.comment_policy import counted_comments
from flaskr.services.social.reactions import REACTED

#: Ids per ``IN (...)`` list, well under every database's limit.
_CHUNK = 500

#: A post the kept post counts count: published or scheduled, outside the
#: trash, and not withheld.
_COUNTED = sa.and_(
    Post.published.is_not(None), Post.deleted.is_(None), Post.withheld.is_(False)
)


@dataclasses.dataclass(frozen=True)
class Reach:
    """The rows whose counts an account's writing and reactions are part of,
    gathered before a change (a removal deletes the rows that lead to them)."""

    user_id: int
    liked_posts: list[int]
    commented_posts: list[int]
    followed_users: list[int]
    followers: list[int]
    tags: list[int]
    months: list[int]


def reach_of(user_id: int) -> Reach:
    """What :func:`recount` must count again for ``user_id``."""

    def ids(query: sa.Select[int]) -> list[int]:
        return sorted(set(db.session.scalars(query)))

    published = db.session.scalars(
        sa.select(Post.published).where(
            Post.author_id == user_id, Post.published.is_not(None)
        )
    )
    return Reach(
        user_id=user_id,
        liked_posts=ids(sa.select(Like.post_id).where(Like.user_id == user_id)),
        commented_posts=ids(
            sa.select(Comment.post_id).where(Comment.author_id == user_id)
        ),
        followed_users=ids(
            sa.select(Follow.followed_id).where(Follow.follower_id == user_id)
        ),
        followers=ids(
            sa.select(Follow.follower_id).where(Follow.followed_id == user_id)
        ),
        tags=ids(
            sa.select(PostTag.tag_id)
            .join(Post, Post.id == PostTag.post_id)
            .where(Post.author_id == user_id)
        ),
        months=sorted(
            {moment.year * 100 + moment.month for moment in published if moment}
        ),
    )


def _chunks(ids: list[int]) -> t.Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _update(table: t.Any, ids: list[int], values: dict[t.Any, t.Any]) -> None:
    for chunk in _chunks(ids):
        db.session.execute(
            sa.update(table)
            .where(table.id.in_(chunk))
            .values(values)
            .execution_options(synchronize_session=False)
        )


def _shown(user: t.Any) -> sa.ColumnElement[bool]:
    state: sa.ColumnElement[str] = user.state
    return state.not_in(WITHDRAWN_STATES)


def _recount_reactions(reach: Reach) -> None:
    liker = aliased(User)
    likes = (
        sa.select(sa.func.count())
        .select_from(Like)
        .join(liker, liker.id == Like.user_id)
        .where(Like.post_id == Post.id, _shown(liker))
        .scalar_subquery()
    )
    _update(
        Post,
        reach.liked_posts,
        {Post.like_count: likes, Post.reactions_version: REACTED},
    )
    comments = (
        sa.select(sa.func.count())
        .select_from(Comment)
        .where(
            Comment.post_id == Post.id,
            counted_comments(),
        )
        .scalar_subquery()
    )
    _update(
        Post,
        reach.commented_posts,
        {Post.comment_count: comments, Post.reactions_version: REACTED},
    )


def _recount_follows(reach: Reach) -> None:
    other = aliased(User)
    followers = (
        sa.select(sa.func.count())
        .select_from(Follow)
        .join(other, other.id == Follow.follower_id)
        .where(Follow.followed_id == User.id, _shown(other))
        .scalar_subquery()
    )
    _update(User, reach.followed_users, {User.follower_count: followers})
    following = (
        sa.select(sa.func.count())
        .select_from(Follow)
        .join(other, other.id == Follow.followed_id)
        .where(Follow.follower_id == User.id, _shown(other))
        .scalar_subquery()
    )
    _update(User, reach.followers, {User.following_count: following})


def _recount_posts(reach: Reach) -> None:
    own = (
        sa.select(sa.func.count())
        .select_from(Post)
        .where(Post.author_id == User.id, _COUNTED)
        .scalar_subquery()
    )
    _update(User, [reach.user_id], {User.post_count: own})
    tagged = (
        sa.select(sa.func.count())
        .select_from(PostTag)
        .join(Post, Post.id == PostTag.post_id)
        .where(PostTag.tag_id == Tag.id, _COUNTED)
        .scalar_subquery()
    )
    _update(Tag, reach.tags, {Tag.post_count: tagged})
    for key in reach.months:
        start, end = month_bounds(*divmod(key, 100))
        in_month = (
            sa.select(sa.func.count())
            .select_from(Post)
            .where(Post.published >= start, Post.published < end, _COUNTED)
            .scalar_subquery()
        )
        db.session.execute(
            sa.update(ArchiveMonth)
            .where(ArchiveMonth.month == key)
            .values(post_count=in_month)
            .execution_options(synchronize_session=False)
        )
    every = sa.select(sa.func.count()).select_from(Post).where(_COUNTED)
    db.session.execute(
        sa.update(SiteVersion)
        .where(SiteVersion.id == 1)
        # Moving the version drops every kept page: author pages, follower
        # lists and counts change with no row of ``post`` changing.
        .values(post_count=every.scalar_subquery(), value=SiteVersion.value + 1)
        .execution_options(synchronize_session=False)
    )


def recount(reach: Reach) -> None:
    """Count again, as readers may see them, every count in ``reach``, and
    move the site version so that kept pages are drawn again. The caller
    commits."""
    _recount_reactions(reach)
    _recount_follows(reach)
    _recount_posts(reach)
