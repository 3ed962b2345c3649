"""The event line: what happened, recorded with the change, handled afterwards.

A use case that changes something others may care about (a post published, an
account renamed) calls :func:`record_event` before it commits: one ``INSERT``
in its own transaction, so the event exists exactly when the change does.
Handlers (comment mail today; newsletters and federation later) run from it
after the commit, on a timer in every server (``plumbing/background.py``),
where no timer runs after the response of the request that recorded it
(``plumbing/outbox.py``), or from cron (``flask deliver-events``).

Delivering takes two steps, each in transactions of its own:

1. :func:`dispatch_due_events` hands each event whose time has come to the
   handlers that want its kind: one ``event_delivery`` row per handler, written
   in the transaction that marks the event dispatched, so a dispatcher killed
   half-way leaves the event as it was. The rows are written already claimed
   by the dispatcher (a lease, as in step 2), which runs them next: a fresh
   event costs no claim of its own. An event recorded for later (a
   scheduled post) is found void if, by then, the post is no longer to come
   out at that time.
2. :func:`deliver_due_events` claims due deliveries as the mail outbox claims
   mails (``mail.py``): ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
   ``UPDATE`` on SQLite, each moving the delivery's ``next_attempt`` a lease
   ahead. It runs the handler, and marks the delivery done in the handler's
   own transaction: what a handler writes (a mail in the outbox) is committed
   exactly once. A handler that raises is rolled back and tried again later,
   backing off, up to ``EVENT_MAX_ATTEMPTS``; one whose process dies (even by
   ``kill -9``) leaves its claim to expire, and another process runs it again.

Written here, not taken from a library: a transactional outbox must write in
the transaction of the change it records, and task queues (Celery, RQ, Dramatiq)
keep their queues in a broker outside that transaction, so a crash between
the commit and the enqueue would lose the event. docs/architecture.md says
which engine takes over when a site outgrows this.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import typing as t

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import Event
from flaskr.models import EventDelivery
from flaskr.models import Post

event_logger = logging.getLogger("flaskr.events")

#: How long a claim holds a delivery: longer than any handler takes.
CLAIM_LEASE = dt.timedelta(minutes=2)
#: The wait after the first failure; it doubles with each, up to the longest.
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)
#: Events dispatched, or deliveries claimed, per transaction.
BATCH = 20

#: The key of ``db.session.info`` holding the kinds of the events due now that
#: this transaction recorded (so the request's response may deliver them).
RECORDED_DUE_KINDS = "flaskr_event_kinds_recorded"

#: A post that came out: now, or at its scheduled time (``due``).
POST_PUBLISHED = "post.published"
#: A post already out was saved with changes.
POST_UPDATED = "post.updated"
POST_UNPUBLISHED = "post.unpublished"
POST_TRASHED = "post.trashed"
POST_RESTORED = "post.restored"
#: Deleted for good: by its writer, from the trash, or with its writer's account.
POST_DELETED = "post.deleted"
COMMENT_ADDED = "comment.added"
ACCOUNT_RENAMED = "account.renamed"
ACCOUNT_DELETED = "account.deleted"
#: What others see of an account changed: its profile, picture, or whether
#: it approves new followers (its fediverse actor is sent again).
ACCOUNT_UPDATED = "account.updated"
#: An account's writing was hidden from readers (suspended, removed), or is
#: back (the suspension lifted, the account restored).
ACCOUNT_WITHHELD = "account.withheld"
ACCOUNT_RETURNED = "account.returned"
#: Something waits in the moderation queue (a held comment, a report):
#: recorded with a key per day, so moderators are mailed once a day at most.
MODERATION_WAITING = "moderation.waiting"


@dataclasses.dataclass(frozen=True)
class Handler:
    """Something to do once with each event of some kinds.

    ``run`` gets the event inside the transaction that marks its delivery
    done, and must not commit: its writes count only if it returns. (A
    handler with a ledger of its own that makes a second run skip what the
    first committed, as the newsletter's fan-out has, may commit in steps.) To be
    tried again later it raises; what it did outside the database (a request
    to another server) may then happen again, so that must be safe to repeat.
    """

    #: Stored with each delivery: renaming a handler starts it afresh.
    name: str
    kinds: frozenset[str]
    run: t.Callable[[Event], None]


def record_event(
    kind: str,
    *,
    post_id: int | None = None,
    user_id: int | None = None,
    due: dt.datetime | None = None,
    key: str | None = None,
    **payload: t.Any,
) -> None:
    """Record that ``kind`` happened, in the caller's transaction (one
    ``INSERT``); handlers get it once the caller commits.

    :param due: when it happens, if later than now: a scheduled publication.
        Scheduling one post twice for the same time records one event.
    :param key: records the event only if none with this key was recorded
        (a scheduled event makes its own key).
    """
    now = utcnow()
    scheduled = due if due is not None and due > now else None
    if scheduled is not None:
        key = f"{kind}:{post_id}:{scheduled.astimezone(dt.UTC).isoformat()}"
    db.session.execute(
        insert_for_dialect(Event)
        .values(
            kind=kind,
            post_id=post_id,
            user_id=user_id,
            payload=payload,
            created=now,
            due=scheduled or now,
            key=key,
            dispatched=False,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if scheduled is None:
        db.session.info.setdefault(RECORDED_DUE_KINDS, set()).add(kind)


def record_post_deletions(posts: sa.Select[int, int | None]) -> None:
    """Record :data:`POST_DELETED` for each post that ``posts`` (their ids and
    authors) selects, in one ``INSERT … SELECT``, before the caller deletes
    them in bulk; the caller commits."""
    now = utcnow()
    selected = posts.subquery()
    rows = sa.select(
        sa.literal(POST_DELETED, sa.String(40)),
        selected.c[0],
        selected.c[1],
        sa.literal({}, sa.JSON),
        sa.literal(now, Event.created.type),
        sa.literal(now, Event.due.type),
        sa.false(),
    )
    columns = ["kind", "post_id", "user_id", "payload", "created", "due", "dispatched"]
    result = db.session.execute(sa.insert(Event).from_select(columns, rows))
    if affected_rows(result):
        db.session.info.setdefault(RECORDED_DUE_KINDS, set()).add(POST_DELETED)


#: Written as the partial indexes' conditions are (``models.Event``,
#: ``models.EventDelivery``), so that both databases read those indexes.
_NOT_DISPATCHED = sa.not_(Event.dispatched)
_UNDONE = (EventDelivery.done.is_(None), sa.not_(EventDelivery.failed))


def _due_events() -> sa.Select[int]:
    return (
        sa.select(Event.id)
        .where(_NOT_DISPATCHED, Event.due <= utcnow())
        .order_by(Event.due, Event.id)
        .limit(BATCH)
    )


def _still_to_come_out(event: Event) -> bool:
    """Whether a publication recorded for later still happens at its time: the
    post is still scheduled for it and not in the trash."""
    if event.kind != POST_PUBLISHED or event.due <= event.created:
        return True
    post = db.session.get(Post, event.post_id) if event.post_id else None
    return post is not None and post.deleted is None and post.published == event.due


def _claim_events() -> list[int]:
    """Mark the due events dispatched for this dispatcher (the caller writes
    their deliveries in the same transaction); other dispatchers skip them."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(_due_events().with_for_update(skip_locked=True)))
        if ids:
            db.session.execute(
                sa.update(Event).where(Event.id.in_(ids)).values(dispatched=True)
            )
        return ids
    won = []
    for event_id in db.session.scalars(_due_events()).all():
        result = db.session.execute(
            sa.update(Event)
            .where(Event.id == event_id, _NOT_DISPATCHED)
            .values(dispatched=True)
            .execution_options(synchronize_session=False)
        )
        if affected_rows(result) == 1:
            won.append(event_id)
    return won


