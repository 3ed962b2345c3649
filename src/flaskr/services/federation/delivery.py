"""Delivering activities to remote inboxes (``FederationDelivery``).

:func:`enqueue` writes a delivery in the caller's transaction, once per
(activity, inbox) however often it is called; a sender claims due
deliveries, POSTs them signed through the guarded client, and retries with
back-off (docs/federation.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import typing as t

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import ActorKey
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import SITE_OWNER
from flaskr.services.base.security_log import log_event
from flaskr.services.federation import client
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import remote_actors


def enqueue(
    activity: t.Mapping[str, t.Any], inboxes: t.Iterable[str], signer: str
) -> int:
    """Queue ``activity`` for each of ``inboxes``, signed by ``signer`` (an
    ``ActorKey.owner``), in the caller's transaction; return how many were
    new (an activity already queued for an inbox is not queued again)."""
    rows = [
        {
            "activity_id": activity["id"],
            "inbox": inbox,
            "activity": dict(activity),
            "signer": signer,
            "created": utcnow(),
            "next_attempt": utcnow(),
            "attempts": 0,
            "failed": False,
        }
        for inbox in dict.fromkeys(inboxes)
    ]
    if not rows:
        return 0
    result = db.session.execute(
        insert_for_dialect(FederationDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["activity_id", "inbox"])
        .returning(FederationDelivery.id)
    )
    return len(result.all())


def follower_inboxes(user_id: int) -> list[str]:
    """Where an activity for all of a writer's followers goes: each
    follower's shared inbox, or its own inbox if its server has none; each
    address once."""
    found = db.session.scalars(
        sa.select(sa.func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox))
        .join(RemoteFollower, RemoteFollower.actor_id == RemoteActor.id)
        .where(RemoteFollower.user_id == user_id, RemoteFollower.state == ACCEPTED)
        .distinct()
    )
    return sorted(found)


# The sender ---------------------------------------------------------------

delivery_logger = logging.getLogger("flaskr.federation")

#: How long a claim holds a delivery: the sender POSTs its claims one after
#: another, and claims no more than it sends in half a lease.
CLAIM_LEASE = dt.timedelta(minutes=5)
#: The wait after the first failure; it doubles with each, up to the longest.
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(days=1)
#: Deliveries one claim takes at most.
BATCH = 20
#: Answers that say "not now" rather than "never": tried again later.
_RETRIED_4XX = frozenset({408, 429})

#: Written as the partial index's condition is, so both databases read it.
_UNDONE = (FederationDelivery.done.is_(None), sa.not_(FederationDelivery.failed))


@dataclasses.dataclass(frozen=True)
class _Claimed:
    """A claimed delivery, read before the POST so that no transaction stays
    open over the network."""

    id: int
    inbox: str
    activity: dict[str, t.Any]
    signer: str
    attempts: int


def _claim_size() -> int:
    timeout = max(float(current_app.config["FEDERATION_FETCH_TIMEOUT"]), 0.1)
    return max(1, min(BATCH, int(CLAIM_LEASE.total_seconds() / 2 / timeout)))


def _due(limit: int) -> sa.Select[int]:
    return (
        sa.select(FederationDelivery.id)
        .where(*_UNDONE, FederationDelivery.next_attempt <= utcnow())
        .order_by(FederationDelivery.next_attempt, FederationDelivery.id)
        .limit(limit)
    )


def _claim(limit: int) -> list[_Claimed]:
    """Take up to ``limit`` due deliveries for this sender, moving each a
    lease ahead, read them and their signers' keys, and commit: other senders
    leave them alone until the lease ends."""
    lease = {
        "next_attempt": utcnow() + CLAIM_LEASE,
        "attempts": FederationDelivery.attempts + 1,
    }
    claimed: list[int] = []
    if db.session.get_bind().dialect.name == "postgresql":
        claimed = list(
            db.session.scalars(_due(limit).with_for_update(skip_locked=True))
        )
        if claimed:
            db.session.execute(
                sa.update(FederationDelivery)
                .where(FederationDelivery.id.in_(claimed))
                .values(lease)
                .execution_options(synchronize_session=False)
            )
    else:
        for delivery_id in db.session.scalars(_due(limit)).all():
            won = db.session.execute(
                sa.update(FederationDelivery)
                .where(
                    FederationDelivery.id == delivery_id,
                    *_UNDONE,
                    FederationDelivery.next_attempt <= utcnow(),
                )
                .values(lease)
                .execution_options(synchronize_session=False)
            )
            if affected_rows(won) == 1:
                claimed.append(delivery_id)
    rows = db.session.execute(
        sa.select(
            FederationDelivery.id,
            FederationDelivery.inbox,
            FederationDelivery.activity,
            FederationDelivery.signer,
            FederationDelivery.attempts,
        )
        .where(FederationDelivery.id.in_(claimed))
        .order_by(FederationDelivery.id)
    ).all()
    found = [_Claimed(*row) for row in rows]
    for signer in {item.signer for item in found}:
        # Loaded now, kept by the session (no expiry on commit): the POST
        # signs with it without a query, so without a transaction.
        if _signer_exists(signer):
            keys.key_of(signer)
    db.session.commit()
    return found


def _signer_exists(signer: str) -> bool:
    """Whether ``signer`` may still sign: the site, a writer, or a deleted
    writer whose key is kept until their actor's ``Delete`` is sent."""
    if signer == SITE_OWNER or db.session.get(ActorKey, signer) is not None:
        return True
    return signer.isdigit() and db.session.get(User, int(signer)) is not None


