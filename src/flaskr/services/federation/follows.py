"""Remote actors following this site's writers: ``Follow``, ``Accept`` (now,
or when the writer approves), ``Undo``; the writer's list of them, and
removing one.

Every use case here commits what it changes and logs it. The ``Accept`` or
``Reject`` a writer owes is queued (``delivery.enqueue``) in the same
transaction, signed by the writer's key, for the follower's own inbox.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import MAX_ID
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.services.base import events
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.security_log import log_event
from flaskr.services.federation import delivery
from flaskr.services.federation import fields
from flaskr.services.federation import ids
from flaskr.services.federation import objects
from flaskr.services.federation import remote_actors

Activity = dict[str, t.Any]

#: Followers shown per page of a writer's followers page.
FOLLOWERS_PER_PAGE = 50
STATES = (ACCEPTED, PENDING)


class MalformedFollow(ValueError):
    """A ``Follow`` or its ``Undo`` that names no activity or no writer in a
    form this site reads; the inbox answers 400."""


def _reply_id(user_id: int, kind: str, actor: RemoteActor, follow_id: str) -> str:
    """The id of the ``Accept`` or ``Reject`` of one ``Follow``: the same for
    a replayed Follow (so it is queued once), new for a new one."""
    digest = hashlib.sha256(follow_id.encode()).hexdigest()[:20]
    return f"{ids.actor(user_id)}#{kind}/follows/{actor.id}-{digest}"


def _answer(kind: str, user_id: int, actor: RemoteActor, follow_id: str) -> None:
    """Queue ``kind`` (``Accept`` or ``Reject``) of ``actor``'s Follow, from
    the writer to the follower's own inbox, in the caller's transaction.

    The Follow is named by its id, with its actor and object as the writer
    knows them: what Mastodon matches; the remote JSON is not echoed back
    under the writer's signature."""
    follow = {
        "id": follow_id,
        "type": "Follow",
        "actor": actor.uri,
        "object": ids.actor(user_id),
    }
    answer = objects.activity(
        kind,
        ids.actor(user_id),
        follow,
        _reply_id(user_id, kind.lower() + "s", actor, follow_id),
    )
    answer["to"] = [actor.uri]
    delivery.enqueue(answer, [actor.inbox], ids.owner_of_user(user_id))


def receive_follow(actor: RemoteActor, activity: Activity) -> None:
    """``actor`` asks to follow the writer ``activity["object"]`` names.

    A Follow of anyone but an active writer here is dropped. The follower is
    kept as accepted, and an ``Accept`` queued; or as pending when the writer
    approves followers. A Follow repeated by an accepted follower is
    accepted again (Mastodon re-sends it to repair a lost follow); a replayed
    one changes nothing.

    :raise MalformedFollow: no Follow id, or no object.
    :raise remote_actors.ActorRefused: ``actor``'s domain is blocked.
    """
    follow_id = fields.id_of(activity.get("id"))
    target = fields.id_of(activity.get("object"))
    if follow_id is None or target is None:
        raise MalformedFollow("the Follow has no id or no object")
    if remote_actors.is_blocked(actor.domain):
        raise remote_actors.ActorRefused("the actor's domain is blocked")
    user_id = ids.user_id_of_actor(target)
    user = (
        db.session.get(User, user_id)
        if user_id is not None and 0 < user_id <= MAX_ID
        else None
    )
    if user is None or not roles.may_write(user):
        log_event("federation_follow_dropped", actor=actor.uri, target=target)
        db.session.commit()
        return
    row = db.session.get(RemoteFollower, (user.id, actor.id))
    if row is None:
        row = RemoteFollower(
            user_id=user.id,
            actor_id=actor.id,
            state=PENDING if user.approve_fediverse_followers else ACCEPTED,
            follow_id=follow_id,
        )
        db.session.add(row)
    else:
        row.follow_id = follow_id
    if row.state == ACCEPTED:
        _answer("Accept", user.id, actor, follow_id)
    db.session.commit()
    log_event(
        "federation_followed",
        user_id=user.id,
        actor=actor.uri,
        state=row.state,
    )


def receive_undo_follow(actor: RemoteActor, activity: Activity) -> None:
    """``actor`` stops following (or withdraws its request): the ``Undo``
    names its Follow by id, or by the writer the Follow's object names.

    :raise MalformedFollow: the Undo names no Follow.
    """
    follow = activity.get("object")
    follow_id = fields.id_of(follow)
    target = fields.id_of(follow.get("object")) if isinstance(follow, dict) else None
    user_id = ids.user_id_of_actor(target) if target else None
    if user_id is not None and not 0 < user_id <= MAX_ID:
        user_id = None
    if follow_id is None and user_id is None:
        raise MalformedFollow("the Undo names no Follow")
    named = [RemoteFollower.follow_id == follow_id] if follow_id else []
    if user_id is not None:
        named.append(RemoteFollower.user_id == user_id)
    result = db.session.execute(
        sa.delete(RemoteFollower).where(
            RemoteFollower.actor_id == actor.id, sa.or_(*named)
        )
    )
    db.session.commit()
    log_event(
        "federation_unfollowed",
        actor=actor.uri,
        removed=t.cast(sa.CursorResult[t.Any], result).rowcount,
    )


