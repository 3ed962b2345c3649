"""The rows that let administrators govern the site: invitations to join,
readers' reports and the audit log of what moderators decided.

The names of roles, account states and comment states are here too, so
that models and migrations share one spelling.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow

#: Roles, from the most to the least trusted (``services/base/roles.py``
#: says what each may do).
ADMIN = "admin"
EDITOR = "editor"
AUTHOR = "author"
CONTRIBUTOR = "contributor"
READER = "reader"
ROLES = (ADMIN, EDITOR, AUTHOR, CONTRIBUTOR, READER)

#: Account states (``User.state``).
ACTIVE = "active"
PENDING = "pending"
SUSPENDED = "suspended"
REMOVED = "removed"
ACCOUNT_STATES = (ACTIVE, PENDING, SUSPENDED, REMOVED)
#: States whose account readers do not see: no author page or profile, and
#: its posts, comments, likes and follows are left out of every public page.
WITHDRAWN_STATES = (SUSPENDED, REMOVED)

#: Comment states (``Comment.state``).
VISIBLE = "visible"
HELD = "held"
REJECTED = "rejected"
SPAM = "spam"
COMMENT_STATES = (VISIBLE, HELD, REJECTED, SPAM)

#: What a report is about (``Report.subject``).
REPORTED_SUBJECTS = ("post", "comment", "user")


class Invitation(Model):
    """A single-use link to join a site that takes members by invitation.
    Only the SHA-256 of its token is stored."""

    __tablename__ = "invitation"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Who made it; ``None`` once their account is gone.
    created_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The role the account made with it gets.
    role: Mapped[str] = mapped_column(sa.String(12))
    #: When it was used (or withdrawn); a link works only before.
    used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The account made with it.
    used_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )


class Report(Model):
    """A reader's report of a post, a comment or a profile: one per reader
    and item, in the moderation queue until a moderator resolves it."""

    __tablename__ = "report"
    __table_args__ = (
        sa.Index(
            "uq_report_reporter_subject",
            "reporter_id",
            "subject",
            "subject_id",
            unique=True,
        ),
        # The queue: open reports, oldest first.
        sa.Index(
            "ix_report_open",
            "created",
            sqlite_where=sa.text("resolved IS NULL"),
            postgresql_where=sa.text("resolved IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    #: ``post``, ``comment`` or ``user``.
    subject: Mapped[str] = mapped_column(sa.String(10))
    #: The id of the post, comment or user reported (no foreign key: a
    #: report outlives what it reported, for the audit).
    subject_id: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a moderator resolved it; ``None`` while it is open.
    resolved: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    #: What the moderator decided, in a few words.
    resolution: Mapped[str] = mapped_column(
        sa.String(200), default="", server_default=""
    )


class AuditEntry(Model):
    """One decision of an administrator or a moderator: who, what, when and
    why. Names are copied, so an entry still reads after an account is gone."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_created", "created", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    #: The actor's username then; empty for the site itself (a command).
    actor_name: Mapped[str] = mapped_column(sa.String, default="", server_default="")
    #: What was done: ``role_changed``, ``approved``, ``suspended`` …
    action: Mapped[str] = mapped_column(sa.String(40))
    #: The account it was done to, or the writer of the post or comment.
    subject_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    subject_name: Mapped[str] = mapped_column(sa.String, default="", server_default="")
    post_id: Mapped[int | None] = mapped_column(BigId)
    comment_id: Mapped[int | None] = mapped_column(BigId)
    #: What changed and why, as the moderator wrote it.
    detail: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
