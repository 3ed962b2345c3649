"""Decisions about members: listing them, approving or refusing a waiting
account, changing a role, suspending an account and lifting it (removal is
in :mod:`.removal`).

Moderators (administrators and editors) see the members and approve or
refuse waiting accounts; only an administrator changes roles, suspends and
lifts (``roles.may_govern``). Nobody suspends themselves or another
administrator (demote first), and the site always keeps an active
administrator. A suspension ends the account's sessions and API tokens at
once and withholds its posts, comments, likes and follows from readers
until it is lifted; the counts readers see follow (:mod:`.standing`).
Each decision is in the audit log, in its own transaction.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import ACCOUNT_STATES
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import ADMIN
from flaskr.models.governance import PENDING
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.profiles import forget_avatar
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.events import ACCOUNT_RETURNED
from flaskr.services.base.events import ACCOUNT_WITHHELD
from flaskr.services.base.events import record_event
from flaskr.services.base.mail import record_mail
from flaskr.services.base.site import set_role
from flaskr.services.base.text import contains_pattern
from flaskr.services.base.text import search_problem
from flaskr.services.governance.standing import reach_of
from flaskr.services.governance.standing import recount
from flaskr.services.social.subscriber_admin import stop_mail_of_account

#: A suspension's reason is shown to the account and kept in the audit log.
REASON_MAX_LENGTH = 500
#: Accounts per page of the users page.
MEMBERS_PER_PAGE = 50


def reason_problem(reason: str) -> str | None:
    if not reason.strip():
        return "Say why: the account's owner sees the reason."
    if len(reason) > REASON_MAX_LENGTH:
        return f"A reason must be at most {REASON_MAX_LENGTH} characters."
    return None


@dataclasses.dataclass(frozen=True)
class MemberRow:
    """One account on the users page."""

    user: User
    #: Published or scheduled posts outside the trash (withheld ones too).
    posts: int
    #: Comments, whatever their state.
    comments: int


@dataclasses.dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    #: Accounts that match, on every page.
    total: int
    page: int
    pages: int


def list_members(
    actor: User,
    *,
    search: str = "",
    role: str | None = None,
    state: str | None = None,
    page: int = 1,
    per_page: int = MEMBERS_PER_PAGE,
) -> MemberPage:
    """A page of accounts, waiting ones first, then the newest: two
    statements whatever the page holds (the count, and the rows with their
    posts and comments counted per row from the authors' indexes).

    :param search: part of a username or an e-mail address, any case.
    :raise NotAllowed: ``actor`` is not a moderator.
    :raise Invalid: an unknown ``role`` or ``state``, or a search too long.
    """
    if not roles.may_moderate(actor):
        raise NotAllowed("Only administrators and editors see the members.")
    Invalid.collect(
        {
            "role": roles.role_problem(role) if role else None,
            "state": (
                "Choose one of the states offered."
                if state and state not in ACCOUNT_STATES
                else None
            ),
            "search": search_problem(search),
        }
    )
    conditions: list[sa.ColumnElement[bool]] = []
    words = search.strip().casefold()
    if words:
        pattern = contains_pattern(words)
        conditions.append(
            sa.or_(
                User.username_key.like(pattern, escape="\\"),
                User.email_key.like(pattern, escape="\\"),
            )
        )
    if role:
        conditions.append(User.role == role)
    if state:
        conditions.append(User.state == state)
    total = int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(*conditions)
        )
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    posts = (
        sa.select(sa.func.count())
        .select_from(Post)
        .where(
            Post.author_id == User.id,
            Post.published.is_not(None),
            Post.deleted.is_(None),
        )
        .scalar_subquery()
    )
    comments = (
        sa.select(sa.func.count())
        .select_from(Comment)
        .where(Comment.author_id == User.id)
        .scalar_subquery()
    )
    waiting_first = sa.case((User.state == PENDING, 0), else_=1)
    query = (
        sa.select(User, posts.label("posts"), comments.label("comments"))
        .where(*conditions)
        .order_by(waiting_first, User.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [
        MemberRow(user=user, posts=int(n_posts), comments=int(n_comments))
        for user, n_posts, n_comments in db.session.execute(query)
    ]
    return MemberPage(rows=rows, total=total, page=page, pages=pages)


def history_of(actor: User, user: User, limit: int = 50) -> list[AuditEntry]:
    """The audit entries about ``user``, newest first.

    :raise NotAllowed: ``actor`` is not a moderator.
    """
    if not roles.may_moderate(actor):
        raise NotAllowed("Only administrators and editors see the members.")
    query = (
        sa.select(AuditEntry)
        .where(AuditEntry.subject_user_id == user.id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _check_waiting(actor: User, user: User) -> None:
    if not roles.may_moderate(actor):
        raise NotAllowed("Only administrators and editors approve accounts.")
    if user.state != PENDING:
        raise Invalid.of("user", "This account is not waiting for approval.")


def approve(actor: User, user: User) -> None:
    """Let a waiting account in (and mail them, at a confirmed address);
    commit.

    :raise NotAllowed: ``actor`` is not a moderator.
    :raise Invalid: ``user`` is not waiting.
    """
    _check_waiting(actor, user)
    user.state = ACTIVE
    user.state_reason = ""
    user.state_changed = utcnow()
    audit.record(actor, "approved", user)
    if user.email:
        record_mail(user.email, "account_approved", username=user.username)
    db.session.commit()


def refuse(actor: User, user: User) -> None:
    """Turn a waiting account away: it is deleted (it has written nothing);
    commit. The audit entry keeps its name.

    :raise NotAllowed: ``actor`` is not a moderator.
    :raise Invalid: ``user`` is not waiting.
    """
    _check_waiting(actor, user)
    audit.record(actor, "refused", user)
    # Its audit entries keep the name; the database clears their link.
    db.session.flush()
    stop_mail_of_account(user, forget=True)
    delete_sessions_of_user(user.id)
    for table in (Post, Comment):
        db.session.execute(
            sa.delete(table)
            .where(table.author_id == user.id)
            .execution_options(synchronize_session=False)
        )
    db.session.delete(user)
    db.session.flush()
    forget_avatar(user)
    db.session.commit()


def _other_active_admins(user: User) -> bool:
    query = sa.select(User.id).where(
        User.role == ADMIN, User.state == ACTIVE, User.id != user.id
    )
    return db.session.scalar(query.limit(1)) is not None


def change_role(actor: User, user: User, role: str) -> None:
    """Give ``user`` the role ``role`` from the users page; commit. A change
    to the same role changes nothing and records nothing. The rules are
    :func:`flaskr.services.base.site.set_role`'s, which ``flask set-role``
    follows too.

    :raise NotAllowed: ``actor`` is not an administrator.
    :raise Invalid: an unknown role, or the change would leave the site
        without an active administrator.
    """
    set_role(actor, user, role)


def _set_state(user: User, state: str, reason: str = "") -> None:
    user.state = state
    user.state_reason = reason
    user.state_changed = utcnow()


def withhold_writing(user: User, withheld: bool) -> None:
    """Hide (or show again) the user's posts and comments from readers. The
    caller counts again (:func:`.standing.recount`) and commits."""
    for table in (Post, Comment):
        db.session.execute(
            sa.update(table)
            .where(table.author_id == user.id, table.withheld.is_not(withheld))
            .values(withheld=withheld)
            .execution_options(synchronize_session=False)
        )


def suspend(actor: User | None, user: User, reason: str) -> None:
    """Suspend ``user`` with ``reason`` (shown to them, and mailed to a
    confirmed address); commit.

    :param actor: the administrator deciding, or ``None`` for the site itself
        (a command, or a moderator's spam verdict on a new account, which
        the caller has checked).
    :raise NotAllowed: ``actor`` may not govern, or ``user`` is ``actor``
        or an administrator.
    :raise Invalid: with ``reason`` problems, or ``user`` is not active.
    """
    if actor is not None and not roles.may_govern(actor):
        raise NotAllowed("Only an administrator suspends accounts.")
    if actor is not None and actor.id == user.id:
        raise NotAllowed("You cannot suspend your own account.")
    if user.is_admin:
        raise NotAllowed("An administrator cannot be suspended; change the role first.")
    Invalid.collect({"reason": reason_problem(reason)})
    if user.state != ACTIVE:
        raise Invalid.of("user", "Only an active account can be suspended.")
    _set_state(user, SUSPENDED, reason.strip())
    reach = reach_of(user.id)
    withhold_writing(user, True)
    db.session.flush()
    recount(reach)
    delete_sessions_of_user(user.id)
    # Its posts are withheld and its subscriber rows stop receiving (the
    # newsletter asks); what already waits in the outbox stops here.
    stop_mail_of_account(user)
    record_event(ACCOUNT_WITHHELD, user_id=user.id)
    audit.record(actor, "suspended", user, detail=user.state_reason)
    if user.email:
        record_mail(
            user.email,
            "account_suspended",
            username=user.username,
            reason=user.state_reason,
        )
    db.session.commit()


def lift(actor: User | None, user: User) -> None:
    """End ``user``'s suspension: their writing, likes and follows are back;
    commit.

    :raise NotAllowed: ``actor`` may not govern.
    :raise Invalid: ``user`` is not suspended.
    """
    if actor is not None and not roles.may_govern(actor):
        raise NotAllowed("Only an administrator lifts suspensions.")
    if user.state != SUSPENDED:
        raise Invalid.of("user", "This account is not suspended.")
    _set_state(user, ACTIVE)
    reach = reach_of(user.id)
    withhold_writing(user, False)
    db.session.flush()
    recount(reach)
    record_event(ACCOUNT_RETURNED, user_id=user.id)
    audit.record(actor, "lifted", user)
    db.session.commit()