def dispatch_due_events(handlers: t.Sequence[Handler]) -> list[tuple[int, str]]:
    """Give each event whose time has come a delivery for each handler of its
    kind, claimed by this caller for a lease; return those deliveries, as
    (event id, handler name), for the caller to run. Safe to run anywhere at
    once; a caller that dies leaves them to whoever claims them after the
    lease."""
    made: list[tuple[int, str]] = []
    while ids := _claim_events():
        events = db.session.scalars(
            sa.select(Event).where(Event.id.in_(ids)).order_by(Event.id)
        )
        lease = utcnow() + CLAIM_LEASE
        made_now = [
            (event.id, handler.name)
            for event in events
            if _still_to_come_out(event)
            for handler in handlers
            if event.kind in handler.kinds
        ]
        if made_now:
            db.session.execute(
                insert_for_dialect(EventDelivery)
                .values(
                    [
                        {
                            "event_id": event_id,
                            "handler": name,
                            "next_attempt": lease,
                            "attempts": 1,
                            "failed": False,
                        }
                        for event_id, name in made_now
                    ]
                )
                .on_conflict_do_nothing()
            )
        db.session.commit()
        made += made_now
        if len(ids) < BATCH:
            break  # that was all: no need to look again
    return made


def _due_deliveries(names: t.Collection[str]) -> sa.Select[int, str]:
    return (
        sa.select(EventDelivery.event_id, EventDelivery.handler)
        .where(
            *_UNDONE,
            EventDelivery.next_attempt <= utcnow(),
            EventDelivery.handler.in_(names),
        )
        .order_by(EventDelivery.next_attempt, EventDelivery.event_id)
        .limit(BATCH)
    )


