"""Views of the auth blueprint: register, log in, log out."""

from __future__ import annotations

import functools
import math
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug import Response
from werkzeug.exceptions import TooManyRequests

from ..accounts import authenticate
from ..accounts import find_user
from ..accounts import get_user
from ..accounts import register_user
from ..accounts import UsernameTakenError
from ..accounts import verify_password
from ..forms import ButtonForm
from ..forms import render_form
from ..models import User
from ..models import username_key
from ..security_log import log_event
from ..security_log import unknown_name
from ..sessions import end_session
from ..sessions import start_user_session
from ..throttle import clear_login_failures
from ..throttle import failed_form
from ..throttle import limiter
from ..throttle import login_lockout_remaining
from ..throttle import record_login_failure
from .forms import LoginForm
from .forms import RegisterForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

View = t.Callable[..., t.Any]


def login_required(view: View) -> View:
    """Send visitors who are not logged in to the login page, then back here."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            here = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=here))
        return view(**kwargs)

    return wrapped_view


@bp.before_app_request
def load_logged_in_user() -> None:
    """Set ``g.user`` to the logged-in user, or ``None``."""
    user_id = session.get("user_id")
    g.user = get_user(user_id) if user_id is not None else None


def _who(name: str) -> dict[str, t.Any]:
    """Log fields naming the account behind ``name`` without logging a typo'd
    password: the user's id if there is one, else a hash of what was typed."""
    user = find_user(name)
    return {"user_id": user.id} if user else {"unknown_name": unknown_name(name)}


def refuse_if_locked_out(account: str, who: t.Callable[[], dict[str, t.Any]]) -> None:
    """Answer 429 while ``account`` is locked out after failed password checks.

    :param who: log fields for the account, asked for only when it is locked.
    """
    wait = login_lockout_remaining(account)
    if wait is None:
        return
    log_event("login_throttled", retry_after=wait, **who())
    minutes = math.ceil(wait / 60)
    raise TooManyRequests(
        "Too many failed attempts to log in to this account. Try again in"
        f" {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after=wait,
    )


def check_password_attempt(user: User, password: str) -> bool:
    """Check the password a logged-in user typed again before a risky change.

    Wrong guesses count toward the same lockout as failed logins, so a stolen
    session cannot be used to guess the password faster.
    """
    refuse_if_locked_out(user.username_key, lambda: {"user_id": user.id})
    if verify_password(user, password):
        return True
    record_login_failure(user.username_key)
    log_event("password_check_failed", user_id=user.id)
    return False


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


@bp.route("/register", methods=("GET", "POST"))
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"], methods=["POST"])
def register() -> Response | tuple[str, int]:
    """Register a new user, then send them to log in."""
    form = RegisterForm()
    if form.validate_on_submit():
        username = form.username.data
        try:
            if find_user(username) is not None:
                raise UsernameTakenError(username)
            user = register_user(username, form.password.data)
        except UsernameTakenError:
            form.username.errors = [f"User {username} is already registered."]
        else:
            log_event("registered", user_id=user.id)
            flash("Your account is ready. Log in to start writing.")
            return redirect(url_for("auth.login"))
    return render_form("auth/register.html", form)


@bp.route("/login", methods=("GET", "POST"))
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMITS"],
    methods=["POST"],
    deduct_when=failed_form,
)
def login() -> Response | tuple[str, int]:
    """Log a user in and go where they were going, or to the index."""
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        name = form.username.data
        account = username_key(name)
        refuse_if_locked_out(account, lambda: _who(name))
        user_id = authenticate(name, form.password.data)
        if user_id is not None:
            clear_login_failures(account)
            start_user_session(user_id)
            log_event("login_succeeded", user_id=user_id)
            return redirect(safe_next(form.next.data) or url_for("index"))
        record_login_failure(account)
        log_event("login_failed", **_who(name))
        form.form_errors.append("Incorrect username or password.")
    return render_form("auth/login.html", form)


@bp.route("/logout", methods=("GET", "POST"))
def logout() -> str | Response:
    """Log out with a POST; a GET only asks for confirmation."""
    form = ButtonForm()
    if form.validate_on_submit():
        if g.user is not None:
            log_event("logged_out", user_id=g.user.id)
        end_session()
        flash("You have been logged out.")
        return redirect(url_for("index"))
    return render_template("auth/logout.html", form=form)
