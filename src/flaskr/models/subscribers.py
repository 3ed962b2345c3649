"""Readers who follow by e-mail: subscribers without accounts, what each
follows, and which posts each was mailed (so a post is mailed once)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow

#: How a subscriber is mailed: each post as it comes out, or a weekly digest.
EACH_POST = "each"
WEEKLY = "weekly"


class Subscriber(Model):
    """An address that follows the site or some writers by mail. Nothing but
    the confirmation mail goes to it until ``confirmed`` (double opt-in)."""

    __tablename__ = "subscriber"
    __table_args__ = (
        sa.Index("uq_subscriber_email_key", "email_key", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: As typed; ``email_key`` is its comparison key (``recovery.email_key``).
    email: Mapped[str] = mapped_column(sa.String(320))
    email_key: Mapped[str] = mapped_column(sa.String(320))
    #: The account that subscribed with its confirmed address, if any: its
    #: deletion removes the subscriber, its suspension stops the mails.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its confirmation link was opened (and its button pressed).
    confirmed: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: :data:`EACH_POST` or :data:`WEEKLY`.
    cadence: Mapped[str] = mapped_column(
        sa.String(10), default=EACH_POST, server_default=EACH_POST
    )
    #: Random, in every signed link for this subscriber (confirm, preferences,
    #: unsubscribe); a new one voids the links mailed before.
    link_key: Mapped[str] = mapped_column(sa.String(64))
    #: When the last weekly digest was mailed to it.
    last_digest: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Subscription(Model):
    """One thing a subscriber follows: a writer, or the whole site
    (``author_id`` ``None``)."""

    __tablename__ = "subscription"
    __table_args__ = (
        sa.Index(
            "uq_subscription_author",
            "subscriber_id",
            "author_id",
            unique=True,
            sqlite_where=sa.text("author_id IS NOT NULL"),
            postgresql_where=sa.text("author_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_subscription_site",
            "subscriber_id",
            unique=True,
            sqlite_where=sa.text("author_id IS NULL"),
            postgresql_where=sa.text("author_id IS NULL"),
        ),
        # A writer's subscribers: the fan-out and the writer's count.
        sa.Index("ix_subscription_author_id", "author_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostMailing(Model):
    """A post mailed (or put in a digest) to a subscriber: at most one row per
    pair, so a fan-out that runs again, on this server or another, skips
    who already has it."""

    __tablename__ = "post_mailing"

    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    #: The outbox mail that carries it; ``None`` while it waits for a digest.
    mail_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_mail.id", ondelete="SET NULL")
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
