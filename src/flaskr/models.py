"""The tables, as typed SQLAlchemy models.

Models hold data and the rules that belong to a single row. Queries and writes
that span rows live in the service modules (``accounts``, ``posts``,
``sessions``), and nothing here needs a request or an app context.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .db import BigId
from .db import db
from .db import UTCDateTime
from .db import utcnow

USERNAME_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000


def username_key(username: str) -> str:
    """The form of a username that uniqueness and look-ups compare."""
    return username.casefold()


class User(db.Model):
    # The tutorial's table name, kept so its databases upgrade in place.
    __tablename__ = "user"
    # Ids of deleted rows are never given out again, as in the tutorial.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: As the user typed it, shown everywhere.
    username: Mapped[str] = mapped_column(sa.String)
    #: ``username_key(username)``; unique, so names differing only in case clash.
    username_key: Mapped[str] = mapped_column(sa.String, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String)
    #: ``None`` for accounts carried over from a tutorial database.
    created: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)

    def __init__(self, username: str, password_hash: str) -> None:
        super().__init__(
            username=username,
            username_key=username_key(username),
            password_hash=password_hash,
        )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


class Post(db.Model):
    __tablename__ = "post"
    __table_args__ = (
        # The index page reads posts newest first, by this pair.
        sa.Index("ix_post_created_id", "created", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``None`` once the author deleted their account and kept their posts.
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the post was last edited; ``None`` if it never was.
    updated: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(sa.String)
    body: Mapped[str] = mapped_column(sa.Text)

    author: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.title!r}>"


class AuthSession(db.Model):
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
