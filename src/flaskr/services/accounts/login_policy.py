"""The login policy: who may log in with a password, under the account
lockout of :mod:`flaskr.services.accounts.lockout`."""

from __future__ import annotations

import typing as t

from flaskr.db import db
from flaskr.models import User
from flaskr.models import username_key
from flaskr.models.governance import PENDING
from flaskr.models.governance import REMOVED
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.directory import authenticate
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.directory import verify_password
from flaskr.services.accounts.lockout import clear_login_failures
from flaskr.services.accounts.lockout import record_login_failure
from flaskr.services.accounts.lockout import refuse_if_locked_out
from flaskr.services.accounts.recovery import account_for_address
from flaskr.services.accounts.second_factor import has_second_factor
from flaskr.services.accounts.second_factor import prove
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.security_log import log_event
from flaskr.services.base.security_log import unknown_name


def _who(name: str) -> dict[str, t.Any]:
    """Log fields naming the account behind ``name`` without logging a typo'd
    password: the user's id if there is one, else a hash of what was typed."""
    user = find_user(name)
    return {"user_id": user.id} if user else {"unknown_name": unknown_name(name)}


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


#: Why a door that cannot ask for a second factor refuses an account with one.
SECOND_FACTOR_DOOR_MESSAGE = (
    "This account logs in with a second factor, which this login cannot ask"
    " for. Make an API token on your account page (Account, API tokens) and"
    " send it as 'Authorization: Token ...'."
)


def log_in(
    name: str,
    password: str,
    *,
    via: str | None = None,
    waiting_allowed: bool = True,
    second_step_possible: bool = True,
) -> int | None:
    """The id of the user these credentials are for, or ``None`` (a failure
    that counts toward the account's lockout); logs ``login_succeeded`` or
    ``login_failed``.

    :param via: how the user came (``"api"``), for the log; ``None`` for the
        site's pages.
    :param waiting_allowed: an account waiting for approval may log in (the
        site's pages, which show it only that it waits).
    :param second_step_possible: the door can ask for a second factor (the
        site's pages); where it cannot (the JSON API), an account with one
        is refused, so the password alone never opens it.
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
        if user is not None and has_second_factor(user):
            if not second_step_possible:
                log_event("login_refused_second_factor", user_id=user_id, **_door(via))
                raise NotAllowed(SECOND_FACTOR_DOOR_MESSAGE)
            # Not logged in yet: the second step logs the success.
            log_event("login_password_accepted", user_id=user_id, **_door(via))
        else:
            log_event("login_succeeded", user_id=user_id, **_door(via))
        return user_id
    record_login_failure(account)
    log_event("login_failed", **_who(name))
    return None


def log_in_by_address(
    address: str,
    password: str,
    *,
    via: str | None = None,
    waiting_allowed: bool = True,
    second_step_possible: bool = True,
) -> int | None:
    """:func:`log_in` for the account that logs in with the e-mail ``address``
    (``recovery.account_for_address``): the same lockout, counted on the
    account whichever name or address was typed.

    :raise LockedOut: the account (or, for an unknown address, the address)
        is locked out.
    """
    user = account_for_address(address)
    if user is not None:
        return log_in(
            user.username,
            password,
            via=via,
            waiting_allowed=waiting_allowed,
            second_step_possible=second_step_possible,
        )
    account = "@" + address.strip().lower()
    refuse_if_locked_out(account, lambda: {"unknown_name": unknown_name(address)})
    authenticate("", password)  # the same hash cost as a real account's
    record_login_failure(account)
    log_event("login_failed", unknown_name=unknown_name(address))
    return None


def finish_second_step(user: User, code: str) -> str | None:
    """The second step of a login after the password: a code from the app or
    a recovery code. The step taken, or ``None`` (counted toward the
    account's lockout and mailed to its owner); logs ``login_succeeded``.

    :raise LockedOut: the account is locked out, even if the code is right.
    :raise NotAllowed: the account was suspended or removed meanwhile.
    """
    step = prove(user, code)
    if step is None:
        return None
    refusal = state_refusal(user, waiting_allowed=True)
    if refusal is not None:
        raise NotAllowed(refusal)
    log_event("login_succeeded", user_id=user.id, second_step=step)
    return step


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
