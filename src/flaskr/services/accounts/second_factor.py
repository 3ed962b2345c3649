"""Second factors: what an account has beyond its password, when it must
have one, and the proof a login or a password reset asks for.

An account's second factors are its passkeys and its authenticator app;
recovery codes stand in for them when a device is lost. A passkey also
logs in alone (it is a factor of its own: a device and its unlock).

Every factor added, used, failed and removed is logged as a security event
and mailed to the account's confirmed address (``notices.tell_owner``), so
an owner hears of a stranger who knows their password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AuthenticatorApp
from flaskr.models import Passkey
from flaskr.models import RecoveryCode
from flaskr.models import User
from flaskr.models.governance import ADMIN
from flaskr.models.governance import EDITOR
from flaskr.services.accounts import authenticator
from flaskr.services.accounts import recovery_codes
from flaskr.services.accounts.lockout import record_login_failure
from flaskr.services.accounts.lockout import refuse_if_locked_out
from flaskr.services.accounts.notices import tell_owner
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.security_log import log_event
from flaskr.services.base.site import settings

#: The steps a login is made of, joined with ``+`` in a session's method
#: (``password+app``): the sessions list shows how each logged in.
PASSWORD = "password"  # noqa: S105 (a step's name)
APP = "app"
PASSKEY = "passkey"
RECOVERY_CODE = "recovery code"
RESET_LINK = "reset link"

#: The roles a site may require a second factor of.
GUARDED_ROLES = (ADMIN, EDITOR)


def method_of(*steps: str) -> str:
    """A session's login method from the steps it took."""
    return "+".join(steps)


@dataclasses.dataclass(frozen=True)
class Factors:
    """What an account has beyond its password."""

    passkeys: list[Passkey]
    #: The authenticator app, once confirmed.
    app: AuthenticatorApp | None
    recovery_codes_left: int

    @property
    def any_second(self) -> bool:
        return bool(self.passkeys) or self.app is not None


def factors_of(user: User) -> Factors:
    """The account's passkeys (newest first), app and unused recovery codes."""
    passkeys = db.session.scalars(
        sa.select(Passkey)
        .where(Passkey.user_id == user.id)
        .order_by(Passkey.created.desc(), Passkey.id.desc())
    ).all()
    return Factors(
        passkeys=list(passkeys),
        app=authenticator.confirmed_app(user),
        recovery_codes_left=recovery_codes.left(user),
    )


def has_second_factor(user: User) -> bool:
    """Whether a login with the password must take a second step: the
    account has a passkey or a confirmed authenticator app."""
    passkey = sa.exists().where(Passkey.user_id == user.id)
    app = sa.exists().where(
        AuthenticatorApp.user_id == user.id,
        AuthenticatorApp.confirmed.is_not(None),
    )
    return bool(db.session.scalar(sa.select(sa.or_(passkey, app))))


def required_of(user: User) -> bool:
    """Whether the site requires a second factor of this account's role."""
    return user.role in GUARDED_ROLES and settings().second_factor_required


def must_set_up(user: User) -> bool:
    """Whether the account must add a second factor before anything else."""
    return required_of(user) and not has_second_factor(user)


def set_requirement(actor: User, required: bool) -> None:
    """Require (or stop requiring) a second factor of administrators and
    editors; commit, and audit the change.

    :raise NotAllowed: ``actor`` is not an administrator.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator decides how accounts log in.")
    row = settings()
    if row.second_factor_required != required:
        row.second_factor_required = required
        audit.record(
            actor,
            "second_factor_requirement_changed",
            detail="required of administrators and editors"
            if required
            else "not required",
        )
    db.session.commit()


def prove(user: User, code: str, *, purpose: str = "login") -> str | None:
    """Check a code typed as the second step of ``purpose`` (``login`` or
    ``reset``): one from the authenticator app, or a recovery code. Commits.

    A wrong code counts toward the account's lockout, as a wrong password
    does, and tells the owner. Returns the step it proved (:data:`APP` or
    :data:`RECOVERY_CODE`), or ``None``.

    :raise LockedOut: the account is locked out (even a right code waits).
    """
    refuse_if_locked_out(user.username_key, lambda: {"user_id": user.id})
    step: str | None = None
    if recovery_codes.looks_like(code):
        if recovery_codes.use(user, code) is not None:
            step = RECOVERY_CODE
    elif authenticator.check(user, code):
        step = APP
    if step is None:
        record_login_failure(user.username_key)
        tell_owner(
            user,
            "second_factor_failed",
            "Someone who knew your password typed a wrong code"
            f" ({_purposes[purpose]}).",
            purpose=purpose,
        )
    elif step == APP:
        tell_owner(
            user,
            "second_factor_used",
            f"Your authenticator app's code was used ({_purposes[purpose]}).",
            step=step,
            purpose=purpose,
        )
    else:
        # recovery_codes.use told the owner, with how many are left.
        log_event("second_factor_used", user_id=user.id, step=step, purpose=purpose)
    db.session.commit()
    return step


_purposes = {"login": "logging in", "reset": "resetting the password"}


@dataclasses.dataclass(frozen=True)
class Proof:
    """The second step a password reset (or a login) brings."""

    #: A code typed: the authenticator app's, or a recovery code.
    code: str = ""
    #: The account a passkey was verified for in this browser a moment ago
    #: (the passkey ceremony runs before the form is sent).
    passkey_for: int | None = None


MISSING_PROOF = "Type a code from your authenticator app, or a recovery code."
WRONG_PROOF = "That code is not right: type the newest one, or a recovery code."


def require_proof(user: User, proof: Proof, purpose: str) -> str:
    """The step ``proof`` proves for ``user``; commits what checking a code
    records.

    :raise Invalid: no proof, or a wrong one (field ``code``).
    :raise LockedOut: too many wrong codes for this account.
    """
    if proof.passkey_for is not None and proof.passkey_for == user.id:
        # The passkey's check logged its use when it verified the assertion.
        return PASSKEY
    if not proof.code.strip():
        raise Invalid.of("code", MISSING_PROOF)
    step = prove(user, proof.code, purpose=purpose)
    if step is None:
        raise Invalid.of("code", WRONG_PROOF)
    return step


def remove_for_owner(actor: User, user: User) -> None:
    """An administrator removes every factor of an owner who lost them all
    (recovery codes included), so the password alone logs in again; commit,
    audit, and tell the owner.

    :raise NotAllowed: ``actor`` is not an administrator, or is ``user``
        (whose own factors are removed one by one on their security page).
    """
    if not roles.may_govern(actor) or actor.id == user.id:
        raise NotAllowed("Only another administrator removes an account's factors.")
    for model in (Passkey, RecoveryCode):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    db.session.execute(
        sa.delete(AuthenticatorApp).where(AuthenticatorApp.user_id == user.id)
    )
    audit.record(actor, "second_factors_removed", user)
    tell_owner(
        user,
        "second_factor_removed",
        "An administrator removed your passkeys, authenticator app and recovery"
        " codes: your password alone logs in until you add new ones.",
        factor="all",
        by=actor.id,
    )
    db.session.commit()


def is_recent(moment: float | None, window: dt.timedelta, now: float) -> bool:
    """Whether ``moment`` (seconds since the epoch) is within ``window`` of
    ``now`` and not in the future."""
    return moment is not None and 0 <= now - moment <= window.total_seconds()
