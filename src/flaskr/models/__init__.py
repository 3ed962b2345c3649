"""The tables, as typed SQLAlchemy models.

Models hold data and the rules that belong to a single row. Queries and writes
that span rows live in the service packages (``services.accounts``,
``services.content`` …), and nothing here needs a request or an app context.

The users' and their writing's tables are here; the column limits are in
:mod:`~flaskr.models.limits`, the sign-in rows (tokens, sessions) in
:mod:`~flaskr.models.access` and the site's own rows (mail outbox, version,
settings) in :mod:`~flaskr.models.site`, the event line in
:mod:`~flaskr.models.events`. All of them are imported from here,
``from flaskr.models import Post``, as before the split.
"""

from __future__ import annotations

import datetime as dt

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

# "as" marks them re-exported (mypy strict exports no plain import).
from flaskr.models.access import AccountToken as AccountToken
from flaskr.models.access import ApiToken as ApiToken
from flaskr.models.access import AuthSession as AuthSession
from flaskr.models.events import Event as Event
from flaskr.models.events import EventDelivery as EventDelivery
from flaskr.models.factors import AuthenticatorApp as AuthenticatorApp
from flaskr.models.factors import Passkey as Passkey
from flaskr.models.factors import RecoveryCode as RecoveryCode
from flaskr.models.federation import ActorKey as ActorKey
from flaskr.models.federation import BlockedDomain as BlockedDomain
from flaskr.models.federation import FederationDelivery as FederationDelivery
from flaskr.models.federation import RemoteActor as RemoteActor
from flaskr.models.federation import RemoteFollower as RemoteFollower
from flaskr.models.federation import RemoteFollowing as RemoteFollowing
from flaskr.models.federation import RemotePost as RemotePost
from flaskr.models.federation import RemoteReaction as RemoteReaction
from flaskr.models.federation import RemoteReply as RemoteReply
from flaskr.models.federation import URI_MAX_LENGTH
from flaskr.models.governance import ACTIVE as ACTIVE
from flaskr.models.governance import ADMIN as ADMIN
from flaskr.models.governance import AuditEntry as AuditEntry
from flaskr.models.governance import AUTHOR as AUTHOR
from flaskr.models.governance import Invitation as Invitation
from flaskr.models.governance import Report as Report
from flaskr.models.governance import VISIBLE as VISIBLE
from flaskr.models.limits import ABOUT_MAX_LENGTH as ABOUT_MAX_LENGTH
from flaskr.models.limits import ALT_MAX_LENGTH as ALT_MAX_LENGTH
from flaskr.models.limits import API_TOKEN_NAME_MAX_LENGTH as API_TOKEN_NAME_MAX_LENGTH
from flaskr.models.limits import BIO_MAX_LENGTH as BIO_MAX_LENGTH
from flaskr.models.limits import BODY_MAX_LENGTH as BODY_MAX_LENGTH
from flaskr.models.limits import COMMENT_MAX_LENGTH as COMMENT_MAX_LENGTH
from flaskr.models.limits import DISPLAY_NAME_MAX_LENGTH as DISPLAY_NAME_MAX_LENGTH
from flaskr.models.limits import MAX_TAGS_PER_POST as MAX_TAGS_PER_POST
from flaskr.models.limits import (
    SITE_DESCRIPTION_MAX_LENGTH as SITE_DESCRIPTION_MAX_LENGTH,
)
from flaskr.models.limits import SITE_TITLE_MAX_LENGTH as SITE_TITLE_MAX_LENGTH
from flaskr.models.limits import SLUG_MAX_LENGTH as SLUG_MAX_LENGTH
from flaskr.models.limits import SUMMARY_MAX_LENGTH as SUMMARY_MAX_LENGTH
from flaskr.models.limits import TAG_MAX_LENGTH as TAG_MAX_LENGTH
from flaskr.models.limits import TITLE_MAX_LENGTH as TITLE_MAX_LENGTH
from flaskr.models.limits import USERNAME_MAX_LENGTH as USERNAME_MAX_LENGTH
from flaskr.models.limits import WEBSITE_MAX_LENGTH as WEBSITE_MAX_LENGTH
from flaskr.models.site import ArchiveMonth as ArchiveMonth
from flaskr.models.site import OutboxMail as OutboxMail
from flaskr.models.site import SiteSettings as SiteSettings
from flaskr.models.site import SiteVersion as SiteVersion
from flaskr.models.subscribers import PostMailing as PostMailing
from flaskr.models.subscribers import Subscriber as Subscriber
from flaskr.models.subscribers import Subscription as Subscription


