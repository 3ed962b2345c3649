"""Decisions about members: suspending an account and lifting it.

Only an administrator suspends or lifts (``roles.may_govern``); nobody
suspends themselves or another administrator (demote first). A suspension
ends the account's sessions and API tokens at once and withholds its posts
and comments from readers until it is lifted.
"""

from __future__ import annotations

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.social.comment_policy import recount_comments_of

#: A suspension's reason is shown to the account and kept in the audit log.
REASON_MAX_LENGTH = 500


def reason_problem(reason: str) -> str | None:
    if not reason.strip():
        return "Say why: the account's owner sees the reason."
    if len(reason) > REASON_MAX_LENGTH:
        return f"A reason must be at most {REASON_MAX_LENGTH} characters."
    return None


def _withhold_writing(user: User, withheld: bool) -> None:
    """Hide (or show again) the user's posts and comments from readers."""
    for table in (Post, Comment):
        db.session.execute(
            sa.update(table)
            .where(table.author_id == user.id, table.withheld.is_not(withheld))
            .values(withheld=withheld)
            .execution_options(synchronize_session=False)
        )
    # Withheld comments are not counted: the posts' counts follow.
    recount_comments_of(user.id)


def suspend(actor: User | None, user: User, reason: str) -> None:
    """Suspend ``user`` with ``reason`` (shown to them); commit.

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
    user.state = SUSPENDED
    user.state_reason = reason.strip()
    user.state_changed = utcnow()
    _withhold_writing(user, True)
    delete_sessions_of_user(user.id)
    audit.record(actor, "suspended", user, detail=user.state_reason)
    db.session.commit()


def lift(actor: User | None, user: User) -> None:
    """End ``user``'s suspension: their writing is back; commit.

    :raise NotAllowed: ``actor`` may not govern.
    :raise Invalid: ``user`` is not suspended.
    """
    if actor is not None and not roles.may_govern(actor):
        raise NotAllowed("Only an administrator lifts suspensions.")
    if user.state != SUSPENDED:
        raise Invalid.of("user", "This account is not suspended.")
    user.state = ACTIVE
    user.state_reason = ""
    user.state_changed = utcnow()
    _withhold_writing(user, False)
    audit.record(actor, "lifted", user)
    db.session.commit()
