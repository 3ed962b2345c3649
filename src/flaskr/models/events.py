"""The event line's rows: what happened (``Event``), recorded with the change
that made it, and each handler's progress with it (``EventDelivery``); see
``services/base/events.py``."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow


class Event(Model):
    """Something that happened (a post published, an account renamed),
    recorded in the same transaction as the change, and handed afterwards to
    each handler that wants its kind (``services/base/events.py``).

    No foreign keys: a post's or user's deleted event outlives its row.
    """

    __tablename__ = "event"
    __table_args__ = (
        # Events not yet handed to their handlers, soonest first. Each
        # condition is written as SQLAlchemy writes ``not_(dispatched)`` for
        # that database, or the planner would not see that the index serves.
        sa.Index(
            "ix_event_due",
            "due",
            "id",
            sqlite_where=sa.text("dispatched = 0"),
            postgresql_where=sa.text("NOT dispatched"),
        ),
        # Set only for a scheduled publication, so scheduling the same post for
        # the same time twice records one event.
        sa.Index("uq_event_key", "key", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: What happened, as ``subject.verb`` (``post.published``).
    kind: Mapped[str] = mapped_column(sa.String(40))
    post_id: Mapped[int | None] = mapped_column(BigId)
    user_id: Mapped[int | None] = mapped_column(BigId)
    #: What handlers need beyond the ids, as they were at the time.
    payload: Mapped[dict[str, t.Any]] = mapped_column(sa.JSON, default=dict)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it happens: ``created``, or a scheduled post's time to come.
    due: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    key: Mapped[str | None] = mapped_column(sa.String(120))
    #: Handed to its handlers (a delivery row each), or found void.
    dispatched: Mapped[bool] = mapped_column(default=False)


class EventDelivery(Model):
    """One handler's progress with one event: claimed, retried and marked done
    as the outbox does with a mail (``OutboxMail``)."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        # Deliveries still to make, soonest due first (written as for
        # ``ix_event_due``).
        sa.Index(
            "ix_event_delivery_due",
            "next_attempt",
            "event_id",
            sqlite_where=sa.text("done IS NULL AND failed = 0"),
            postgresql_where=sa.text("done IS NULL AND NOT failed"),
        ),
    )

    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    #: The handler's name in the handler table (``services/event_handlers.py``).
    handler: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: Nobody tries it before this; a claim moves it a lease ahead.
    next_attempt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the handler finished, in the same transaction as its own writes.
    done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Given up after ``EVENT_MAX_ATTEMPTS``: kept, and logged, for the operator.
    failed: Mapped[bool] = mapped_column(default=False)
