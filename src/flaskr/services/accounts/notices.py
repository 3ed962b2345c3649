"""Telling an account's owner what happened to how it logs in."""

from __future__ import annotations

from flaskr.models import User
from flaskr.services.base.mail import record_mail
from flaskr.services.base.security_log import log_event


def tell_owner(user: User, event: str, what: str, **fields: object) -> None:
    """Log the security event ``event`` for ``user`` and mail them ``what``
    happened (a sentence) at their confirmed address; the caller commits."""
    log_event(event, user_id=user.id, **fields)
    if user.email:
        record_mail(user.email, "sign_in_security", username=user.username, what=what)
