"""Following writers, and the Following feed: the newest posts of the writers
a reader follows.

A follow is inserted with ON CONFLICT DO NOTHING, so however many requests
race, a reader follows a writer once; database triggers keep both users'
counts and move the site version with the row (migration 0021).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import NOW
from flaskr.db import utcnow
from flaskr.models import Follow
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.services.base.errors import ServiceError
from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import cursor_bound
from flaskr.services.base.paging import PostList
from flaskr.services.content.access import WITHOUT_TEXT


class SelfFollowError(ServiceError):
    """Nobody follows themselves."""

    def __init__(self) -> None:
        super().__init__("You cannot follow yourself.")


def follow(follower: User, followed: User, *, since: dt.datetime | None = None) -> bool:
    """Make ``follower`` follow ``followed`` and commit; whether anything changed.

    :param since: when the follow began (an imported one's time); now otherwise.
    :raise SelfFollowError: they are the same user.
    """
    if follower.id == followed.id:
        raise SelfFollowError
    inserted = db.session.execute(
        insert_for_dialect(Follow)
        .values(
            follower_id=follower.id, followed_id=followed.id, created=since or utcnow()
        )
        .on_conflict_do_nothing()
        .returning(Follow.follower_id)
    ).first()
    db.session.commit()
    _refresh_counts(follower, followed)
    return inserted is not None


def unfollow(follower: User, followed: User) -> bool:
    """Stop ``follower`` following ``followed`` and commit; whether anything
    changed."""
    deleted = db.session.execute(
        sa.delete(Follow).where(
            Follow.follower_id == follower.id, Follow.followed_id == followed.id
        )
    )
    db.session.commit()
    _refresh_counts(follower, followed)
    return affected_rows(deleted) > 0


def _refresh_counts(*users: User) -> None:
    """Read the counts the database's triggers changed."""
    for user in users:
        db.session.refresh(user, ["follower_count", "following_count"])


def is_following(follower: User | None, followed: User) -> bool:
    if follower is None or follower.id == followed.id:
        return False
    query = sa.select(Follow.followed_id).where(
        Follow.follower_id == follower.id, Follow.followed_id == followed.id
    )
    return db.session.scalar(query) is not None


def followed_among(follower: User | None, user_ids: t.Iterable[int | None]) -> set[int]:
    """Which of ``user_ids`` ``follower`` follows, in one query."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if follower is None or not ids:
        return set()
    query = sa.select(Follow.followed_id).where(
        Follow.follower_id == follower.id, Follow.followed_id.in_(ids)
    )
    return set(db.session.scalars(query))


@dataclasses.dataclass(frozen=True)
class UserPage:
    users: list[User]
    #: Where the next page starts, or ``None`` on the last page.
    older: Cursor | None


def _people(
    user: User, *, followers: bool, per_page: int, before: Cursor | None
) -> UserPage:
    """A page of the users following ``user`` (or followed by them), most
    recently followed first."""
    mine, theirs = (
        (Follow.followed_id, Follow.follower_id)
        if followers
        else (Follow.follower_id, Follow.followed_id)
    )
    query = (
        sa.select(User, Follow.created)
        .join(Follow, theirs == User.id)
        # A suspended or removed account's follows leave the lists with it.
        .where(mine == user.id, User.state.not_in(WITHDRAWN_STATES))
        .order_by(Follow.created.desc(), theirs.desc())
        .limit(per_page + 1)
    )
    if before is not None:
        query = query.where(sa.tuple_(Follow.created, theirs) < cursor_bound(before))
    rows = db.session.execute(query).all()
    older = None
    if len(rows) > per_page:
        person, since = rows[per_page - 1]
        older = Cursor(since, person.id)
    return UserPage(users=[person for person, _ in rows[:per_page]], older=older)


def followers_of(user: User, per_page: int, before: Cursor | None = None) -> UserPage:
    return _people(user, followers=True, per_page=per_page, before=before)


def followed_by(user: User, per_page: int, before: Cursor | None = None) -> UserPage:
    return _people(user, followers=False, per_page=per_page, before=before)


def follows_author(reader: User) -> sa.ColumnElement[bool]:
    """Whether a post's author is one ``reader`` follows, asked per post: lists
    then walk the ``(published, id)`` index newest first and stop after a
    page, instead of gathering every post of every writer followed."""
    return (
        sa.select(Follow.followed_id)
        .where(Follow.follower_id == reader.id, Follow.followed_id == Post.author_id)
        .exists()
    )


def following_list(reader: User, *, with_text: bool = False) -> PostList:
    """The public posts of the writers ``reader`` follows."""
    query = sa.select(Post).where(follows_author(reader))
    if not with_text:
        query = query.options(*WITHOUT_TEXT)
    return PostList(query, (Post.published, Post.id))


def following_feed_count(reader: User) -> int:
    """How many public posts the Following feed holds: the followed writers'
    kept counts, less their posts scheduled for later (an index range)."""
    followed = sa.select(Follow.followed_id).where(Follow.follower_id == reader.id)
    kept = sa.select(sa.func.coalesce(sa.func.sum(User.post_count), 0)).where(
        User.id.in_(followed)
    )
    # Asked per scheduled post (a short range of the published index), not
    # per writer followed.
    scheduled = sa.select(sa.func.count()).where(
        Post.published > NOW,
        Post.deleted.is_(None),
        Post.withheld.is_(False),
        follows_author(reader),
    )
    return int(db.session.scalar(kept) or 0) - int(db.session.scalar(scheduled) or 0)
