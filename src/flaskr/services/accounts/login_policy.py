"""The login policy: a lockout per account after failed password checks.

Per-address limits are Flask-Limiter's (:mod:`flaskr.plumbing.throttle`). The
account lockout is written here because it is keyed by the username typed,
must refuse even the right password while it lasts, and grows with repeated
failures. Its counts live in the rate limiter's storage, which
:mod:`flaskr.plumbing.throttle` hands over at start-up, so servers sharing
Redis share lockouts too.
"""

from __future__ import annotations

import math
import time
import typing as t

from flask import current_app
from flask import Flask
from limits import parse_many
from limits import RateLimitItem
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from flaskr.db import db
from flaskr.models import User
from flaskr.models import username_key
from flaskr.models.governance import PENDING
from flaskr.models.governance import REMOVED
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.directory import authenticate
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.directory import verify_password
from flaskr.services.accounts.recovery import account_for_address
from flaskr.services.base.errors import LockedOut
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.security_log import log_event
from flaskr.services.base.security_log import unknown_name

#: ``app.extensions`` key: a function that gives the storage the counts live in.
STORAGE = "flaskr.login_policy.storage"

_LOCKOUT_SCOPE = "login-failures"


def _lockout_limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["LOGIN_ACCOUNT_LIMITS"])


def _lockout_strategy() -> MovingWindowRateLimiter:
    storage: t.Callable[[], Storage] = current_app.extensions[STORAGE]
    return MovingWindowRateLimiter(storage())


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def login_lockout_remaining(account: str) -> int | None:
    """Seconds until ``account`` may try to log in again, or ``None`` if it may now.

    :param account: the username's comparison key, whether or not such a user
        exists, so a lockout looks the same for real and made-up names.
    """
    if not _enabled():
        return None
    strategy = _lockout_strategy()
    waits = [
        strategy.get_window_stats(limit, _LOCKOUT_SCOPE, account).reset_time
        - time.time()
        for limit in _lockout_limits()
        if not strategy.test(limit, _LOCKOUT_SCOPE, account)
    ]
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))


def record_login_failure(account: str) -> None:
    if not _enabled():
        return
    strategy = _lockout_strategy()
    for limit in _lockout_limits():
        strategy.hit(limit, _LOCKOUT_SCOPE, account)


def clear_login_failures(account: str) -> None:
    """Forget an account's failures once someone proves they know the password."""
    if not _enabled():
        return
    strategy = _lockout_strategy()
    for limit in _lockout_limits():
        strategy.clear(limit, _LOCKOUT_SCOPE, account)


def _who(name: str) -> dict[str, t.Any]:
    """Log fields naming the account behind ``name`` without logging a typo'd
    password: the user's id if there is one, else a hash of what was typed."""
    user = find_user(name)
    return {"user_id": user.id} if user else {"unknown_name": unknown_name(name)}


def refuse_if_locked_out(account: str, who: t.Callable[[], dict[str, t.Any]]) -> None:
    """:param who: log fields for the account, asked for only when it is locked.
    :raise LockedOut: while ``account`` is locked out."""
    wait = login_lockout_remaining(account)
    if wait is None:
        return
    log_event("login_throttled", retry_after=wait, **who())
    raise LockedOut(wait)


def _door(via: str | None) -> dict[str, str]:
    """Log fields naming the way in, when it is not the site's pages."""
    return {} if via is None else {"via": via}


WAITING_MESSAGE = (
    "This account waits for approval: a moderator of the site will look at it soon."
)


def state_refusal(user: User, *, waiting_allowed: bool) -> str | None:
    """Why ``user`` may not log in (for them: the password was right), or
    ``None``. A suspended or removed account is told the reason it was given;
    one waiting for approval logs in only where ``waiting_allowed``."""
    if user.state in (SUSPENDED, REMOVED):
        reason = user.state_reason.strip()
        state = "suspended" if user.state == SUSPENDED else "removed"
        return f"This account is {state}" + (f": {reason}" if reason else ".")
    if user.state == PENDING and not waiting_allowed:
        return WAITING_MESSAGE
    return None


def log_in(
    name: str, password: str, *, via: str | None = None, waiting_allowed: bool = True
) -> int | None:
    """The id of the user these credentials are for, or ``None`` (a failure
    that counts toward the account's lockout); logs ``login_succeeded`` or
    ``login_failed``.

    :param via: how the user came (``"api"``), for the log; ``None`` for the
        site's pages.
    :param waiting_allowed: an account waiting for approval may log in (the
        site's pages, which show it only that it waits).
    :raise LockedOut: the account is locked out, even if the password is right.
    :raise NotAllowed: the password is right but the account is suspended or
        removed (the message gives the reason), or waits for approval and
        may not log in here; logs ``login_refused_state``.
    """
    account = username_key(name)
    refuse_if_locked_out(account, lambda: _who(name))
    user_id = authenticate(name, password)
    if user_id is not None:
        clear_login_failures(account)
        user = db.session.get(User, user_id)
        refusal = (
            None
            if user is None
            else state_refusal(user, waiting_allowed=waiting_allowed)
        )
        if user is not None and refusal is not None:
            log_event(
                "login_refused_state", user_id=user_id, state=user.state, **_door(via)
            )
            raise NotAllowed(refusal)
        log_event("login_succeeded", user_id=user_id, **_door(via))
        return user_id
    record_login_failure(account)
    log_event("login_failed", **_who(name))
    return None


def log_in_by_address(
    address: str, password: str, *, via: str | None = None, waiting_allowed: bool = True
) -> int | None:
    """:func:`log_in` for the account that logs in with the e-mail ``address``
    (``recovery.account_for_address``): the same lockout, counted on the
    account whichever name or address was typed.

    :raise LockedOut: the account (or, for an unknown address, the address)
        is locked out.
    """
    user = account_for_address(address)
    if user is not None:
        return log_in(user.username, password, via=via, waiting_allowed=waiting_allowed)
    account = "@" + address.strip().lower()
    refuse_if_locked_out(account, lambda: {"unknown_name": unknown_name(address)})
    authenticate("", password)  # the same hash cost as a real account's
    record_login_failure(account)
    log_event("login_failed", unknown_name=unknown_name(address))
    return None


def check_password_attempt(user: User, password: str) -> bool:
    """Check the password a logged-in user typed again before a risky change.

    Wrong guesses count toward the same lockout as failed logins, so a stolen
    session cannot be used to guess the password faster.

    :raise LockedOut: the account is locked out.
    """
    refuse_if_locked_out(user.username_key, lambda: {"user_id": user.id})
    if verify_password(user, password):
        return True
    record_login_failure(user.username_key)
    log_event("password_check_failed", user_id=user.id)
    return False


def init_app(app: Flask, storage: t.Callable[[], Storage]) -> None:
    """Keep ``app``'s lockout counts in ``storage()`` (asked on each use)."""
    app.extensions[STORAGE] = storage
