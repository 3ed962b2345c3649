"""Throttling: Flask-Limiter's limits per client address.

The lockout per account is the login policy's
(:mod:`flaskr.services.accounts.login_policy`); it keeps its counts in this limiter's
storage.
"""

from __future__ import annotations

from flask import current_app
from flask import Flask
from flask import request
from flask_limiter import Limiter
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug import Response

from flaskr.services.accounts import lockout
from flaskr.services.base.security_log import log_event


def _not_a_form_post() -> bool:
    return request.method != "POST"


def _form_post_limits() -> str:
    return str(current_app.config["RATELIMIT_DEFAULT"])


def _log_breach(limit: RequestLimit) -> None:
    log_event("rate_limited", limit=str(limit.limit), endpoint=request.endpoint)


#: Bound to the app in :func:`init_app`; views decorate themselves with it.
#: Limits are read from the app's config on each request (not once, at the
#: first ``init_app``), so every app made from this module gets its own.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[_form_post_limits],
    default_limits_exempt_when=_not_a_form_post,
    on_breach=_log_breach,
)


def failed_form(response: Response) -> bool:
    """For ``deduct_when``: count only submissions that were refused."""
    return response.status_code >= 400


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    # The storage Flask-Limiter counts in now: its in-memory fallback while
    # Redis is down (it notices at the form's own limits, checked first).
    lockout.init_app(app, storage=lambda: limiter.limiter.storage)
