"""The rows that let someone in: one-time mail links, JSON API tokens and
browser sessions. Each stores only a hash of its secret."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow
from flaskr.models.limits import API_TOKEN_NAME_MAX_LENGTH


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
    #: How it logged in: ``password``, ``password+app``, ``passkey``…
    #: (``services/accounts/second_factor.py``), shown in the sessions list.
    method: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    #: The rest of the session (CSRF token, flashed messages) as JSON.
    data: Mapped[str] = mapped_column(sa.Text, default="{}")