# The writer's side.


@dataclasses.dataclass(frozen=True)
class FollowerRow:
    actor: RemoteActor
    state: str
    since: t.Any


@dataclasses.dataclass(frozen=True)
class FollowerPage:
    rows: list[FollowerRow]
    #: Followers in this state, on every page.
    total: int
    page: int
    pages: int


def followers_of(
    user: User, state: str = ACCEPTED, page: int = 1, per_page: int = FOLLOWERS_PER_PAGE
) -> FollowerPage:
    """A page of ``user``'s followers from the fediverse in ``state``
    (accepted, or pending approval), the newest first.

    :raise Invalid: an unknown state.
    """
    if state not in STATES:
        raise Invalid({"state": ["Choose accepted or pending followers."]})
    mine = sa.and_(RemoteFollower.user_id == user.id, RemoteFollower.state == state)
    total = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(RemoteFollower).where(mine)
        )
        or 0
    )
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    found = db.session.execute(
        sa.select(RemoteFollower, RemoteActor)
        .join(RemoteActor, RemoteActor.id == RemoteFollower.actor_id)
        .where(mine)
        .order_by(RemoteFollower.created.desc(), RemoteFollower.actor_id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [
        FollowerRow(actor=actor, state=follower.state, since=follower.created)
        for follower, actor in found
    ]
    return FollowerPage(rows=rows, total=total, page=page, pages=pages)


def pending_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RemoteFollower)
            .where(RemoteFollower.user_id == user.id, RemoteFollower.state == PENDING)
        )
        or 0
    )


def _row(user: User, actor_id: int, state: str) -> RemoteFollower:
    """:raise Invalid: ``actor_id`` is not ``user``'s follower in ``state``."""
    row = db.session.get(RemoteFollower, (user.id, actor_id))
    if row is None or row.state != state:
        message = (
            "This request is no longer waiting."
            if state == PENDING
            else "This account does not follow you."
        )
        raise Invalid({"follower": [message]})
    return row


def _may_have_followers(user: User) -> None:
    if not roles.may_write(user):
        raise Invalid({"follower": ["Only writers have followers from the fediverse."]})


def approve_follower(user: User, actor_id: int) -> None:
    """Accept a pending follower: it follows, and an ``Accept`` is queued.

    :raise Invalid: no such pending request.
    """
    _may_have_followers(user)
    row = _row(user, actor_id, PENDING)
    actor = db.session.get_one(RemoteActor, actor_id)
    row.state = ACCEPTED
    _answer("Accept", user.id, actor, row.follow_id)
    db.session.commit()
    log_event("federation_follower_approved", user_id=user.id, actor=actor.uri)


def decline_follower(user: User, actor_id: int) -> None:
    """Refuse a pending follower: the request goes, and a ``Reject`` is
    queued.

    :raise Invalid: no such pending request.
    """
    row = _row(user, actor_id, PENDING)
    _drop(user, row, "federation_follower_declined")


def remove_follower(user: User, actor_id: int) -> None:
    """Stop an accepted follower following: its row goes, and a ``Reject``
    of its Follow is queued (Mastodon then drops the follow on its side).

    :raise Invalid: ``actor_id`` does not follow ``user``.
    """
    row = _row(user, actor_id, ACCEPTED)
    _drop(user, row, "federation_follower_removed")


def _drop(user: User, row: RemoteFollower, event: str) -> None:
    actor = db.session.get_one(RemoteActor, row.actor_id)
    _answer("Reject", user.id, actor, row.follow_id)
    db.session.delete(row)
    db.session.commit()
    log_event(event, user_id=user.id, actor=actor.uri)


def set_approval(user: User, approve: bool) -> int:
    """Whether ``user`` approves new followers from the fediverse. Turning
    it off accepts those waiting (as Mastodon does when an account is
    unlocked); return how many were accepted."""
    _may_have_followers(user)
    if user.approve_fediverse_followers != approve:
        # The actor says so (``manuallyApprovesFollowers``): send it again.
        events.record_event(events.ACCOUNT_UPDATED, user_id=user.id)
    user.approve_fediverse_followers = approve
    accepted = 0
    if not approve:
        waiting = db.session.execute(
            sa.select(RemoteFollower, RemoteActor)
            .join(RemoteActor, RemoteActor.id == RemoteFollower.actor_id)
            .where(RemoteFollower.user_id == user.id, RemoteFollower.state == PENDING)
        ).all()
        for row, actor in waiting:
            row.state = ACCEPTED
            _answer("Accept", user.id, actor, row.follow_id)
        accepted = len(waiting)
    db.session.commit()
    log_event(
        "federation_follower_approval",
        user_id=user.id,
        approve=approve,
        accepted=accepted,
    )
    return accepted
