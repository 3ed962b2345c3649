"""The account lockout: failed password and second-factor checks counted
per account, refusing even the right answer while it lasts, growing with
repeated failures.

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

from flaskr.services.base.errors import LockedOut
from flaskr.services.base.security_log import log_event

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


def refuse_if_locked_out(account: str, who: t.Callable[[], dict[str, t.Any]]) -> None:
    """:param who: log fields for the account, asked for only when it is locked.
    :raise LockedOut: while ``account`` is locked out."""
    wait = login_lockout_remaining(account)
    if wait is None:
        return
    log_event("login_throttled", retry_after=wait, **who())
    raise LockedOut(wait)


def init_app(app: Flask, storage: t.Callable[[], Storage]) -> None:
    """Keep ``app``'s lockout counts in ``storage()`` (asked on each use)."""
    app.extensions[STORAGE] = storage
