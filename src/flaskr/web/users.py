"""Who is asking: ``g.user``, ``login_required``, logging in and out."""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import Flask
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for

from flaskr.models.governance import PENDING
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.plumbing.server_sessions import ServerSession
from flaskr.services.accounts.directory import get_user
from flaskr.services.accounts.presence import mark_seen
from flaskr.services.accounts.presence import note_seen
from flaskr.services.accounts.sessions import purge_expired_sessions_if_due

View = t.Callable[..., t.Any]

#: ``app.extensions`` key: blueprints that know their users by a token of
#: their own, never by the session cookie.
_TOKEN_BLUEPRINTS = "flaskr.users.token_blueprints"  # noqa: S105 (a key name)


def authenticates_by_token(app: Flask, blueprint_name: str) -> None:
    """Leave ``g.user`` ``None`` for the blueprint's requests whatever cookie
    they carry: it sets ``g.user`` itself (so a page on another site cannot
    act through a visitor's cookie)."""
    app.extensions.setdefault(_TOKEN_BLUEPRINTS, set()).add(blueprint_name)


def load_logged_in_user() -> None:
    """Set ``g.user`` to the logged-in user, or ``None``."""
    if request.blueprint in current_app.extensions.get(_TOKEN_BLUEPRINTS, ()):
        g.user = None
        return
    user_id = session.get("user_id")
    user = get_user(user_id) if user_id is not None else None
    if user is not None and user.state in WITHDRAWN_STATES:
        # Suspending or removing ends the sessions; this is the second lock.
        user = None
    if user is not None:
        note_seen(user)
    g.user = user


#: What an account waiting for approval may reach: the waiting page, logging
#: out, deleting itself, and the files every page needs.
_WAITING_MAY_REACH = frozenset(
    {
        "auth.waiting",
        "auth.logout",
        "auth.delete_account",
        "static",
        "blog.site_icon",
        "blog.favicon",
    }
)


def keep_waiting_accounts_waiting() -> t.Any:
    """Send an account that waits for approval (``pending``) to the waiting
    page from everywhere else: it may log in, but do nothing more."""
    user = g.get("user")
    if user is None or user.state != PENDING:
        return None
    if request.endpoint in _WAITING_MAY_REACH:
        return None
    return redirect(url_for("auth.waiting"))


def login_required(view: View) -> View:
    """Send visitors who are not logged in to the login page, then back here."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            here = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=here))
        return view(**kwargs)

    return wrapped_view


def safe_next(target: str) -> str | None:
    """``target`` if it is a path on this site, else ``None``.

    Refuses other hosts in every spelling browsers accept: ``//host``,
    ``/\\host``, schemes, and control characters that browsers strip.
    """
    if not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def rename_limit_key() -> str:
    """The key renames are counted under (``RENAME_LIMITS``): the account's,
    wherever the rename comes from (the account page or the JSON API)."""
    return f"rename:{g.user.id}" if g.get("user") else "rename:visitor"


def admin_required(view: View) -> View:
    """Let only administrators in: visitors go to the login page, other
    users get a 403."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if g.user is not None and not g.user.is_admin:
            abort(403)
        return view(**kwargs)

    return login_required(wrapped_view)


def _server_session() -> ServerSession:
    assert isinstance(session, ServerSession)
    return session


def start_user_session(user_id: int) -> None:
    """Log ``user_id`` in on this browser, under a new token and CSRF token.

    Also called after a password change: a new proof of identity gets a new
    token. Expired sessions of anyone are purged here too, now and then. The
    session is saved (and committed) with the response.
    """
    current = _server_session()
    current.regenerate()
    current.pop("csrf_token", None)
    current["user_id"] = user_id
    mark_seen(user_id)
    purge_expired_sessions_if_due()


def current_session_id() -> str | None:
    """The ``auth_session`` row id of this browser's session, if it has one."""
    record = _server_session().record
    return record.id if record is not None else None


def end_session() -> None:
    """Forget everything in this browser's session and delete it on the server."""
    current = _server_session()
    current.clear()
    current.regenerate()


def init_app(app: Flask) -> None:
    app.before_request(load_logged_in_user)
    app.before_request(keep_waiting_accounts_waiting)
