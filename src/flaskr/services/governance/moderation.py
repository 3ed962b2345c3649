"""The moderation queue: held comments and open reports, and the decisions
on them; the site's comment settings; the moderators' daily mail.

Who sees what: moderators (administrators and editors) see every held
comment and every open report. A post's writer sees the held comments on
their own posts, and may approve or reject them (or mark them spam, which
suspends no one: only a moderator's spam verdict suspends a new account).
Reports go to the moderators only: a report names what someone finds wrong
with a writer's work, and the moderators judge it.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Event
from flaskr.models import Post
from flaskr.models import Report
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import ADMIN
from flaskr.models.governance import EDITOR
from flaskr.models.governance import HELD
from flaskr.models.governance import REJECTED
from flaskr.models.governance import SPAM
from flaskr.models.governance import VISIBLE
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base import site
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.errors import ServiceError
from flaskr.services.base.mail import record_mail
from flaskr.services.governance import members
from flaskr.services.social import comment_policy
from flaskr.services.social import hold_rules
from flaskr.services.social.reactions import hide_comment
from flaskr.services.social.reactions import show_comment

APPROVE = "approve"
REJECT = "reject"
MARK_SPAM = "spam"
DECISIONS = (APPROVE, REJECT, MARK_SPAM)
#: Held comments shown in the queue at once (the oldest first).
QUEUE_SIZE = 200
#: The reason a spammer's account is suspended with (they see it).
SPAM_REASON = "Spam"

_STATE_OF = {APPROVE: VISIBLE, REJECT: REJECTED, MARK_SPAM: SPAM}
_ACTION_OF = {
    APPROVE: "comment_approved",
    REJECT: "comment_rejected",
    MARK_SPAM: "comment_spam",
}


def update_comment_settings(
    actor: User,
    policy: str,
    rules: t.Sequence[str],
    link_limit: int | None,
    words: str,
    account_hours: int | None,
) -> None:
    """Set who may comment and which hold rules are on, with their limits;
    commit, with an audit entry.

    :raise NotAllowed: ``actor`` is not an administrator.
    :raise Invalid: keyed ``policy``, ``rules``, ``link_limit``, ``words``,
        ``account_hours``; nothing is written.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator changes the comment settings.")
    Invalid.collect(
        {
            "policy": comment_policy.policy_problem(policy),
            "rules": hold_rules.rules_problem(list(rules)),
            "link_limit": hold_rules.link_limit_problem(link_limit),
            "words": hold_rules.words_problem(words),
            "account_hours": hold_rules.account_hours_problem(account_hours),
        }
    )
    assert link_limit is not None and account_hours is not None
    settings = site.settings()
    settings.comment_policy = policy
    settings.hold_rules = ",".join(hold_rules.parse_rules(",".join(rules)))
    settings.hold_link_limit = link_limit
    settings.hold_words = "\n".join(hold_rules.word_list(words))
    settings.hold_account_hours = account_hours
    audit.record(
        actor,
        "comment_settings_changed",
        detail=(
            f"policy {policy}; rules {settings.hold_rules or 'none'};"
            f" links {link_limit}; hours {account_hours}"
        ),
    )
    db.session.commit()


def may_see_queue(user: User | None) -> bool:
    """Moderators, and writers (for the comments held on their posts)."""
    return roles.may_moderate(user) or roles.may_write(user)


@dataclasses.dataclass(frozen=True)
class HeldComment:
    comment: Comment
    post: Post


def held_comments(viewer: User) -> list[HeldComment]:
    """The held comments ``viewer`` may decide on, oldest first: all of them
    for a moderator, those on their own posts for a writer."""
    query = (
        sa.select(Comment, Post)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.state == HELD)
        .order_by(Comment.created, Comment.id)
        .limit(QUEUE_SIZE)
    )
    if not roles.may_moderate(viewer):
        query = query.where(Post.author_id == viewer.id)
    return [HeldComment(comment, post) for comment, post in db.session.execute(query)]


def count_waiting(viewer: User) -> int:
    """How many held comments and open reports wait for ``viewer``."""
    held = sa.select(sa.func.count()).select_from(Comment).where(Comment.state == HELD)
    if not roles.may_moderate(viewer):
        held = held.join(Post, Post.id == Comment.post_id).where(
            Post.author_id == viewer.id
        )
        return db.session.scalar(held) or 0
    reports = sa.select(sa.func.count()).where(Report.resolved.is_(None))
    return (db.session.scalar(held) or 0) + (db.session.scalar(reports) or 0)