def _is(event_id: int, handler: str) -> sa.ColumnElement[bool]:
    return sa.and_(EventDelivery.event_id == event_id, EventDelivery.handler == handler)


def _claim_deliveries(names: t.Collection[str]) -> list[tuple[int, str]]:
    """Take due deliveries for this process, moving each a lease ahead, and
    commit: other processes leave them alone until the lease ends."""
    lease = {
        "next_attempt": utcnow() + CLAIM_LEASE,
        "attempts": EventDelivery.attempts + 1,
    }
    claimed: list[tuple[int, str]] = []
    if db.session.get_bind().dialect.name == "postgresql":
        found = db.session.execute(
            _due_deliveries(names).with_for_update(skip_locked=True)
        )
        claimed = [(row.event_id, row.handler) for row in found]
        for event_id, handler in claimed:
            db.session.execute(
                sa.update(EventDelivery).where(_is(event_id, handler)).values(lease)
            )
    else:
        for row in db.session.execute(_due_deliveries(names)).all():
            won = db.session.execute(
                sa.update(EventDelivery)
                .where(
                    _is(row.event_id, row.handler),
                    EventDelivery.done.is_(None),
                    EventDelivery.next_attempt <= utcnow(),
                )
                .values(lease)
                .execution_options(synchronize_session=False)
            )
            if affected_rows(won) == 1:
                claimed.append((row.event_id, row.handler))
    db.session.commit()
    return claimed


def _retry_later(event_id: int, handler: str, error: Exception) -> None:
    delivery = db.session.get(EventDelivery, (event_id, handler))
    if delivery is None:  # pragma: no cover - the event was deleted meanwhile
        return
    delivery.last_error = f"{type(error).__name__}: {error}"[:500]
    if delivery.attempts >= int(current_app.config["EVENT_MAX_ATTEMPTS"]):
        delivery.failed = True
        event_logger.error(
            "gave up on event %s for %s: %s", event_id, handler, delivery.last_error
        )
    else:
        wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
        delivery.next_attempt = utcnow() + wait
        event_logger.warning(
            "event %s not handled by %s (attempt %s), next in %s: %s",
            event_id,
            handler,
            delivery.attempts,
            wait,
            delivery.last_error,
        )
    db.session.commit()


def _run(handler: Handler, event_id: int) -> bool:
    """Run one claimed delivery; whether the handler finished."""
    try:
        event = db.session.get(Event, event_id)
        if event is not None:
            handler.run(event)
        marked = db.session.execute(
            sa.update(EventDelivery)
            .where(_is(event_id, handler.name), EventDelivery.done.is_(None))
            .values(done=utcnow(), last_error=None)
            .execution_options(synchronize_session=False)
        )
        if affected_rows(marked) != 1:
            # Another process took it over (this one outlived its lease) and
            # finished first: this run's writes must not count twice.
            db.session.rollback()
            return False
        db.session.commit()
    except Exception as error:  # any handler's failure is retried later
        db.session.rollback()
        _retry_later(event_id, handler.name, error)
        return False
    return True


def deliver_due_events(handlers: t.Sequence[Handler]) -> int:
    """Dispatch the events whose time has come, then run each handler on its
    due deliveries; return how many handler runs finished. Safe to run in any
    number of processes and servers at once."""
    by_name = {handler.name: handler for handler in handlers}
    finished = 0
    for event_id, name in dispatch_due_events(handlers):
        finished += _run(by_name[name], event_id)
    while claimed := _claim_deliveries(by_name):
        for event_id, name in claimed:
            finished += _run(by_name[name], event_id)
        if len(claimed) < BATCH:
            break  # that was all that was due
    return finished


def purge_handled_events() -> int:
    """Delete the events older than ``EVENT_KEEP_DAYS`` that every handler is
    done with, and their deliveries; commit, and return how many. Events a
    handler gave up on stay for the operator, and those still to come stay."""
    cutoff = utcnow() - dt.timedelta(days=current_app.config["EVENT_KEEP_DAYS"])
    undone = sa.select(EventDelivery.event_id).where(
        EventDelivery.event_id == Event.id, EventDelivery.done.is_(None)
    )
    result = db.session.execute(
        sa.delete(Event)
        .where(Event.dispatched, Event.created < cutoff, ~sa.exists(undone))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return affected_rows(result)
