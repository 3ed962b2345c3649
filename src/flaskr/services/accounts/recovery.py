"""Addresses on accounts, and getting an account back by mail.

An address is used only once its owner opened the link mailed to it (until
then it receives nothing else); a change is mailed to the old address too. A
password reset follows OWASP's Forgot Password cheat sheet: a random token
of 256 bits, stored only as its SHA-256, valid once and for
:data:`RESET_LIFETIME`, voided by a newer one; the new password ends every
session of the account. The views own the URLs: each function that mails a
link takes ``link_for(token)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import typing as t

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AccountToken
from flaskr.models import User
from flaskr.services.accounts import second_factor
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.directory import set_password
from flaskr.services.accounts.joining import refused_address_problem
from flaskr.services.accounts.passwords import password_problem
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.base.addresses import email_key as email_key
from flaskr.services.base.addresses import email_problem as email_problem
from flaskr.services.base.addresses import normalized_email as normalized_email
from flaskr.services.base.errors import Invalid
from flaskr.services.base.mail import record_mail
from flaskr.services.base.security_log import log_event
from flaskr.services.social import subscriptions

CONFIRM_EMAIL, RESET_PASSWORD = "confirm_email", "reset_password"
RESET_LIFETIME = dt.timedelta(minutes=30)
CONFIRM_LIFETIME = dt.timedelta(hours=24)
#: Tokens are 43 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 100

LinkFor = t.Callable[[str], str]


#: What to tell someone who asks for an address another account has.
ADDRESS_TAKEN = "Another account uses that address."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(user_id: int, purpose: str, email: str | None = None) -> str:
    """A new link's token; older unused links of the same kind stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used.is_(None),
        )
        .values(used=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=_hash(token),
            email=email,
            created=now,
        )
    )
    return token


def _valid_token(
    token: str, purpose: str, lifetime: dt.timedelta
) -> AccountToken | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == _hash(token),
            AccountToken.purpose == purpose,
            AccountToken.used.is_(None),
            AccountToken.created >= utcnow() - lifetime,
        )
    )


def _address_owner(key: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email_key == key))


def address_taken_problem(user: User, address: str) -> str | None:
    """:data:`ADDRESS_TAKEN` if another account than ``user`` confirmed
    ``address`` (a valid one), else ``None``."""
    owner = _address_owner(email_key(address))
    return ADDRESS_TAKEN if owner is not None and owner.id != user.id else None


def ask_to_confirm(user: User, address: str, link_for: LinkFor) -> None:
    """Mail a confirmation link to ``address`` (checked by the caller, and
    no other account's), and a notice to the user's current address if any;
    the caller commits and logs ``email_change_requested``."""
    address = normalized_email(address)
    token = _new_token(user.id, CONFIRM_EMAIL, email=address)
    hours = int(CONFIRM_LIFETIME.total_seconds() // 3600)
    record_mail(
        address,
        "confirm_email",
        username=user.username,
        link=link_for(token),
        hours=hours,
    )
    if user.email is not None and email_key(user.email) != email_key(address):
        record_mail(user.email, "email_change_notice", username=user.username)


def request_email_change(user: User, address: str, link_for: LinkFor) -> None:
    """Ask to use ``address``: mail it a confirmation link, and the user's
    current address a notice; commit and log. The address is the user's only
    once the link is opened.

    :raise Invalid: ``address`` is empty, not an address, at a refused
        domain, or another account's.
    """
    Invalid.collect(
        {"address": email_problem(address) if address else "Enter an e-mail address."}
    )
    Invalid.collect(
        {
            "address": refused_address_problem(address)
            or address_taken_problem(user, address)
        }
    )
    ask_to_confirm(user, address, link_for)
    db.session.commit()
    log_event("email_change_requested", user_id=user.id)


def offer_address(user: User, address: str, link_for: LinkFor, forgot_link: str) -> str:
    """For a new account: mail a confirmation link to the address it gave
    (checked by the caller). If another account has the address, its owner is
    told instead, so registering answers the same either way and does not
    tell who has an address here. The caller commits, then logs the security
    event this returns."""
    if address_taken_problem(user, address) is None:
        ask_to_confirm(user, address, link_for)
        return "email_change_requested"
    record_mail(address, "address_in_use", forgot_link=forgot_link)
    return "registration_address_in_use"


def pending_address(user: User) -> str | None:
    """The address the user asked for whose link is not opened yet, if any:
    it receives nothing but that link until then."""
    return db.session.scalar(
        sa.select(AccountToken.email)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == CONFIRM_EMAIL,
            AccountToken.used.is_(None),
            AccountToken.created >= utcnow() - CONFIRM_LIFETIME,
        )
        .order_by(AccountToken.created.desc())
        .limit(1)
    )


