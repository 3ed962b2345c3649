"""The site's own rows: the mail outbox, the version the page cache relies
on, the archive's monthly counts and the settings an administrator sets."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow
from flaskr.models.limits import SITE_DESCRIPTION_MAX_LENGTH
from flaskr.models.limits import SITE_TITLE_MAX_LENGTH


class OutboxMail(Model):
    """A mail to send, recorded in the same transaction as what caused it and
    sent afterwards by ``services/base/mail.py``, so no mail is lost when a worker
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
    #: Headers of its own as JSON (``{"List-Unsubscribe": "<…>"}``); empty
    #: for most mails.
    headers: Mapped[str] = mapped_column(sa.Text, default="", server_default="")


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
    #: moves the version (``content.lifecycle.publish_due``).
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
    #: Who may join: ``open``, ``approval``, ``invitation`` or ``closed``.
    join_mode: Mapped[str] = mapped_column(
        sa.String(12), default="open", server_default="open"
    )
    #: The role a new account gets (``author``, as before roles).
    default_role: Mapped[str] = mapped_column(
        sa.String(12), default="author", server_default="author"
    )
    #: Mail domains refused at registration, one per line.
    refused_email_domains: Mapped[str] = mapped_column(
        sa.Text, default="", server_default=""
    )
    #: Who may comment: ``anyone`` logged in, ``members`` with a published
    #: post, or ``nobody``.
    comment_policy: Mapped[str] = mapped_column(
        sa.String(12), default="anyone", server_default="anyone"
    )
    #: The hold rules that are on, comma-separated (``services/social/
    #: moderation.py`` names them); ``None``: ``COMMENT_HOLD_RULES``.
    hold_rules: Mapped[str | None] = mapped_column(sa.String(200))
    #: The ``links`` rule holds a comment with more links than this.
    hold_link_limit: Mapped[int] = mapped_column(default=2, server_default="2")
    #: The ``words`` rule holds a comment with one of these, one per line.
    hold_words: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: The ``young_account`` rule holds comments of accounts younger than this.
    hold_account_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    #: Administrators and editors must have a second factor (a passkey or
    #: an authenticator app) before they do anything else.
    second_factor_required: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    #: Writers see their subscribers' addresses, not only how many there are.
    writers_see_subscribers: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