def _may_decide(actor: User, comment: Comment, post_author_id: int | None) -> bool:
    return roles.may_moderate(actor) or (
        roles.may_take_part(actor) and actor.id == post_author_id
    )


@dataclasses.dataclass(frozen=True)
class Decided:
    #: How many comments this decision moved.
    done: int
    #: How many another moderator had decided on first (or were gone).
    already: int
    #: The accounts suspended as spammers.
    suspended: list[str]


def decide_comments(
    actor: User,
    comment_ids: t.Sequence[int],
    decision: str,
    *,
    post_link: t.Callable[[Post], str],
) -> Decided:
    """Approve, reject or mark spam held comments, all in one transaction;
    commit, with an audit entry per comment.

    Approving counts the comment and mails the post's writer as a new
    comment would. A moderator's spam verdict also suspends the writer's
    account when it is new (``hold_rules.is_new_account``), with an audit
    entry naming the moderator. Comments no longer held (another moderator
    was first) are left as they are and counted in ``already``.

    :param post_link: the address of a post's comments, for the mail.
    :raise Invalid: ``decision`` is unknown or no comment was chosen.
    :raise NotAllowed: ``actor`` may not decide on one of them; nothing is
        written.
    """
    if decision not in DECISIONS:
        raise Invalid.of("decision", "Choose approve, reject or spam.")
    ids = sorted(set(comment_ids))
    if not ids:
        raise Invalid.of("comments", "Choose at least one comment.")
    rows = db.session.execute(
        sa.select(Comment, Post)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.id.in_(ids))
        .order_by(Comment.id)
    ).all()
    for comment, post in rows:
        if not _may_decide(actor, comment, post.author_id):
            raise NotAllowed("Only moderators and the post's writer decide on it.")
    suspects: dict[int, User] = {}
    done = 0
    hours = site.settings().hold_account_hours
    for comment, post in rows:
        # Claimed with a conditional UPDATE: of two moderators deciding at
        # once, one moves the comment and the other is told it is decided.
        claimed = db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment.id, Comment.state == HELD)
            .values(state=HELD)
            .execution_options(synchronize_session=False)
        )
        if affected_rows(claimed) == 0:
            continue
        db.session.refresh(comment)
        if comment.state != HELD:
            continue
        done += 1
        if decision == APPROVE:
            comment.state = VISIBLE
            show_comment(comment, post_link=post_link(post))
        else:
            hide_comment(comment, _STATE_OF[decision])
        writer = comment.author
        remote = comment.remote_actor
        audit.record(
            actor,
            _ACTION_OF[decision],
            writer,
            post_id=post.id,
            comment_id=comment.id,
            # A fediverse author has no account to name: their handle does.
            detail=comment.hold_reason
            if remote is None
            else f"{remote.handle}: {comment.hold_reason}"[:200],
        )
        if (
            decision == MARK_SPAM
            and writer is not None
            and roles.may_moderate(actor)
            and writer.is_active
            and not roles.may_moderate(writer)
            and hold_rules.is_new_account(writer, hours)
        ):
            suspects[writer.id] = writer
    suspended = []
    for writer in suspects.values():
        audit.record(
            actor, "comment_spam", writer, detail="new account suspended as a spammer"
        )
        try:
            # It commits, with every decision above: one unit of work.
            members.suspend(None, writer, SPAM_REASON)
        except ServiceError:
            continue
        suspended.append(writer.username)
    db.session.commit()
    return Decided(done=done, already=len(ids) - done, suspended=suspended)


def moderators_to_mail() -> list[User]:
    """Administrators and editors with a confirmed address, active."""
    query = sa.select(User).where(
        User.role.in_((ADMIN, EDITOR)),
        User.email.is_not(None),
        User.state == ACTIVE,
    )
    return list(db.session.scalars(query))


def mail_moderators_about_waiting(event: Event) -> None:
    """Handle ``MODERATION_WAITING`` (one event a day at most): mail each
    moderator what waits in the queue now, if anything still does; the
    event line commits."""
    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(Comment).where(Comment.state == HELD)
    )
    reports = db.session.scalar(
        sa.select(sa.func.count()).where(Report.resolved.is_(None))
    )
    if not held and not reports:
        return
    for moderator in moderators_to_mail():
        assert moderator.email is not None
        record_mail(
            moderator.email,
            "moderation_waiting",
            username=moderator.username,
            held=held or 0,
            reports=reports or 0,
        )