def username_key(username: str) -> str:
    """The form of a username that uniqueness and look-ups compare."""
    return username.casefold()


class User(Model):
    # The tutorial's table name, kept so its databases upgrade in place.
    __tablename__ = "user"
    __table_args__ = (
        # An index, not a constraint: SQLite adds no constraint to a table.
        sa.Index("uq_user_email_key", "email_key", unique=True),
        sa.Index("uq_user_webauthn_handle", "webauthn_handle", unique=True),
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
    #: What the account may do (``services/base/roles.py``): ``admin``,
    #: ``editor``, ``author``, ``contributor`` or ``reader``.
    role: Mapped[str] = mapped_column(
        sa.String(12), default=AUTHOR, server_default=AUTHOR
    )
    #: ``active``; ``pending`` until approved (join by approval); ``suspended``
    #: (its writing withheld from readers until lifted); ``removed`` (its
    #: writing in the trash until purged with the account).
    state: Mapped[str] = mapped_column(
        sa.String(12), default=ACTIVE, server_default=ACTIVE, index=True
    )
    #: Why it was suspended or removed, shown to the user; empty otherwise.
    state_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: When ``state`` last changed (a removal's trash period counts from it).
    state_changed: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The last login or request seen from its sessions and tokens, to the hour.
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The random user handle its passkeys carry (WebAuthn's ``user.id``),
    #: made with the first: it names no one outside this site.
    webauthn_handle: Mapped[bytes | None] = mapped_column(sa.LargeBinary(64))
    #: Published and scheduled posts outside the trash, and follows: kept by
    #: triggers (migration 0021), read by author pages and the JSON API.
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Followers from the fediverse wait for the writer's approval.
    approve_fediverse_followers: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )

    def __init__(self, username: str, password_hash: str) -> None:
        super().__init__(
            username=username,
            username_key=username_key(username),
            password_hash=password_hash,
        )

    @hybrid_property
    def is_admin(self) -> bool:
        """May do everything, settings and roles included."""
        return self.role == ADMIN

    @is_admin.inplace.expression
    @classmethod
    def _is_admin_expression(cls) -> sa.ColumnElement[bool]:
        return cls.role == ADMIN

    @property
    def is_active(self) -> bool:
        """Neither waiting for approval, suspended nor removed."""
        return self.state == ACTIVE

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
    #: Likes and boosts (``Announce``) from the fediverse, kept by the
    #: federation service as ``RemoteReaction`` rows come and go.
    fediverse_likes: Mapped[int] = mapped_column(default=0, server_default="0")
    fediverse_shares: Mapped[int] = mapped_column(default=0, server_default="0")
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
    #: Hidden from readers while its author is suspended; its writer and
    #: the moderators still see it.
    withheld: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Readers may comment on it (as the site's comment setting allows).
    comments_open: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: Mailed to the subscribers of its writer and the site when it comes
    #: out; its writer may say no for a post.
    mail_subscribers: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true()
    )
    #: When a contributor submitted the draft for an editor to publish;
    #: ``None`` when it waits for nobody.
    review_requested: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

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
            and not self.withheld
        )

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(
            cls.published.is_not(None),
            cls.published <= NOW,
            cls.deleted.is_(None),
            cls.withheld.is_(False),
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


class Comment(Model):
    __tablename__ = "comment"
    __table_args__ = (
        # A post's comments, oldest first.
        sa.Index("ix_comment_post_id_created", "post_id", "created", "id"),
        sa.Index("uq_comment_remote_id", "remote_id", unique=True),
        # The moderation queue: held comments, oldest first.
        sa.Index(
            "ix_comment_held",
            "created",
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        ),
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
    #: ``visible``; ``held`` for moderation (seen by its writer and the
    #: moderators only); ``rejected`` or ``spam`` once a moderator said so.
    state: Mapped[str] = mapped_column(
        sa.String(10), default=VISIBLE, server_default=VISIBLE
    )
    #: Why it was held (the rule that held it), for the moderation queue.
    hold_reason: Mapped[str] = mapped_column(
        sa.String(200), default="", server_default=""
    )
    #: Hidden from readers while its author is suspended.
    withheld: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: A reply from the fediverse: its remote author (``author_id`` is then
    #: ``None``), the ``Note``'s id (unique) and its page there. Removing a
    #: remote actor removes its comments first (the posts' counts change).
    remote_actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("remote_actor.id"), index=True
    )
    remote_id: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))
    remote_url: Mapped[str | None] = mapped_column(sa.String(URI_MAX_LENGTH))

    author: Mapped[User | None] = relationship(lazy="joined")
    remote_actor: Mapped[RemoteActor | None] = relationship(lazy="joined")
