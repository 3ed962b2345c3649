"""The fediverse's rows (``services/federation/``): this site's actors' keys,
the remote actors it has met, who follows its writers from elsewhere, what
they did to its posts, the domains it will not talk to, and the activities
waiting to be delivered to remote inboxes."""

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

#: Longest address kept of a remote object (actor, inbox, activity id).
URI_MAX_LENGTH = 2048
#: Longest domain name (RFC 1035), with a port.
DOMAIN_MAX_LENGTH = 260

#: ``RemoteFollower.state``: following, or waiting for the writer's approval.
ACCEPTED = "accepted"
PENDING = "pending"
#: ``RemoteReaction.kind``.
LIKE = "like"
ANNOUNCE = "announce"
#: ``ActorKey.owner`` of the site's own actor, which signs fetches.
SITE_OWNER = "site"


class ActorKey(Model):
    """An actor's RSA key pair: the site's (``owner`` ``"site"``) or a
    writer's (``owner`` their user id as text). No foreign key: a deleted
    writer's key signs the ``Delete`` of their actor, then goes."""

    __tablename__ = "actor_key"

    owner: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    public_pem: Mapped[str] = mapped_column(sa.Text)
    #: PKCS#8 PEM, encrypted with a key derived from ``SECRET_KEY``.
    private_pem: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteActor(Model):
    """An actor on another server, as last fetched: its key checks the
    signatures of what it sends, its inbox receives what it follows."""

    __tablename__ = "remote_actor"
    __table_args__ = (
        sa.Index("uq_remote_actor_uri", "uri", unique=True),
        sa.Index("ix_remote_actor_key_id", "key_id"),
        sa.Index("ix_remote_actor_domain", "domain"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Its ``id``: where it is fetched.
    uri: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: The host of ``uri``, lower case (with a port if not the default).
    domain: Mapped[str] = mapped_column(sa.String(DOMAIN_MAX_LENGTH))
    inbox: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    shared_inbox: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: ``preferredUsername``; with ``domain`` the handle ``@username@domain``.
    username: Mapped[str] = mapped_column(sa.String(200))
    #: ``name``, as plain text; empty for none.
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Its profile page (``url``), an ``http(s)`` address or ``None``.
    profile_url: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: Its avatar's address (linked, never fetched), or ``None``.
    icon_url: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))
    key_id: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    public_key_pem: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was last fetched; a signature its key does not check fetches
    #: it again (the key may have been rotated), at most once a minute.
    fetched: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def handle(self) -> str:
        """``@username@domain``, as the fediverse writes an account."""
        return f"@{self.username}@{self.domain}"

    @property
    def shown_name(self) -> str:
        return self.name or self.username


class RemoteFollower(Model):
    """A remote actor following one of this site's writers."""

    __tablename__ = "remote_follower"
    __table_args__ = (
        sa.Index("ix_remote_follower_actor_id", "actor_id"),
        sa.Index("ix_remote_follower_user_id_state", "user_id", "state", "created"),
    )

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remote_actor.id", ondelete="CASCADE"), primary_key=True
    )
    #: :data:`ACCEPTED` or :data:`PENDING` (the writer approves followers).
    state: Mapped[str] = mapped_column(sa.String(10), default=ACCEPTED)
    #: The ``Follow`` activity's id: the ``Accept`` names it, an ``Undo`` of it
    #: ends the follow.
    follow_id: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteReaction(Model):
    """A ``Like`` or an ``Announce`` (boost) of a post by a remote actor,
    counted on the post (``Post.fediverse_likes``, ``fediverse_shares``)."""

    __tablename__ = "remote_reaction"
    __table_args__ = (
        sa.Index("uq_remote_reaction_activity_id", "activity_id", unique=True),
        sa.Index(
            "uq_remote_reaction_post_actor_kind",
            "post_id",
            "actor_id",
            "kind",
            unique=True,
        ),
        sa.Index("ix_remote_reaction_actor_id", "actor_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remote_actor.id", ondelete="CASCADE")
    )
    #: :data:`LIKE` or :data:`ANNOUNCE`.
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: The activity's id: its ``Undo`` names it.
    activity_id: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockedDomain(Model):
    """A server this site will not talk to: its activities are refused, its
    followers dropped, nothing is delivered to it. A block covers the
    domain's subdomains too."""

    __tablename__ = "blocked_domain"

    domain: Mapped[str] = mapped_column(sa.String(DOMAIN_MAX_LENGTH), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The administrator who blocked it; ``None`` once their account is gone.
    blocked_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FederationDelivery(Model):
    """One activity to POST to one remote inbox, claimed, retried and marked
    done as the mail outbox does with a mail; the pair (activity, inbox) is
    unique, so an activity reaches an inbox once however often its handler
    runs."""

    __tablename__ = "federation_delivery"
    __table_args__ = (
        sa.Index(
            "uq_federation_delivery_activity_inbox",
            "activity_id",
            "inbox",
            unique=True,
        ),
        # Deliveries still to make, soonest due first (written as the event
        # line's partial indexes are, so both databases read it).
        sa.Index(
            "ix_federation_delivery_due",
            "next_attempt",
            "id",
            sqlite_where=sa.text("done IS NULL AND failed = 0"),
            postgresql_where=sa.text("done IS NULL AND NOT failed"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The activity's ``id``.
    activity_id: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    inbox: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: The activity, as JSON to send as it is.
    activity: Mapped[dict[str, t.Any]] = mapped_column(sa.JSON)
    #: ``ActorKey.owner`` of the actor that signs it.
    signer: Mapped[str] = mapped_column(sa.String(40))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Nobody tries it before this; a claim moves it a lease ahead.
    next_attempt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Given up after ``FEDERATION_MAX_ATTEMPTS``, or refused for good (4xx).
    failed: Mapped[bool] = mapped_column(default=False)


class RemoteFollowing(Model):
    """One of this site's users following a remote actor: its posts reach
    the user's fediverse reading page (``RemotePost``)."""

    __tablename__ = "remote_following"
    __table_args__ = (sa.Index("ix_remote_following_actor_id", "actor_id"),)

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remote_actor.id", ondelete="CASCADE"), primary_key=True
    )
    #: :data:`PENDING` until the remote server sends ``Accept``.
    state: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    #: Our ``Follow`` activity's id: its ``Accept`` and our ``Undo`` name it.
    follow_id: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemotePost(Model):
    """A post (``Article`` or ``Note``) by a remote actor that someone here
    follows, as it arrived: sanitised, shown on the readers' fediverse page,
    and answerable with a reply (``RemoteReply``)."""

    __tablename__ = "remote_post"
    __table_args__ = (
        sa.Index("uq_remote_post_uri", "uri", unique=True),
        sa.Index("ix_remote_post_actor_id_published", "actor_id", "published"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remote_actor.id", ondelete="CASCADE")
    )
    #: The object's ``id``.
    uri: Mapped[str] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: Its page there, an ``http(s)`` address or ``None``.
    url: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))
    #: ``name`` (an ``Article``'s title), plain text; empty for a ``Note``.
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    #: ``content``, sanitised.
    content_html: Mapped[str] = mapped_column(sa.Text, default="")
    published: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteReply(Model):
    """A reply written here to a remote post: sent as a ``Note`` (id
    ``/ap/replies/<id>``, served so the remote server can fetch it)."""

    __tablename__ = "remote_reply"
    __table_args__ = (
        sa.Index("ix_remote_reply_remote_post_id", "remote_post_id", "id"),
        sa.Index("ix_remote_reply_user_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    remote_post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remote_post.id", ondelete="CASCADE")
    )
    #: As typed (light Markdown, as comments), and rendered.
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
