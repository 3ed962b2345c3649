"""Throttling: limits per client address, and a lockout per account.

Per-address limits are Flask-Limiter's. The account lockout is written here
because it is keyed by the username in the form, must refuse even the right
password while it lasts, and grows with repeated failures; it keeps its counts
in Flask-Limiter's storage, so several servers sharing Redis share them too.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from flask import Flask
from flask import request
from flask_limiter import Limiter
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits import RateLimitItem
from limits.strategies import MovingWindowRateLimiter
from werkzeug import Response

from .security_log import log_event

_LOCKOUT_SCOPE = "login-failures"


def _not_a_form_post() -> bool:
    return request.method != "POST"


def _form_post_limits() -> str:
    return str(current_app.config["RATELIMIT_DEFAULT"])


#: Bound to the app in :func:`init_app`; views decorate themselves with it.
#: Limits are read from the app's config on each request (not once, at the
#: first ``init_app``), so every app made from this module gets its own.
def _log_breach(limit: RequestLimit) -> None:
    log_event("rate_limited", limit=str(limit.limit), endpoint=request.endpoint)


limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[_form_post_limits],
    default_limits_exempt_when=_not_a_form_post,
    on_breach=_log_breach,
)


def failed_form(response: Response) -> bool:
    """For ``deduct_when``: count only submissions that were refused."""
    return response.status_code >= 400


def _lockout_limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["LOGIN_ACCOUNT_LIMITS"])


def _lockout_strategy() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(limiter.storage)


def login_lockout_remaining(account: str) -> int | None:
    """Seconds until ``account`` may try to log in again, or ``None`` if it may now.

    :param account: the username's comparison key, whether or not such a user
        exists, so a lockout looks the same for real and made-up names.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
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
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    strategy = _lockout_strategy()
    for limit in _lockout_limits():
        strategy.hit(limit, _LOCKOUT_SCOPE, account)


def clear_login_failures(account: str) -> None:
    """Forget an account's failures once someone proves they know the password."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    strategy = _lockout_strategy()
    for limit in _lockout_limits():
        strategy.clear(limit, _LOCKOUT_SCOPE, account)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