def _retry_after(value: str | None) -> dt.timedelta | None:
    """A ``Retry-After`` header's wait: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(moment - utcnow(), dt.timedelta(0))


def _finish(item: _Claimed, **values: t.Any) -> None:
    db.session.execute(
        sa.update(FederationDelivery)
        .where(FederationDelivery.id == item.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _give_up(item: _Claimed, error: str) -> None:
    _finish(item, failed=True, last_error=error[:500])
    delivery_logger.error(
        "gave up on delivery %s of %s to %s: %s",
        item.id,
        item.activity.get("type"),
        item.inbox,
        error,
    )


def _retry_later(
    item: _Claimed, error: str, asked: dt.timedelta | None
) -> dt.datetime | None:
    """Try ``item`` again after its back-off (or what the inbox asked for, up
    to a day), and hold back the inbox's other due deliveries as long; when
    it is given up, ``None``."""
    if item.attempts >= int(current_app.config["FEDERATION_MAX_ATTEMPTS"]):
        _give_up(item, error)
        return None
    wait = min(FIRST_RETRY * 2 ** max(item.attempts - 1, 0), LONGEST_RETRY)
    if asked is not None:
        wait = min(max(wait, asked), LONGEST_RETRY)
    retry_at: dt.datetime = utcnow() + wait
    _finish(item, next_attempt=retry_at, last_error=error[:500])
    _hold_inbox(item.inbox, retry_at)
    delivery_logger.warning(
        "delivery %s to %s failed (attempt %s), next in %s: %s",
        item.id,
        item.inbox,
        item.attempts,
        wait,
        error,
    )
    return retry_at


def _hold_inbox(inbox: str, until: dt.datetime) -> None:
    """Make the inbox's other deliveries wait until ``until``: a server that
    is down costs one attempt a round, not one per activity."""
    db.session.execute(
        sa.update(FederationDelivery)
        .where(
            FederationDelivery.inbox == inbox,
            *_UNDONE,
            FederationDelivery.next_attempt < until,
        )
        .values(next_attempt=until)
        .execution_options(synchronize_session=False)
    )


def _drop_followers_at(inbox: str) -> int:
    """Forget the remote followers that ``inbox`` (their own, or their
    server's shared one) belongs to: it answered 410 Gone."""
    actors = sa.select(RemoteActor.id).where(
        sa.or_(RemoteActor.inbox == inbox, RemoteActor.shared_inbox == inbox)
    )
    result = db.session.execute(
        sa.delete(RemoteFollower)
        .where(RemoteFollower.actor_id.in_(actors))
        .execution_options(synchronize_session=False)
    )
    dropped = affected_rows(result)
    if dropped:
        log_event("fediverse_followers_gone", inbox=inbox, dropped=dropped)
    return dropped


def actor_delete_id(user_id: int) -> str:
    """The id of the ``Delete`` of a deleted writer's actor."""
    return f"{ids.actor(user_id)}#delete"


def forget_deleted_writer_key(owner: str, *, handled: bool = False) -> bool:
    """Delete the key of ``owner`` if it is a deleted writer's whose
    account's deletion was handled (``handled``, or their actor's ``Delete``
    is queued) and nothing it signs is left to send; in the caller's
    transaction. Whether it went."""
    if owner == SITE_OWNER or not owner.isdigit():
        return False
    if db.session.get(User, int(owner)) is not None:
        return False
    left = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(FederationDelivery)
        .where(FederationDelivery.signer == owner, *_UNDONE)
    )
    queued = db.session.scalar(
        sa.select(FederationDelivery.id)
        .where(FederationDelivery.activity_id == actor_delete_id(int(owner)))
        .limit(1)
    )
    if left or not (handled or queued is not None):
        return False
    result = db.session.execute(sa.delete(ActorKey).where(ActorKey.owner == owner))
    if affected_rows(result):
        log_event("actor_key_deleted", owner=owner)
    return True


