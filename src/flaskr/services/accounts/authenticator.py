"""The authenticator app: time-based one-time codes (TOTP, RFC 6238) with
``pyotp``, and the set-up's QR code as SVG with ``segno`` (an inline SVG
needs no script or style, so it fits the strict CSP).

The shared secret is kept encrypted (Fernet, from ``cryptography``) under a
key derived from ``SECRET_KEY``; keys in ``SECRET_KEY_FALLBACKS`` still
open secrets written before a rotation. A code is accepted once: the time
step it belongs to is remembered, and no code of that step or an earlier
one is accepted again.
"""

from __future__ import annotations

import dataclasses
import hmac
import time

from flask import current_app

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuthenticatorApp
from flaskr.models import User
from flaskr.services.accounts.lockout import record_login_failure
from flaskr.services.accounts.lockout import refuse_if_locked_out
from flaskr.services.accounts.notices import tell_owner
from flaskr.services.base.errors import Invalid
from flaskr.services.base.mail import site_title
from flaskr.services.base.sealing import sealer
from flaskr.services.base.security_log import log_event

#: What the sealing key is derived for: changing it leaves every kept
#: secret unreadable.
SEALED_AS = b"flaskr totp secret"

DIGITS = 6

# pyotp, segno and cryptography are imported in the functions that use them:
# a worker whose readers never set up or use an app never loads them.

WRONG_CODE = (
    "That is not the code the app shows now. Check that the phone's clock"
    " is right and type the newest code."
)


@dataclasses.dataclass(frozen=True)
class Setup:
    """What the set-up page shows: the secret to type, and as a QR code."""

    secret: str
    uri: str
    qr_svg: str


def _secret_of(app: AuthenticatorApp) -> str | None:
    from cryptography.fernet import InvalidToken

    try:
        return sealer(SEALED_AS).decrypt(app.secret.encode()).decode()
    except InvalidToken:
        # Written under a key no longer configured: it cannot be checked.
        log_event("authenticator_secret_unreadable", user_id=app.user_id)
        return None


def _row(user: User) -> AuthenticatorApp | None:
    return db.session.get(AuthenticatorApp, user.id)


def confirmed_app(user: User) -> AuthenticatorApp | None:
    """The account's authenticator app, once a first code confirmed it."""
    row = _row(user)
    return row if row is not None and row.confirmed is not None else None


def _setup_of(user: User, secret: str) -> Setup:
    import pyotp
    import segno

    uri = pyotp.TOTP(secret, digits=DIGITS).provisioning_uri(
        name=user.username, issuer_name=site_title()
    )
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=4, dark="#000", light="#fff", omitsize=True)
    return Setup(secret, uri, svg)


def begin_setup(user: User) -> Setup:
    """Start setting up an app with a new secret (replacing an unconfirmed
    one); it guards nothing until :func:`confirm_setup`. Commits.

    :raise Invalid: the account already has a confirmed app (field ``code``).
    """
    import pyotp

    if confirmed_app(user) is not None:
        raise Invalid.of(
            "code", "An authenticator app is set up already: remove it first."
        )
    secret = pyotp.random_base32()
    row = _row(user)
    if row is None:
        row = AuthenticatorApp(user_id=user.id)
        db.session.add(row)
    row.secret = sealer(SEALED_AS).encrypt(secret.encode()).decode()
    row.created, row.last_step, row.last_used = utcnow(), None, None
    db.session.commit()
    return _setup_of(user, secret)


def setup_in_progress(user: User) -> Setup | None:
    """The set-up begun and not yet confirmed, to show again."""
    row = _row(user)
    if row is None or row.confirmed is not None:
        return None
    secret = _secret_of(row)
    return _setup_of(user, secret) if secret else None


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step ``code`` belongs to, near now and after ``after``."""
    import pyotp

    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    now = totp.timecode(time.time())
    drift = int(current_app.config["TOTP_DRIFT_STEPS"])
    for step in range(now - drift, now + drift + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_setup(user: User, code: str) -> None:
    """Confirm the app being set up with a code it shows; from then on it
    guards the login. Wrong codes count toward the account's lockout.
    Commits, logs and tells the owner.

    :raise Invalid: no set-up in progress, or a wrong code (field ``code``).
    :raise LockedOut: the account is locked out.
    """
    refuse_if_locked_out(user.username_key, lambda: {"user_id": user.id})
    row = _row(user)
    if row is None or row.confirmed is not None:
        raise Invalid.of("code", "Start the set-up again: it was not in progress.")
    secret = _secret_of(row)
    step = _matching_step(secret, code, None) if secret else None
    if step is None:
        record_login_failure(user.username_key)
        log_event("second_factor_failed", user_id=user.id, purpose="app_setup")
        db.session.commit()
        raise Invalid.of("code", WRONG_CODE)
    row.confirmed = row.last_used = utcnow()
    row.last_step = step
    tell_owner(
        user,
        "second_factor_added",
        "An authenticator app was added to your account.",
        factor="app",
    )
    db.session.commit()


def check(user: User, code: str) -> bool:
    """Whether ``code`` is a code of the account's app not used before; if
    so it is spent. The caller commits (and counts failures)."""
    row = confirmed_app(user)
    if row is None:
        return False
    secret = _secret_of(row)
    step = _matching_step(secret, code, row.last_step) if secret else None
    if step is None:
        return False
    row.last_step, row.last_used = step, utcnow()
    return True


def remove(user: User) -> bool:
    """Remove the account's app (or its unfinished set-up). Commits, logs
    and tells the owner; ``False`` if there was none."""
    row = _row(user)
    if row is None:
        return False
    was_confirmed = row.confirmed is not None
    db.session.delete(row)
    if was_confirmed:
        tell_owner(
            user,
            "second_factor_removed",
            "The authenticator app was removed from your account.",
            factor="app",
        )
    db.session.commit()
    return True
