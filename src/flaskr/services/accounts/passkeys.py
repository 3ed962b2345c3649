"""Passkeys (WebAuthn): adding one to an account, logging in with one, and
naming and removing them.

The ceremonies are the ``webauthn`` library's: it makes the options and
checks each response's signature, challenge, origin and relying party. What
is ours is the account around them: which passkey belongs to whom, the
sign counter, the lockout, the account's state, and the security events
and mails. The challenge travels through the caller (the web layer keeps it
in the server session, single-use and short-lived): services never see a
request.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Passkey
from flaskr.models import User
from flaskr.models.factors import PASSKEY_NAME_MAX_LENGTH
from flaskr.services.accounts.lockout import record_login_failure
from flaskr.services.accounts.lockout import refuse_if_locked_out
from flaskr.services.accounts.login_policy import state_refusal
from flaskr.services.accounts.notices import tell_owner
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.security_log import log_event

if t.TYPE_CHECKING:
    from webauthn.helpers.structs import AuthenticationCredential
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor
    from webauthn.helpers.structs import RegistrationCredential

# webauthn (with pyOpenSSL and cryptography under it) is imported in the
# functions that use it: a worker whose readers never touch a passkey never
# loads it.

#: How long the browser may wait for the authenticator, in milliseconds;
#: the web layer refuses a challenge older than its own limit anyway.
TIMEOUT_MS = 120_000

#: What a passkey proves, for the log and the owner's mail.
LOGIN = "login"
SECOND_STEP = "second step"
CONFIRM = "confirm"
RESET = "reset"
PURPOSES = (LOGIN, SECOND_STEP, CONFIRM, RESET)

_PURPOSE_WORDS = {
    LOGIN: "to log in",
    SECOND_STEP: "as the second step of a login",
    CONFIRM: "to confirm it was you",
    RESET: "to reset the password",
}

NOT_ACCEPTED = "This passkey was not accepted. Try again, or use another way in."
UNKNOWN = (
    "This passkey is not known here: it may have been removed from the account."
    " Use another passkey or your password."
)


@dataclasses.dataclass(frozen=True)
class RelyingParty:
    """The site as WebAuthn knows it: passkeys are bound to ``id`` (a
    domain) and work only on pages from ``origin``."""

    id: str
    name: str
    #: ``scheme://host[:port]``, as browsers write it in clientDataJSON.
    origin: str


@dataclasses.dataclass(frozen=True)
class Ceremony:
    """Options for the browser's ``navigator.credentials`` call, and the
    challenge they carry (for the caller to keep until the answer)."""

    options: dict[str, t.Any]
    challenge: bytes


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a passkey's name, or ``None``."""
    name = name.strip()
    if not name:
        return "Give the passkey a name, such as the device it is on."
    if len(name) > PASSKEY_NAME_MAX_LENGTH:
        return f"A passkey's name is at most {PASSKEY_NAME_MAX_LENGTH} characters."
    return None


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    from webauthn.helpers.structs import AuthenticatorTransport
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    known = {transport.value for transport in AuthenticatorTransport}
    return PublicKeyCredentialDescriptor(
        id=passkey.credential_id,
        transports=[
            AuthenticatorTransport(name)
            for name in passkey.transports.split(",")
            if name in known
        ],
    )


def _passkeys_of(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            sa.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
        )
    )


def has_passkey(user: User) -> bool:
    """Whether ``user`` has a passkey to prove who they are with."""
    found = sa.select(Passkey.id).where(Passkey.user_id == user.id).limit(1)
    return db.session.scalar(found) is not None


def registration_options(user: User, rp: RelyingParty) -> Ceremony:
    """Options to make a passkey for ``user``: discoverable (it logs in with
    no name typed), user verification preferred, none of the account's
    passkeys again. Gives the account its WebAuthn user handle the first
    time (and commits it)."""
    from webauthn import generate_registration_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import AuthenticatorSelectionCriteria
    from webauthn.helpers.structs import ResidentKeyRequirement
    from webauthn.helpers.structs import UserVerificationRequirement

    if user.webauthn_handle is None:
        user.webauthn_handle = secrets.token_bytes(32)
        db.session.commit()
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user.username,
        user_id=user.webauthn_handle,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in _passkeys_of(user)],
    )
    return Ceremony(options_to_json_dict(options), options.challenge)