def _send(item: _Claimed, held: dict[str, dt.datetime]) -> bool:
    """POST one claimed delivery and record what came of it, in a short
    transaction of its own; whether it was accepted."""
    accepted = False
    if item.inbox in held:
        # Its inbox failed earlier in this round: wait with it, untried.
        _finish(
            item,
            next_attempt=held[item.inbox],
            attempts=FederationDelivery.attempts - 1,
        )
    elif remote_actors.is_blocked(remote_actors.domain_of(item.inbox)):
        _give_up(item, "domain blocked")
    elif not _signer_exists(item.signer):
        _give_up(item, "signer gone")
    else:
        db.session.commit()  # no transaction open over the network (nor expiry)
        try:
            answer = client.deliver(item.inbox, item.activity, item.signer)
        except client.FetchRefused as error:
            status, reason, asked = error.status, str(error), None
        else:
            status, reason = answer.status, f"answered {answer.status}"
            asked = _retry_after(answer.headers.get("retry-after"))
        if status is not None and 200 <= status < 300:
            _finish(item, done=utcnow(), last_error=None)
            accepted = True
        elif status is not None and 400 <= status < 500 and status not in _RETRIED_4XX:
            _give_up(item, reason)
            if status == 410:
                _drop_followers_at(item.inbox)
        else:
            retry_at = _retry_later(item, reason, asked)
            if retry_at is not None:
                held[item.inbox] = retry_at
    forget_deleted_writer_key(item.signer)
    db.session.commit()
    return accepted


def deliver_due() -> int:
    """Send the deliveries that are due, a batch at a time; return how many
    an inbox accepted. Safe to run in any number of processes and servers at
    once: each delivery is claimed by one, and marked done once accepted, so
    only a sender killed between the POST and that mark repeats one."""
    if not ids.federating():
        return 0
    accepted = 0
    held: dict[str, dt.datetime] = {}
    size = _claim_size()
    while claimed := _claim(size):
        for item in claimed:
            accepted += _send(item, held)
        if len(claimed) < size:
            break
    return accepted


@dataclasses.dataclass(frozen=True)
class InboxQueue:
    """What waits for one inbox, or was given up on (``flask federation
    status``)."""

    inbox: str
    queued: int
    failed: int
    #: When the next of its queued deliveries is tried, if any waits.
    next_attempt: dt.datetime | None
    #: The latest error among its deliveries (queued or failed), if any.
    last_error: str | None


def queue_by_inbox() -> list[InboxQueue]:
    """Each inbox with deliveries queued or failed, most queued first."""
    queued = sa.func.count().filter(*_UNDONE)
    failed = sa.func.count().filter(FederationDelivery.failed)
    rows = db.session.execute(
        sa.select(
            FederationDelivery.inbox,
            queued,
            failed,
            sa.func.min(FederationDelivery.next_attempt).filter(*_UNDONE),
        )
        .where(FederationDelivery.done.is_(None))
        .group_by(FederationDelivery.inbox)
        .order_by(queued.desc(), failed.desc(), FederationDelivery.inbox)
    ).all()
    found = []
    for inbox, waiting, given_up, next_attempt in rows:
        last_error = db.session.scalar(
            sa.select(FederationDelivery.last_error)
            .where(
                FederationDelivery.inbox == inbox,
                FederationDelivery.done.is_(None),
                FederationDelivery.last_error.is_not(None),
            )
            .order_by(FederationDelivery.id.desc())
            .limit(1)
        )
        found.append(InboxQueue(inbox, waiting, given_up, next_attempt, last_error))
    return found
