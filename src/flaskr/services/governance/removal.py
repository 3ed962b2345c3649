"""Removing an account with everything it posted, and purging it for good.

A removal is the end of an account, decided by an administrator with a
reason: its sessions and tokens end, every post goes into the trash (off
every public page and count at once), its comments are withheld, its likes
and follows are deleted. The confirmation names how many posts and comments
go; if that changed meanwhile, the removal is refused with the new counts,
so nobody removes more than they saw. After ``TRASH_DAYS``
:func:`purge_removed_accounts` deletes the account, its posts and its
comments for good. Until then an administrator may :func:`restore` it: the
posts the removal trashed and the comments come back; the likes and follows
it deleted do not.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import REMOVED
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.profiles import forget_avatar
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.accounts.users import fediverse_inboxes_of
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.events import ACCOUNT_DELETED
from flaskr.services.base.events import ACCOUNT_RETURNED
from flaskr.services.base.events import ACCOUNT_WITHHELD
from flaskr.services.base.events import record_event
from flaskr.services.base.events import record_post_deletions
from flaskr.services.base.mail import record_mail
from flaskr.services.base.security_log import log_event
from flaskr.services.content.lifecycle import trash_lifetime
from flaskr.services.governance.members import reason_problem
from flaskr.services.governance.standing import reach_of
from flaskr.services.governance.standing import recount
from flaskr.services.social.subscriber_admin import stop_mail_of_account


@dataclasses.dataclass(frozen=True)
class RemovalCounts:
    """What a removal takes: the posts outside the trash (drafts too) and
    every comment."""

    posts: int
    comments: int


def removal_counts(user: User) -> RemovalCounts:
    posts = sa.select(sa.func.count()).where(
        Post.author_id == user.id, Post.deleted.is_(None)
    )
    comments = sa.select(sa.func.count()).where(Comment.author_id == user.id)
    return RemovalCounts(
        posts=int(db.session.scalar(posts) or 0),
        comments=int(db.session.scalar(comments) or 0),
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def remove(
    actor: User,
    user: User,
    reason: str,
    *,
    expected_posts: int,
    expected_comments: int,
) -> RemovalCounts:
    """Remove ``user`` with everything they posted; commit. Return what went.

    :param expected_posts: the posts the confirmation named, and
    :param expected_comments: its comments: if either changed meanwhile,
        nothing is removed.
    :raise NotAllowed: ``actor`` may not govern, or ``user`` is ``actor`` or
        an administrator.
    :raise Invalid: with ``reason`` problems, ``user`` is neither active nor
        suspended, or the counts changed (``counts``, naming the new ones).
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator removes accounts.")
    if actor.id == user.id:
        raise NotAllowed("You cannot remove your own account here.")
    if user.is_admin:
        raise NotAllowed("An administrator cannot be removed; change the role first.")
    Invalid.collect({"reason": reason_problem(reason)})
    if user.state not in (ACTIVE, SUSPENDED):
        raise Invalid.of("user", "Only an active or suspended account can be removed.")
    counts = removal_counts(user)
    if (counts.posts, counts.comments) != (expected_posts, expected_comments):
        raise Invalid.of(
            "counts",
            f"{user.username} now has {_plural(counts.posts, 'post')} and"
            f" {_plural(counts.comments, 'comment')}: check again before removing.",
        )
    now = utcnow()
    reach = reach_of(user.id)
    user.state = REMOVED
    user.state_reason = reason.strip()
    user.state_changed = now
    delete_sessions_of_user(user.id)
    db.session.execute(
        sa.update(Post)
        .where(Post.author_id == user.id, Post.deleted.is_(None))
        .values(deleted=now, withheld=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Comment)
        .where(Comment.author_id == user.id)
        .values(withheld=True)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(Like).where(Like.user_id == user.id))
    db.session.execute(
        sa.delete(Follow).where(
            sa.or_(Follow.follower_id == user.id, Follow.followed_id == user.id)
        )
    )
    db.session.flush()
    recount(reach)
    stop_mail_of_account(user)
    record_event(ACCOUNT_WITHHELD, user_id=user.id)
    audit.record(
        actor,
        "removed",
        user,
        detail=f"{user.state_reason} ({_plural(counts.posts, 'post')},"
        f" {_plural(counts.comments, 'comment')})",
    )
    if user.email:
        record_mail(
            user.email,
            "account_removed",
            username=user.username,
            reason=user.state_reason,
            trash_days=trash_lifetime().days,
        )
    db.session.commit()
    return counts


def restore(actor: User, user: User) -> None:
    """Bring a removed account back before it is purged: active again, with
    the posts its removal moved to the trash (not those its writer trashed
    before) and its comments; commit. Its likes and follows stay deleted.

    :raise NotAllowed: ``actor`` may not govern.
    :raise Invalid: ``user`` is not removed.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator restores accounts.")
    if user.state != REMOVED or user.state_changed is None:
        raise Invalid.of("user", "This account is not removed.")
    removed_at = user.state_changed
    user.state = ACTIVE
    user.state_reason = ""
    user.state_changed = utcnow()
    db.session.execute(
        sa.update(Post)
        .where(Post.author_id == user.id, Post.deleted == removed_at)
        .values(deleted=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Comment)
        .where(Comment.author_id == user.id)
        .values(withheld=False)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    recount(reach_of(user.id))
    record_event(ACCOUNT_RETURNED, user_id=user.id)
    audit.record(actor, "restored", user)
    db.session.commit()


def _purge(user: User) -> None:
    user_id = user.id
    record_post_deletions(
        sa.select(Post.id, Post.author_id).where(Post.author_id == user_id)
    )
    record_event(
        ACCOUNT_DELETED,
        user_id=user_id,
        username=user.username,
        kept_posts=False,
        fediverse_inboxes=fediverse_inboxes_of(user_id),
    )
    stop_mail_of_account(user, forget=True)
    for table in (Post, Comment):
        db.session.execute(
            sa.delete(table)
            .where(table.author_id == user_id)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(sa.delete(MediaImage).where(MediaImage.user_id == user_id))
    delete_sessions_of_user(user_id)
    db.session.delete(user)
    db.session.flush()
    forget_avatar(user)


def purge_removed_accounts() -> int:
    """Delete for good the accounts removed longer than ``TRASH_DAYS`` ago,
    with their posts and comments; commit; return how many."""
    cutoff = utcnow() - trash_lifetime()
    due = list(
        db.session.scalars(
            sa.select(User).where(User.state == REMOVED, User.state_changed < cutoff)
        )
    )
    for user in due:
        _purge(user)
    db.session.commit()
    for user in due:
        log_event("account_purged", user_id=user.id)
    return len(due)
