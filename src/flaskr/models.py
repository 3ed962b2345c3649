"""The tables, as typed SQLAlchemy models.

Models hold data and the rules that belong to a single row. Queries and writes
that span rows live in the service modules (``accounts``, ``posts``,
``sessions``), and nothing here needs a request or an app context.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import NOW
from flaskr.db import UTCDateTime
from flaskr.db import utcnow

USERNAME_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000
TAG_MAX_LENGTH = 40
MAX_TAGS_PER_POST = 10
COMMENT_MAX_LENGTH = 5_000
ALT_MAX_LENGTH = 300
SUMMARY_MAX_LENGTH = 300
SLUG_MAX_LENGTH = 80
DISPLAY_NAME_MAX_LENGTH = 80
BIO_MAX_LENGTH = 500
WEBSITE_MAX_LENGTH = 500
SITE_TITLE_MAX_LENGTH = 80
SITE_DESCRIPTION_MAX_LENGTH = 300
ABOUT_MAX_LENGTH = 20_000
API_TOKEN_NAME_MAX_LENGTH = 60


def username_key(username: str) -> str:
    """The form of a username that uniqueness and look-ups compare."""
    return username.casefold()


class User(Model):
    # The tutorial's table name, kept so its databases upgrade in place.
    __tablename__ = "user"
    __table_args__ = (
        # An index, not a constraint: SQLite adds no constraint to a table.
        sa.Index("uq_user_email_key", "email_key", unique=True),
        # Ids of deleted rows are never given out again, as in the tutorial.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: As the user typed it, shown everywhere.
    username: Mapped[str] = mapped_column(sa.String)
    #: ``username_key(username)``; unique, so names differing only in case clash.
    username_key: Mapped[str] = mapped_column(sa.String, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String)
    #: ``None`` for accounts carried over from a tutorial database.
    created: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    #: A confirmed address, as the user typed it; ``None`` until one is
    #: confirmed. Never shown to others.
    email: Mapped[str | None] = mapped_column(sa.String(320))
    #: ``email_key(email)``; unique, so one address serves one account.
    email_key: Mapped[str | None] = mapped_column(sa.String(320))
    #: The name bylines show beside the @username; ``None`` for none.
    display_name: Mapped[str | None] = mapped_column(sa.String(DISPLAY_NAME_MAX_LENGTH))
    #: The bio as its author wrote it, and rendered (links only, sanitized).
    bio: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    bio_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: An ``http`` or ``https`` address, shown on the author page.
    website: Mapped[str | None] = mapped_column(sa.String(WEBSITE_MAX_LENGTH))
    #: The picture bylines and the author page show; ``None`` for the default.
    #: A new picture gets a new id, so its URL never shows an older one.
    avatar_id: Mapped[int | None] = mapped_column(sa.ForeignKey("avatar.id"))
    #: The IANA time zone the user last scheduled a post in (``None``: UTC);
    #: their scheduled times are shown in it.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    #: Mail the user when someone comments on their posts (to a confirmed
    #: address only).
    notify_comments: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true()
    )
    #: May change the site's title, description, About page and icon.
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Published and scheduled posts outside the trash, and follows: kept by
    #: triggers (migration 0021), read by author pages and the JSON API.
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(default=0, server_default="0")

    def __init__(self, username: str, password_hash: str) -> None:
        super().__init__(
            username=username,
            username_key=username_key(username),
            password_hash=password_hash,
        )

    @property
    def shown_name(self) -> str:
        """The display name, or the username for an account without one."""
        return self.display_name or self.username

    @property
    def website_label(self) -> str:
        """The website as people write it: without its scheme or a last slash."""
        address = self.website or ""
        return address.partition("://")[2].removesuffix("/") or address

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


class Avatar(Model):
    """A user's picture, cropped square and re-encoded as WebP in two sizes;
    only ``User.avatar_id`` points at it, and it goes with its user."""

    __tablename__ = "avatar"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: For the author page.
    large: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    #: For bylines.
    small: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormerUsername(Model):
    """A name a user gave up: ``/u/<name>`` sends readers to the user's new
    name, and nobody else may register it, until it expires."""

    __tablename__ = "former_username"

    #: ``username_key`` of the old name: one holder at a time.
    username_key: Mapped[str] = mapped_column(sa.String, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Normalized: lower case letters, digits and hyphens.
    name: Mapped[str] = mapped_column(sa.String(TAG_MAX_LENGTH), unique=True)
    #: Published and scheduled posts outside the trash that carry the tag,
    #: kept by triggers (migration 0021).
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Tag {self.name!r}>"


class PostTag(Model):
    """A tag on a post, with the post's publication time copied beside it so a
    tag's page is read from one index, newest first, however many posts exist."""

    __tablename__ = "post_tag"
    __table_args__ = (
        sa.Index("ix_post_tag_tag_id_published", "tag_id", "published", "post_id"),
    )

    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True
    )
    #: ``Post.published`` of the post: ``None`` while it is a draft.
    published: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    tag: Mapped[Tag] = relationship(lazy="joined", innerjoin=True)