def register(
    user: User,
    rp: RelyingParty,
    challenge: bytes,
    credential_json: object,
    name: str,
) -> Passkey:
    """Check the browser's answer to :func:`registration_options` and keep
    the passkey under ``name``; commits, logs and mails the owner.

    :param credential_json: the answer, as the browser's ``toJSON()`` gives
        it (a dict, or its text).
    :raise Invalid: the name (field ``name``), or the answer (field
        ``credential``: not for this challenge, origin or site, malformed,
        or a passkey already added here).
    """
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_registration_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    name = name.strip()
    Invalid.collect({"name": name_problem(name)})
    credential = _parsed(parse_registration_credential_json, credential_json)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except WebAuthnException as refusal:
        log_event("passkey_registration_refused", user_id=user.id, reason=str(refusal))
        raise Invalid.of(
            "credential", "The passkey could not be added. Try again."
        ) from None
    known = sa.select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    if db.session.scalar(known) is not None:
        raise Invalid.of("credential", "This passkey is already added to an account.")
    passkey = Passkey(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(
            transport.value for transport in credential.response.transports or []
        ),
        backed_up=verified.credential_backed_up,
        name=name,
    )
    db.session.add(passkey)
    db.session.flush()
    tell_owner(
        user,
        "second_factor_added",
        f"A passkey named “{name}” was added to your account.",
        factor="passkey",
        passkey_id=passkey.id,
    )
    db.session.commit()
    return passkey


Parsed = t.TypeVar("Parsed", "RegistrationCredential", "AuthenticationCredential")


def _parsed(parse: t.Callable[[t.Any], Parsed], credential_json: object) -> Parsed:
    """The browser's answer as the library's structure.

    :raise Invalid: it is not one (field ``credential``).
    """
    from webauthn.helpers.exceptions import WebAuthnException

    if not isinstance(credential_json, (str, dict)):
        raise Invalid.of("credential", "The browser's answer is missing.")
    try:
        return parse(credential_json)
    except (WebAuthnException, ValueError, TypeError, KeyError):
        raise Invalid.of(
            "credential", "The browser's answer is not a passkey's."
        ) from None


def login_options(rp: RelyingParty, user: User | None = None) -> Ceremony:
    """Options to prove who you are with a passkey: any of this site's
    (discoverable: the browser offers those it has) when ``user`` is
    ``None``; else one of ``user``'s (a second step, a confirmation, a
    reset).

    :raise Invalid: ``user`` has no passkey.
    """
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import UserVerificationRequirement

    allowed = None
    if user is not None:
        allowed = [_descriptor(passkey) for passkey in _passkeys_of(user)]
        if not allowed:
            # An empty list would let the browser offer any of this site's.
            raise Invalid.of("body", "This account has no passkey.")
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Ceremony(options_to_json_dict(options), options.challenge)


