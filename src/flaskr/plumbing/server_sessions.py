"""The session of a request, loaded from and saved to its ``auth_session`` row.

Flask calls :class:`ServerSessionInterface` at the start and end of every
request; the rows' rules (expiry, revocation) are
:mod:`flaskr.services.accounts.sessions`'. The interface commits its own writes: it
saves the session after the view's work is done.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import Request
from flask import request
from flask import Response
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin
from werkzeug.datastructures import CallbackDict

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuthSession
from flaskr.services.accounts.sessions import delete_session_record
from flaskr.services.accounts.sessions import is_expired
from flaskr.services.accounts.sessions import needs_touch
from flaskr.services.accounts.sessions import session_id_from_cookie
from flaskr.services.accounts.sessions import signer
from flaskr.services.accounts.sessions import token_hash

_INSERT_SESSION = sa.insert(t.cast(sa.Table, AuthSession.__table__))

#: Bits of randomness in a session token (ASVS asks for at least 128).
TOKEN_BYTES = 32
USER_AGENT_MAX_LENGTH = 200


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
    # Flask declares ``new`` a plain attribute; here it is worked out.
    def new(self) -> bool:  # type: ignore[override]
        return self.record is None

    def regenerate(self) -> None:
        """Move the data to a new token when the response is saved.

        Called when the user logs in, so a token that someone planted or saw
        before login never becomes a logged-in session.
        """
        self._regenerate = True
        self.modified = True


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
            delete_session_record(record.id)
            db.session.commit()
            return ServerSession()
        data = json.loads(record.data)
        if record.user_id is not None:
            data["user_id"] = record.user_id
        if record.method:
            data["login_method"] = record.method
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
                delete_session_record(record.id)
                db.session.commit()
                self._delete_cookie(app, response)
            return

        now = utcnow()
        data = dict(session)
        user_id = data.pop("user_id", None)
        method = data.pop("login_method", "")
        payload = json.dumps(data, separators=(",", ":"))

        if record is None or session._regenerate:
            if record is not None:
                delete_session_record(record.id)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            user_agent = request.headers.get("User-Agent", "")
            row = {
                "id": token_hash(token),
                "user_id": user_id,
                "created": now,
                "last_seen": now,
                "user_agent": user_agent[:USER_AGENT_MAX_LENGTH],
                "method": method,
                "data": payload,
            }
            # A Core INSERT on the session's connection, with the row as
            # parameters: the ORM's unit of work (or its execute) costs a login
            # more than the statement does, and nothing else here needs it.
            db.session.connection().execute(_INSERT_SESSION, row)
            db.session.commit()
            # The session ends with this response, so ``session.record`` is
            # left as it was: building an ``AuthSession`` would cost a login
            # more than the INSERT does.
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
            .values(last_seen=now, user_id=user_id, method=method, data=payload)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if affected_rows(updated) == 0:
            self._delete_cookie(app, response)

    def _set_cookie(
        self, app: Flask, response: Response, token: str, created: dt.datetime
    ) -> None:
        signed = signer(app).sign(token).decode()
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
    """Keep ``app``'s sessions on the server."""
    app.session_interface = ServerSessionInterface()