def confirm_email(token: str) -> User | None:
    """Give the account the address its link confirms, and commit; ``None``
    if the link is not valid (used, voided, expired or made up).

    :raise Invalid: another account confirmed the address first (nothing
        changed).
    """
    found = _valid_token(token, CONFIRM_EMAIL, CONFIRM_LIFETIME)
    if found is None or found.email is None:
        return None
    user = db.session.get(User, found.user_id)
    if user is None:
        return None
    user.email, user.email_key = found.email, email_key(found.email)
    found.used = utcnow()
    try:
        # Its first statement flushes the address: the unique index may refuse.
        subscriptions.follow_address_change(user)
        db.session.commit()
    except IntegrityError:  # the unique index on the address
        db.session.rollback()
        raise Invalid.of("address", ADDRESS_TAKEN) from None
    log_event("email_confirmed", user_id=user.id)
    return user


def find_account(login: str) -> User | None:
    """The account whose username, or confirmed address, ``login`` is."""
    login = login.strip()
    if "@" in login and email_problem(login) is None:
        return _address_owner(email_key(login))
    return find_user(login)


def account_for_address(address: str) -> User | None:
    """The account that logs in with ``address``: the one that confirmed it,
    else the one that most recently asked for it and has not opened its link
    yet (a client of the JSON API logs in by address straight after
    registering). A confirmed owner always wins, so claiming someone's address
    gains nothing; the password decides the rest."""
    if email_problem(address) is not None:
        return None
    key = email_key(address)
    owner = _address_owner(key)
    if owner is not None:
        return owner
    claimant = (
        sa.select(AccountToken.user_id)
        .where(
            AccountToken.purpose == CONFIRM_EMAIL,
            AccountToken.email == normalized_email(address),
            AccountToken.used.is_(None),
            AccountToken.created >= utcnow() - CONFIRM_LIFETIME,
        )
        .order_by(AccountToken.created.desc())
        .limit(1)
    )
    user_id = db.session.scalar(claimant)
    return None if user_id is None else db.session.get(User, user_id)


def request_password_reset(login: str, link_for: LinkFor) -> None:
    """Mail a reset link to the confirmed address of the account ``login``
    names, if there is one, and commit; do nothing otherwise. Callers answer
    the same either way (and call this after their response)."""
    user = find_account(login)
    if user is None or user.email is None:
        log_event("password_reset_requested", found=False)
        return
    token = _new_token(user.id, RESET_PASSWORD)
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    record_mail(
        user.email,
        "reset_password",
        username=user.username,
        link=link_for(token),
        minutes=minutes,
    )
    db.session.commit()
    log_event("password_reset_requested", found=True, user_id=user.id)


def account_to_reset(token: str) -> User | None:
    """The account a reset link is for, while the link is valid."""
    found = _valid_token(token, RESET_PASSWORD, RESET_LIFETIME)
    return None if found is None else db.session.get(User, found.user_id)


def reset_password(
    token: str, new_password: str, proof: second_factor.Proof | None = None
) -> User | None:
    """Set the password of the link's account, end every session of it, void
    the link and mail a notice; commit and log. ``None`` if the link is not
    valid.

    A reset link proves only the mailbox: an account with a second factor
    must also give ``proof`` (a code from its app, a recovery code, or a
    passkey), or nothing changes.

    :raise Invalid: ``new_password`` breaks the password rules (field
        ``new_password``), or the second factor is missing or wrong (field
        ``code``); the link stays valid.
    :raise LockedOut: too many wrong codes for this account.
    """
    found = _valid_token(token, RESET_PASSWORD, RESET_LIFETIME)
    if found is None:
        return None
    user = db.session.get(User, found.user_id)
    if user is None:
        return None
    Invalid.collect({"new_password": password_problem(new_password, user.username)})
    if second_factor.has_second_factor(user):
        second_factor.require_proof(user, proof or second_factor.Proof(), "reset")
        # The proof's check committed; the link must still be the one shown.
        found = _valid_token(token, RESET_PASSWORD, RESET_LIFETIME)
        if found is None:
            return None
    found.used = utcnow()
    set_password(user, new_password)
    ended = delete_sessions_of_user(user.id)
    if user.email is not None:
        record_mail(user.email, "password_changed", username=user.username)
    db.session.commit()
    log_event("password_reset", user_id=user.id, sessions_ended=ended)
    return user