def authenticate(
    rp: RelyingParty,
    challenge: bytes,
    credential_json: object,
    expected_user: User | None = None,
    *,
    purpose: str = LOGIN,
) -> User:
    """The account whose passkey signed ``challenge``; commits what it
    records.

    A failed check of a known passkey counts toward its account's lockout
    and is mailed to the owner, as a wrong code is. The signature is checked
    first and the sign counter after it: a counter that did not grow (where
    the authenticator keeps one) means a copied key, and is refused.

    :param expected_user: the account the passkey must be one of (a second
        step, a confirmation, a reset); ``None`` for a login with the
        passkey alone.
    :param purpose: what it proves (:data:`PURPOSES`), for the log and mail.
    :raise Invalid: not a passkey of this site (or of ``expected_user``),
        or its check failed (field ``credential``).
    :raise LockedOut: the account is locked out.
    :raise NotAllowed: the account is suspended or removed.
    """
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    credential = _parsed(parse_authentication_credential_json, credential_json)
    passkey = db.session.scalar(
        sa.select(Passkey).where(Passkey.credential_id == credential.raw_id)
    )
    if passkey is None:
        log_event("passkey_unknown", purpose=purpose, **_expected(expected_user))
        if expected_user is not None:
            _failed(expected_user, purpose, "a passkey not of this account")
        raise Invalid.of("credential", UNKNOWN)
    user = db.session.get(User, passkey.user_id)
    assert user is not None  # the foreign key cascades
    if expected_user is not None and user.id != expected_user.id:
        _failed(expected_user, purpose, "another account's passkey")
        raise Invalid.of("credential", UNKNOWN)
    refuse_if_locked_out(user.username_key, lambda: {"user_id": user.id})
    handle = credential.response.user_handle
    if handle and user.webauthn_handle and handle != user.webauthn_handle:
        _failed(user, purpose, "a user handle not of the account")
        raise Invalid.of("credential", NOT_ACCEPTED)
    try:
        # The counter is compared below, once the signature proves it came
        # from the key: the library would compare it before.
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
        )
    except WebAuthnException as refusal:
        _failed(user, purpose, str(refusal))
        raise Invalid.of("credential", NOT_ACCEPTED) from None
    new_count, old_count = verified.new_sign_count, passkey.sign_count
    if (new_count or old_count) and new_count <= old_count:
        log_event(
            "passkey_counter_not_grown",
            user_id=user.id,
            passkey_id=passkey.id,
            counter=new_count,
            last=old_count,
        )
        _failed(user, purpose, "its sign counter did not grow: it may be copied")
        raise Invalid.of("credential", NOT_ACCEPTED)
    refusal_reason = state_refusal(user, waiting_allowed=True)
    if refusal_reason is not None:
        log_event("login_refused_state", user_id=user.id, state=user.state)
        db.session.commit()
        raise NotAllowed(refusal_reason)
    passkey.sign_count = new_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used = utcnow()
    tell_owner(
        user,
        "second_factor_used",
        f"Your passkey “{passkey.name}” was used {_PURPOSE_WORDS[purpose]}.",
        factor="passkey",
        passkey_id=passkey.id,
        purpose=purpose,
    )
    if purpose == LOGIN:
        log_event("login_succeeded", user_id=user.id, method="passkey")
    elif purpose == SECOND_STEP:
        log_event("login_succeeded", user_id=user.id, second_step="passkey")
    db.session.commit()
    return user


def _expected(user: User | None) -> dict[str, int]:
    return {} if user is None else {"user_id": user.id}


def _failed(user: User, purpose: str, reason: str) -> None:
    """Count a failed passkey check of ``user``'s toward its lockout, log it,
    tell the owner, and commit (the caller raises)."""
    record_login_failure(user.username_key)
    tell_owner(
        user,
        "second_factor_failed",
        f"A passkey was refused {_PURPOSE_WORDS[purpose]}.",
        factor="passkey",
        purpose=purpose,
        reason=reason,
    )
    db.session.commit()


def _own_passkey(user: User, passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise Invalid.of(
            "passkey", "That passkey is not on your account: it may be removed already."
        )
    return passkey


def rename(user: User, passkey_id: int, name: str) -> Passkey:
    """Give one of ``user``'s passkeys a new name; commits.

    :raise Invalid: not one of ``user``'s (field ``passkey``), or the name
        (field ``name``).
    """
    passkey = _own_passkey(user, passkey_id)
    name = name.strip()
    Invalid.collect({"name": name_problem(name)})
    if passkey.name != name:
        log_event("passkey_renamed", user_id=user.id, passkey_id=passkey.id)
        passkey.name = name
    db.session.commit()
    return passkey


def remove(user: User, passkey_id: int) -> str:
    """Remove one of ``user``'s passkeys; commits, logs and mails the
    owner. Returns its name.

    :raise Invalid: not one of ``user``'s (field ``passkey``).
    """
    passkey = _own_passkey(user, passkey_id)
    name = passkey.name
    db.session.delete(passkey)
    tell_owner(
        user,
        "second_factor_removed",
        f"The passkey “{name}” was removed from your account.",
        factor="passkey",
        passkey_id=passkey_id,
    )
    db.session.commit()
    return name