class Post(Model):
    __tablename__ = "post"
    __table_args__ = (
        # Published posts, newest first: the index, feeds and the sitemap.
        sa.Index("ix_post_published_id", "published", "id"),
        # An author's published posts and drafts.
        sa.Index("ix_post_author_id_published", "author_id", "published", "id"),
        sa.Index("uq_post_slug", "slug", unique=True),
        # The trash, and purging it. Partial: an index that also held the
        # (nearly all) posts outside the trash would tempt SQLite to read the
        # public lists from it and sort them.
        sa.Index(
            "ix_post_deleted",
            "deleted",
            sqlite_where=sa.text("deleted IS NOT NULL"),
            postgresql_where=sa.text("deleted IS NOT NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``None`` once the author deleted their account and kept their posts.
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the post was last edited; ``None`` if it never was.
    updated: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The date readers see; ``None`` while the post is a draft.
    published: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(sa.String)
    #: The Markdown source, as the author wrote it.
    body: Mapped[str] = mapped_column(sa.Text)
    #: ``body`` rendered and sanitized, when the post was saved.
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: What a reader reads of ``body_html``, without markup: searched, and
    #: shown in pieces in search results.
    body_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: What lists, feeds and link previews show: the summary, or without one
    #: the start of the text, without markup.
    excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    #: Words in ``body_text``, kept at save for reading times in lists.
    word_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The writer's own summary, as typed; empty for none.
    summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: The readable part of the post's address (``/p/<slug>``): unique, made
    #: from the title unless the writer chose one.
    slug: Mapped[str | None] = mapped_column(sa.String(SLUG_MAX_LENGTH))
    #: When the author moved it to the trash; ``None`` while it is not there.
    deleted: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Kept by the posts service as likes and comments come and go, so lists
    #: show them without counting rows.
    like_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    #: Moves by one with each save by the author, so a save from a form opened
    #: at an older version is refused instead of mixed into a newer one.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: ``site_version.reactions`` when the post was last liked, unliked or
    #: commented on, kept by triggers (migration 0022): servers drop the kept
    #: pages showing this post's reactions, and no others. A statement that
    #: sets it to -1 marks itself as a reaction (``reactions.REACTED``).
    reactions_version: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default="0", index=True
    )

    author: Mapped[User | None] = relationship(lazy="joined")
    tag_links: Mapped[list[PostTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="PostTag.tag_id"
    )

    image: Mapped[Image | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", uselist=False
    )

    @property
    def is_draft(self) -> bool:
        return self.published is None

    @property
    def is_scheduled(self) -> bool:
        """Set to be published at a time still to come."""
        return self.published is not None and self.published > utcnow()

    @property
    def is_pending(self) -> bool:
        """Not out yet: a draft, or scheduled. Its writer may still schedule
        it, publish it now or keep it a draft."""
        return self.published is None or self.published > utcnow()

    @property
    def author_name(self) -> str | None:
        """The author's username; ``None`` once their account is deleted."""
        return self.author.username if self.author else None

    @property
    def author_display_name(self) -> str | None:
        return self.author.display_name if self.author else None

    @property
    def author_avatar_id(self) -> int | None:
        return self.author.avatar_id if self.author else None

    @hybrid_property
    def is_public(self) -> bool:
        """Published, at a time already come, and not in the trash: anyone may
        read it. Also usable in queries (``.where(Post.is_public)``), so the
        rule is written once."""
        return (
            self.published is not None
            and self.published <= utcnow()
            and self.deleted is None
        )

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(
            cls.published.is_not(None), cls.published <= NOW, cls.deleted.is_(None)
        )

    @property
    def tag_names(self) -> list[str]:
        return sorted(link.tag.name for link in self.tag_links)

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.title!r}>"


class PostRevision(Model):
    """A post as one save left it: kept so its writer can see what changed
    and go back (``services/revisions.py``)."""

    __tablename__ = "post_revision"
    __table_args__ = (
        # A post's revisions, newest first.
        sa.Index("ix_post_revision_post_id_id", "post_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    #: Who saved it; ``None`` once their account is deleted.
    saved_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[str] = mapped_column(sa.String)
    body: Mapped[str] = mapped_column(sa.Text)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: The tags' names, comma-separated, as the form shows them.
    tags: Mapped[str] = mapped_column(sa.Text, default="")

    saver: Mapped[User | None] = relationship(lazy="joined")


class Image(Model):
    """A post's picture, stored in the database so that every app server can
    serve it: a display size and a thumbnail, both re-encoded as WebP."""

    __tablename__ = "image"
    # A replaced image gets a new id (and URL), so caches never serve the old
    # one: ids are never reused.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), unique=True
    )
    alt: Mapped[str] = mapped_column(sa.String(ALT_MAX_LENGTH))
    width: Mapped[int]
    height: Mapped[int]
    display: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    thumbnail: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaImage(Model):
    """A picture in a writer's library, placed in posts' text by Markdown
    (``![alt](/media/<key>.webp)``): re-encoded as WebP in two sizes. Its
    address carries a random key, so a picture not yet in a published post
    cannot be found by counting."""

    __tablename__ = "media_image"
    __table_args__ = (
        sa.Index("ix_media_image_user_id_id", "user_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    #: ``None`` once its writer deleted their account and kept their posts.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    alt: Mapped[str] = mapped_column(sa.String(ALT_MAX_LENGTH))
    width: Mapped[int]
    height: Mapped[int]
    display: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    thumbnail: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HeldImage(Model):
    """An image a writer chose in a post form that was not saved yet (a
    preview, a field to fix, a refused save): processed once and kept for its
    writer a while, named by the form, until the post is saved with it."""

    __tablename__ = "held_image"
    __table_args__ = (
        sa.Index("ix_held_image_user_id_created", "user_id", "created"),
        sa.Index("ix_held_image_created", "created"),
        # A form names its image by id: an id never names another later.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    width: Mapped[int]
    height: Mapped[int]
    display: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    thumbnail: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMail(Model):
    """A mail to send, recorded in the same transaction as what caused it and
    sent afterwards by ``services/mail.py``, so no mail is lost when a worker
    dies or the SMTP server is down, and none is sent for a change that was
    rolled back."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        # The unsent mails, soonest due first: what a sender looks for.
        sa.Index(
            "ix_outbox_mail_due",
            "next_attempt",
            sqlite_where=sa.text("sent IS NULL"),
            postgresql_where=sa.text("sent IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(200))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    #: Made when recorded, so a mail sent twice (a sender that died between
    #: the SMTP server's answer and marking it sent) is one message to clients.
    message_id: Mapped[str] = mapped_column(sa.String(200))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: No sender tries it before this; a sender that takes it moves this on
    #: (its lease), so a sender that dies leaves it to the next one.
    next_attempt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the SMTP server accepted it; ``None`` until then.
    sent: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The SMTP server's last refusal, for the operator (no secrets in it).
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Given up after ``MAIL_MAX_ATTEMPTS``: kept, and logged, for the operator.
    failed: Mapped[bool] = mapped_column(default=False)


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
    #: The handler's name in the handler table (``services/handlers.py``).
    handler: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: Nobody tries it before this; a claim moves it a lease ahead.
    next_attempt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the handler finished, in the same transaction as its own writes.
    done: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Given up after ``EVENT_MAX_ATTEMPTS``: kept, and logged, for the operator.
    failed: Mapped[bool] = mapped_column(default=False)


class AccountToken(Model):
    """A one-time link sent by mail: to confirm an address or to reset a
    password. Only the SHA-256 of its token is stored."""

    __tablename__ = "account_token"
    __table_args__ = (sa.Index("ix_account_token_user_id", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    #: ``confirm_email`` or ``reset_password``.
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The address a ``confirm_email`` link confirms.
    email: Mapped[str | None] = mapped_column(sa.String(320))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was used, or voided by a newer one; a link works only before.
    used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Like(Model):
    __tablename__ = "post_like"
    __table_args__ = (
        # A user's likes, most recent first.
        sa.Index("ix_post_like_user_id_created", "user_id", "created", "post_id"),
    )

    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Model):
    """``follower`` reads ``followed``'s posts on their Following page.

    Triggers keep both users' counts and move the site version (migration
    0021)."""

    __tablename__ = "follow"
    __table_args__ = (
        # A writer's followers.
        sa.Index("ix_follow_followed_id", "followed_id", "follower_id"),
    )

    follower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Model):
    """A token a JSON API client sends as ``Authorization: Token …``."""

    __tablename__ = "api_token"

    #: SHA-256 of the token, so a copy of the table opens no account.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: The client that logged in, as it named itself.
    user_agent: Mapped[str] = mapped_column(
        sa.String(200), default="", server_default=""
    )
    #: What its owner named it when making it on the account page; empty for
    #: the token of an API login.
    name: Mapped[str] = mapped_column(
        sa.String(API_TOKEN_NAME_MAX_LENGTH), default="", server_default=""
    )


class Comment(Model):
    __tablename__ = "comment"
    __table_args__ = (
        # A post's comments, oldest first.
        sa.Index("ix_comment_post_id_created", "post_id", "created", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    #: ``None`` once the author deleted their account and kept their writing.
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    #: ``body`` with light Markdown (emphasis, code, links), cleaned.
    body_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its author last edited it; ``None`` if they never did.
    edited: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship(lazy="joined")


class AuthSession(Model):
    """A browser session kept on the server; the cookie holds only its token."""

    __tablename__ = "auth_session"

    #: SHA-256 of the token in the cookie, so a copy of the table opens no session.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The logged-in user, or ``None`` for a visitor (who may hold a CSRF token).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    last_seen: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The rest of the session (CSRF token, flashed messages) as JSON.
    data: Mapped[str] = mapped_column(sa.Text, default="{}")


class SiteVersion(Model):
    """One row counting changes to what readers see.

    Database triggers (migration 0006) add one in the same transaction as every
    write to posts, tags, images, likes, comments and usernames, so a page
    rendered at version N is exact while the count is still N; the page cache
    (``page_cache``) relies on that on every server.
    """

    __tablename__ = "site_version"

    #: Always 1: the table has one row.
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: The soonest time a scheduled post comes out, or ``None``: pages kept
    #: before it are not served after it, and the first request after it
    #: moves the version (``posts.publish_due``).
    next_publication: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Published and scheduled posts outside the trash, kept by triggers
    #: (migration 0021).
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Moved instead of ``value`` by likes and comments, which stamp their
    #: posts with it (``Post.reactions_version``, migration 0022).
    reactions: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class ArchiveMonth(Model):
    """How many posts came out in a month (UTC) that are published or
    scheduled and not in the trash: kept by triggers on ``post`` (migration
    0024), so the archive never counts a month's posts."""

    __tablename__ = "archive_month"

    #: ``year * 100 + month``: 202612 is December 2026.
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")


class SiteSettings(Model):
    """The site's identity, set by an administrator: one row (id 1).

    A trigger moves ``site_version`` with every change (migration 0020): every
    page shows the title. Empty text means the configured default.
    """

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(
        sa.String(SITE_TITLE_MAX_LENGTH), default="", server_default=""
    )
    description: Mapped[str] = mapped_column(
        sa.String(SITE_DESCRIPTION_MAX_LENGTH), default="", server_default=""
    )
    #: The About page's Markdown, and rendered like a post's.
    about: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    about_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: Set post text (and the About page) in a serif typeface.
    serif_body: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Names the current icon in its addresses (a new key per picture, so
    #: browsers may keep each one for good); ``None``: the default icon.
    icon_key: Mapped[str | None] = mapped_column(sa.String(32))
    #: The icon as square PNGs: large for home screens, small for tabs.
    icon_large: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    icon_small: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
