"""Who is asking: ``g.user``, ``login_required``, logging in and out."""

from __future__ import annotations

import functools
import time
import typing as t
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import flash
from flask import Flask
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for

from flaskr.models import User
from flaskr.models.governance import PENDING
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.plumbing.server_sessions import ServerSession
from flaskr.services.accounts.directory import get_user
from flaskr.services.accounts.presence import mark_seen
from flaskr.services.accounts.presence import note_seen
from flaskr.services.accounts.second_factor import is_recent
from flaskr.services.accounts.second_factor import must_set_up
from flaskr.services.accounts.second_factor import PASSWORD
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


def start_user_session(user_id: int, method: str = PASSWORD) -> None:
    """Log ``user_id`` in on this browser, under a new token and CSRF token.

    Also called after a password change: a new proof of identity gets a new
    token. Expired sessions of anyone are purged here too, now and then. The
    session is saved (and committed) with the response.

    :param method: how the user proved who they are (``password+app``…),
        shown in their sessions list. Logging in counts as a fresh
        confirmation (:func:`recently_confirmed`).
    """
    current = _server_session()
    current.regenerate()
    for key in ("csrf_token", _SECOND_STEP, _PASSKEY_VERIFIED):
        current.pop(key, None)
    current["user_id"] = user_id
    current[_LOGIN_METHOD] = method
    current[_CONFIRMED_AT] = time.time()
    mark_seen(user_id)
    purge_expired_sessions_if_due()


#: Session keys: the login waiting for its second step, when the user last
#: proved who they are, how the session logged in, and the account a
#: passkey was just verified for (a password reset's second step).
_SECOND_STEP = "second_step"
_CONFIRMED_AT = "confirmed_at"
_LOGIN_METHOD = "login_method"
_PASSKEY_VERIFIED = "passkey_verified"


def begin_second_step(user_id: int, next_path: str) -> None:
    """Remember that ``user_id`` gave the right password in this browser and
    must now give a second factor; nobody is logged in yet."""
    _server_session()[_SECOND_STEP] = {
        "user_id": user_id,
        "since": time.time(),
        "next": next_path,
    }


def second_step_pending() -> tuple[User, str] | None:
    """The account waiting for its second step in this browser, and where
    the login was going; ``None`` if none, or if it waited longer than
    ``SECOND_STEP_TIMEOUT`` (the login starts over)."""
    pending = session.get(_SECOND_STEP)
    if not isinstance(pending, dict):
        return None
    user_id = pending.get("user_id")
    user = get_user(user_id) if isinstance(user_id, int) else None
    if user is None or not is_recent(
        pending.get("since"), current_app.config["SECOND_STEP_TIMEOUT"], time.time()
    ):
        session.pop(_SECOND_STEP, None)
        return None
    return user, str(pending.get("next") or "")


def end_second_step() -> None:
    session.pop(_SECOND_STEP, None)


def note_passkey_verified(user_id: int) -> None:
    """A passkey of ``user_id`` was verified in this browser just now (for a
    password reset's second step, sent with the form that follows)."""
    session[_PASSKEY_VERIFIED] = {"user_id": user_id, "at": time.time()}


def passkey_verified_for() -> int | None:
    """The account a passkey was verified for in this browser within
    ``SECOND_STEP_TIMEOUT``, spent by asking."""
    verified = session.pop(_PASSKEY_VERIFIED, None)
    if not isinstance(verified, dict) or not is_recent(
        verified.get("at"), current_app.config["SECOND_STEP_TIMEOUT"], time.time()
    ):
        return None
    user_id = verified.get("user_id")
    return user_id if isinstance(user_id, int) else None


def mark_confirmed() -> None:
    """The logged-in user just proved who they are again (the password or
    a passkey on the confirmation page)."""
    session[_CONFIRMED_AT] = time.time()


def recently_confirmed() -> bool:
    """Whether the logged-in user proved who they are within
    ``FRESH_CONFIRMATION``."""
    return is_recent(
        session.get(_CONFIRMED_AT),
        current_app.config["FRESH_CONFIRMATION"],
        time.time(),
    )


def fresh_confirmation_required(view: View) -> View:
    """Send a user who has not proved who they are within
    ``FRESH_CONFIRMATION`` to the confirmation page, then back: a stolen
    session alone cannot change how the account logs in. A form sent
    without it is not acted on; the user sends it again."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if recently_confirmed():
            return view(**kwargs)
        if request.method == "GET":
            back = request.full_path if request.query_string else request.path
        else:
            referrer = urlsplit(request.referrer or "")
            back = safe_next(referrer.path) or url_for("auth.account")
            flash("Confirm it is you, then send the form again.")
        return redirect(url_for("auth.confirm_identity", next=back))

    return login_required(wrapped_view)


#: Where an account that must add a second factor may go meanwhile.
_SETUP_MAY_REACH = frozenset(
    {
        "auth.logout",
        "auth.confirm_identity",
        "static",
        "blog.site_icon",
        "blog.favicon",
    }
)


def send_to_second_factor_setup() -> t.Any:
    """Send an administrator or editor without a second factor, on a site
    that requires one, to set one up before anything else."""
    user = g.get("user")
    if user is None or request.endpoint is None:
        return None
    if request.endpoint in _SETUP_MAY_REACH or request.endpoint.startswith(
        "auth.security"
    ):
        return None
    if not must_set_up(user):
        return None
    flash("This site asks administrators and editors to add a second factor first.")
    return redirect(url_for("auth.security"))


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
    app.before_request(send_to_second_factor_setup)
