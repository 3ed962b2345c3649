"""The registration form's defences against bots, without scripts or
third-party services: a honeypot field people never see (``homepage``) and
the time the form took to fill (``form_started``, a signed timestamp).

A form sent with the honeypot filled, faster than
``REGISTER_MIN_FILL_SECONDS``, or with a missing, forged or expired
timestamp makes no account. The check is about the form, so it lives with
the form; the use case still decides who may join.
"""

from __future__ import annotations

import time

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from flaskr.services.base.security_log import log_event

#: A form opened longer ago than this is sent again with a fresh timestamp.
FORM_STARTED_MAX_AGE = 24 * 3600
#: What people are told: nothing a bot could learn from.
REFUSED_MESSAGE = "Please check the form and send it again."

_SALT = "flaskr.register.form-started"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SALT)


def form_started_stamp() -> str:
    """A signed timestamp of now, for the form's ``form_started`` field."""
    return str(_serializer().dumps("register"))


def _min_seconds() -> float:
    return float(current_app.config["REGISTER_MIN_FILL_SECONDS"])


def _refusal(homepage: str, form_started: str) -> str | None:
    if homepage:
        return "honeypot"
    minimum = _min_seconds()
    if minimum <= 0:
        return None
    if not form_started:
        return "no_timestamp"
    try:
        _, signed_at = _serializer().loads(
            form_started, max_age=FORM_STARTED_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired:
        return "expired_timestamp"
    except BadSignature:
        return "forged_timestamp"
    if time.time() - signed_at.timestamp() < minimum:
        return "too_fast"
    return None


def refused_as_bot(homepage: str, form_started: str) -> bool:
    """Whether the form looks sent by a bot; if so, logs
    ``registration_refused`` with the reason."""
    reason = _refusal(homepage, form_started)
    if reason is None:
        return False
    log_event("registration_refused", reason=reason)
    return True
