"""Defences of public forms against bots, without scripts or third-party
services: a honeypot field people never see (``homepage``) and the time the
form took to fill (``form_started``, a signed timestamp).

A form sent with the honeypot filled, faster than its minimum (a setting
per form), or with a missing, forged or expired timestamp is refused. The
check is about the form, so it lives with the forms (here, for every
blueprint that has such a form); the use case still decides the rest.

Each form signs its stamps apart (``salt``), so a stamp shown with one form
is no good for another.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class GuardedForm:
    """A form the check guards: its stamps' salt, the setting with its
    minimum fill time in seconds (0 turns the timing off), and the security
    event logged when it is refused."""

    name: str
    min_seconds_setting: str
    refused_event: str

    @property
    def salt(self) -> str:
        return f"flaskr.{self.name}.form-started"


REGISTER = GuardedForm("register", "REGISTER_MIN_FILL_SECONDS", "registration_refused")
SUBSCRIBE = GuardedForm(
    "subscribe", "SUBSCRIBE_MIN_FILL_SECONDS", "subscription_refused"
)


def _serializer(form: GuardedForm) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=form.salt)


def form_started_stamp(form: GuardedForm = REGISTER) -> str:
    """A signed timestamp of now, for the form's ``form_started`` field."""
    return str(_serializer(form).dumps(form.name))


def _refusal(form: GuardedForm, homepage: str, form_started: str) -> str | None:
    if homepage:
        return "honeypot"
    minimum = float(current_app.config[form.min_seconds_setting])
    if minimum <= 0:
        return None
    if not form_started:
        return "no_timestamp"
    try:
        _, signed_at = _serializer(form).loads(
            form_started, max_age=FORM_STARTED_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired:
        return "expired_timestamp"
    except BadSignature:
        return "forged_timestamp"
    if time.time() - signed_at.timestamp() < minimum:
        return "too_fast"
    return None


def refused_as_bot(
    homepage: str, form_started: str, form: GuardedForm = REGISTER
) -> bool:
    """Whether the form looks sent by a bot; if so, logs the form's refusal
    event with the reason."""
    reason = _refusal(form, homepage, form_started)
    if reason is None:
        return False
    log_event(form.refused_event, reason=reason)
    return True
