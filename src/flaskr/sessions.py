"""Sessions kept on the server.

Flask's default session is the whole session in a signed cookie, so a copy of
the cookie taken before logout keeps working afterwards. Here the cookie holds
only a random token, signed; the data lives in the ``auth_session`` table under
the token's SHA-256. Ending a session deletes its row, which ends every copy of
the cookie. No library did this with per-user listing and revocation (which
the account page needs), so it is written here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
import typing as t

import click
import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask import Request
from flask import request
from flask import Response
from flask import session as flask_session
from flask.cli import with_appcontext
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin
from itsdangerous import BadSignature
from itsdangerous import Signer
from werkzeug.datastructures import CallbackDict

from .db import db
from .db import utcnow
from .models import AuthSession

#: ``app.extensions`` key: when this process last purged expired sessions.
_LAST_PURGE = "flaskr.sessions.last_purge"

_INSERT_SESSION = sa.insert(AuthSession.__table__)

#: Bits of randomness in a session token (ASVS asks for at least 128).
TOKEN_BYTES = 32
USER_AGENT_MAX_LENGTH = 200


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(app: Flask) -> Signer:
    return Signer(
        app.secret_key,  # type: ignore[arg-type]
        salt="flaskr.session",
        key_derivation="hmac",
        digest_method=hashlib.sha256,
    )


def session_id_from_cookie(app: Flask, cookie: str) -> str | None:
    """The ``auth_session`` row id a session cookie names, or ``None`` if the
    cookie was not signed by this site."""
    try:
        token = _signer(app).unsign(cookie).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    return _token_hash(token)


def is_expired(
    config: t.Mapping[str, t.Any],
    *,
    created: dt.datetime,
    last_seen: dt.datetime,
    logged_in: bool,
    now: dt.datetime,
) -> bool:
    """Whether a session is past its idle timeout (a visitor's is shorter) or
    its absolute lifetime."""
    idle_limit = config[
        "SESSION_IDLE_TIMEOUT" if logged_in else "SESSION_VISITOR_IDLE_TIMEOUT"
    ]
    return (
        now - last_seen > idle_limit
        or now - created > config["SESSION_ABSOLUTE_LIFETIME"]
    )


def needs_touch(
    config: t.Mapping[str, t.Any], *, last_seen: dt.datetime, now: dt.datetime
) -> bool:
    """Whether ``last_seen`` is old enough to be worth a write.

    Writing it on every request would make every page a database write.
    """
    return now - last_seen > config["SESSION_TOUCH_INTERVAL"]


def _delete_record(record_id: str) -> None:
    """Delete a session row, whether or not another request already did."""
    db.session.execute(
        sa.delete(AuthSession)
        .where(AuthSession.id == record_id)
        .execution_options(synchronize_session=False)
    )


class ServerSession(CallbackDict[str, t.Any], SessionMixin):
    """The session dict for one request, backed by an ``auth_session`` row."""

    def __init__(
        self, data: dict[str, t.Any] | None = None, record: AuthSession | None = None
    ) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(data, on_update)
        self.record = record
        self.modified = False
        self.accessed = False
        self._regenerate = False

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().setdefault(key, default)

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.record is None

    def regenerate(self) -> None:
        """Move the data to a new token when the response is saved.

        Called when the user logs in, so a token that someone planted or saw
        before login never becomes a logged-in session.
        """
        self._regenerate = True
        self.modified = True


def start_user_session(user_id: int) -> None:
    """Log ``user_id`` in on this browser, under a new token and CSRF token.

    Also called after a password change: a new proof of identity gets a new
    token. Expired sessions of anyone are purged here too, at most once per
    ``SESSION_PURGE_INTERVAL`` in each process, so a login costs little more
    than its password check. The session is saved (and committed) with the
    response.
    """
    session = _current_session()
    session.regenerate()
    session.pop("csrf_token", None)
    session["user_id"] = user_id
    _purge_if_due()


def _purge_if_due() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    last_purge = app.extensions.get(_LAST_PURGE)
    if last_purge is None or now - last_purge >= (
        app.config["SESSION_PURGE_INTERVAL"].total_seconds()
    ):
        app.extensions[_LAST_PURGE] = now
        purge_expired_sessions()


def current_session_id() -> str | None:
    """The ``auth_session`` row id of this browser's session, if it has one."""
    record = _current_session().record
    return record.id if record is not None else None


def sessions_of_user(user_id: int) -> list[AuthSession]:
    """The user's sessions, most recently used first."""
    query = (
        sa.select(AuthSession)
        .where(AuthSession.user_id == user_id)
        .order_by(AuthSession.last_seen.desc())
    )
    return list(db.session.scalars(query))


def end_sessions_of_user(user_id: int, *, keep: str | None = None) -> int:
    """Delete the user's sessions, except the one with id ``keep``; return how
    many ended. The caller commits."""
    query = sa.delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    result = db.session.execute(query.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_expired_sessions() -> int:
    """Delete every session past its idle timeout (a visitor's is shorter) or
    absolute lifetime; return how many. The caller commits."""
    now = utcnow()
    config = current_app.config
    query = sa.delete(AuthSession).where(
        sa.or_(
            AuthSession.last_seen < now - config["SESSION_IDLE_TIMEOUT"],
            sa.and_(
                AuthSession.user_id.is_(None),
                AuthSession.last_seen < now - config["SESSION_VISITOR_IDLE_TIMEOUT"],
            ),
            AuthSession.created < now - config["SESSION_ABSOLUTE_LIFETIME"],
        )
    )
    result = db.session.execute(query.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


@click.command("purge-sessions")
@with_appcontext
def purge_sessions_command() -> None:
    """Delete expired sessions (logins also do this as they go)."""
    purged = purge_expired_sessions()
    db.session.commit()
    click.echo(f"Deleted {purged} expired sessions.")


def end_session() -> None:
    """Forget everything in this browser's session and delete it on the server."""
    session = _current_session()
    session.clear()
    session.regenerate()


def _current_session() -> ServerSession:
    session = flask_session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(session, ServerSession)
    return session


class ServerSessionInterface(SessionInterface):
    """Loads and saves :class:`ServerSession` through the ``auth_session`` table.

    The logged-in user's id is kept in the row's ``user_id`` column, so sessions
    can be listed and ended per user, and is seen as ``session["user_id"]``.
    """

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return ServerSession()
        record_id = session_id_from_cookie(app, cookie)
        if record_id is None:
            return ServerSession()
        record = db.session.get(AuthSession, record_id)
        if record is None:
            return ServerSession()
        if is_expired(
            app.config,
            created=record.created,
            last_seen=record.last_seen,
            logged_in=record.user_id is not None,
            now=utcnow(),
        ):
            _delete_record(record.id)
            db.session.commit()
            return ServerSession()
        data = json.loads(record.data)
        if record.user_id is not None:
            data["user_id"] = record.user_id
        return ServerSession(data, record)

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        assert isinstance(session, ServerSession)
        if session.accessed:
            response.vary.add("Cookie")
        if not db.session.is_active:
            # A failed write earlier in the request; it was not committed.
            db.session.rollback()

        record = session.record
        if not session:
            if record is not None:
                _delete_record(record.id)
                db.session.commit()
                self._delete_cookie(app, response)
            return

        now = utcnow()
        data = dict(session)
        user_id = data.pop("user_id", None)
        payload = json.dumps(data, separators=(",", ":"))

        if record is None or session._regenerate:
            if record is not None:
                _delete_record(record.id)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            user_agent = request.headers.get("User-Agent", "")
            row = {
                "id": _token_hash(token),
                "user_id": user_id,
                "created": now,
                "last_seen": now,
                "user_agent": user_agent[:USER_AGENT_MAX_LENGTH],
                "data": payload,
            }
            # A Core INSERT on the session's connection, with the row as
            # parameters: the ORM's unit of work (or its execute) costs a login
            # more than the statement does, and nothing else here needs it.
            db.session.connection().execute(_INSERT_SESSION, row)
            db.session.commit()
            # The session ends with this response, so ``session.record`` is
            # left as it was: building an ``AuthSession`` cost a login 3% of
            # its work besides the password check.
            self._set_cookie(app, response, token, now)
            return

        if not session.modified and not needs_touch(
            app.config, last_seen=record.last_seen, now=now
        ):
            return
        # A statement, not the ORM's unit of work: another request may have
        # ended this session since it was loaded, and that is not an error.
        updated = db.session.execute(
            sa.update(AuthSession)
            .where(AuthSession.id == record.id)
            .values(last_seen=now, user_id=user_id, data=payload)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            self._delete_cookie(app, response)

    def _set_cookie(
        self, app: Flask, response: Response, token: str, created: dt.datetime
    ) -> None:
        signed = _signer(app).sign(token).decode()
        # A cached copy of this response would hand the session to others.
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            self.get_cookie_name(app),
            signed,
            expires=created + app.config["SESSION_ABSOLUTE_LIFETIME"],
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(
            self.get_cookie_name(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )


def init_app(app: Flask) -> None:
    """Keep ``app``'s sessions on the server, and add ``purge-sessions``."""
    app.session_interface = ServerSessionInterface()
    app.cli.add_command(purge_sessions_command)
