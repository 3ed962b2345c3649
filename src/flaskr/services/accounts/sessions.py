"""Sessions kept on the server: their rows, expiry and revocation.

Flask's default session is the whole session in a signed cookie, so a copy of
the cookie taken before logout keeps working afterwards. Here the cookie holds
only a random token, signed; the data lives in the ``auth_session`` table under
the token's SHA-256. Ending a session deletes its row, which ends every copy of
the cookie. No library did this with per-user listing and revocation (which
the account page needs), so it is written here. Loading and saving the session
of a request is :mod:`flaskr.plumbing.server_sessions`'s part.

The JSON API's tokens are sessions of another kind (``api_token``): random,
kept as their SHA-256, with a fixed lifetime and the same idle timeout. They
are listed and ended with the browser sessions, so "log out everywhere", a new
password and a password reset end them too. A token its owner makes on the
account page for a script or an app carries a name, lasts
``API_NAMED_TOKEN_LIFETIME`` and has no idle timeout: a monthly script keeps
working.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import time
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from itsdangerous import BadSignature
from itsdangerous import Signer

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import API_TOKEN_NAME_MAX_LENGTH
from flaskr.models import ApiToken
from flaskr.models import AuthSession
from flaskr.services.accounts.presence import mark_seen
from flaskr.services.base.errors import ServiceError
from flaskr.services.base.security_log import log_event

#: ``app.extensions`` key: when this process last purged expired sessions.
_LAST_PURGE = "flaskr.sessions.last_purge"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signer(app: Flask) -> Signer:
    return Signer(
        # The config refuses to start without a secret key (flaskr.config).
        app.secret_key,  # type: ignore[arg-type]
        salt="flaskr.session",
        key_derivation="hmac",
        digest_method=hashlib.sha256,
    )


def session_id_from_cookie(app: Flask, cookie: str) -> str | None:
    """The ``auth_session`` row id a session cookie names, or ``None`` if the
    cookie was not signed by this site."""
    try:
        token = signer(app).unsign(cookie).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    return token_hash(token)


def is_expired(
    config: t.Mapping[str, t.Any],
    *,
    created: dt.datetime,
    last_seen: dt.datetime,
    logged_in: bool,
    now: dt.datetime,
) -> bool:
    """Whether a session is past its idle timeout (a visitor's is shorter) or
    its absolute lifetime."""
    idle_limit: dt.timedelta = config[
        "SESSION_IDLE_TIMEOUT" if logged_in else "SESSION_VISITOR_IDLE_TIMEOUT"
    ]
    lifetime: dt.timedelta = config["SESSION_ABSOLUTE_LIFETIME"]
    return now - last_seen > idle_limit or now - created > lifetime


def needs_touch(
    config: t.Mapping[str, t.Any], *, last_seen: dt.datetime, now: dt.datetime
) -> bool:
    """Whether ``last_seen`` is old enough to be worth a write.

    Writing it on every request would make every page a database write.
    """
    interval: dt.timedelta = config["SESSION_TOUCH_INTERVAL"]
    return now - last_seen > interval


def delete_session_record(record_id: str) -> None:
    """Delete a session row, whether or not another request already did.
    The caller commits."""
    db.session.execute(
        sa.delete(AuthSession)
        .where(AuthSession.id == record_id)
        .execution_options(synchronize_session=False)
    )


def sessions_of_user(user_id: int) -> list[AuthSession]:
    """The user's sessions, most recently used first."""
    query = (
        sa.select(AuthSession)
        .where(AuthSession.user_id == user_id)
        .order_by(AuthSession.last_seen.desc())
    )
    return list(db.session.scalars(query))


def delete_sessions_of_user(user_id: int, *, keep: str | None = None) -> int:
    """Delete the user's sessions and API tokens, except the one with id
    ``keep``; return how many. The caller commits."""
    ended = 0
    for table in (AuthSession, ApiToken):
        query = sa.delete(table).where(table.user_id == user_id)
        if keep is not None:
            query = query.where(table.id != keep)
        result = db.session.execute(query.execution_options(synchronize_session=False))
        ended += affected_rows(result)
    return ended


def end_sessions_of_user(
    user_id: int, *, keep: str | None = None, by: str | None = None
) -> int:
    """Log the user out everywhere but in session ``keep``; commit, log
    ``sessions_revoked`` and return how many sessions ended.

    :param by: who asked, if not the user (``"admin"``), for the log.
    """
    ended = delete_sessions_of_user(user_id, keep=keep)
    db.session.commit()
    by_whom = {} if by is None else {"by": by}
    log_event("sessions_revoked", user_id=user_id, sessions_ended=ended, **by_whom)
    return ended


#: Session ids are SHA-256 digests, in lower-case hexadecimal.
_SESSION_ID_LENGTH = 64
_HEX = frozenset("0123456789abcdef")


def _delete_session_of_user(user_id: int, session_id: str) -> bool:
    """Delete one of the user's sessions or API tokens; whether there was
    one. The caller commits."""
    if len(session_id) != _SESSION_ID_LENGTH or not set(session_id) <= _HEX:
        return False  # not an id we made; PostgreSQL refuses some (a NUL)
    ended = 0
    for table in (AuthSession, ApiToken):
        result = db.session.execute(
            sa.delete(table)
            .where(table.id == session_id, table.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        ended += affected_rows(result)
    return ended > 0


def end_session_of_user(user_id: int, session_id: str) -> bool:
    """Log out one of the user's other sessions; commit, log
    ``sessions_revoked`` and say whether there was such a session (a session
    of someone else's is not touched)."""
    ended = _delete_session_of_user(user_id, session_id)
    db.session.commit()
    if ended:
        log_event("sessions_revoked", user_id=user_id, sessions_ended=1)
    return ended


def log_out(user_id: int, session_id: str | None) -> None:
    """End the session a user logs out of (``None``: it has no row yet);
    commit and log ``logged_out``. The door forgets its cookie."""
    if session_id is not None:
        _delete_session_of_user(user_id, session_id)
    db.session.commit()
    log_event("logged_out", user_id=user_id)


def _api_token_lifetime() -> dt.timedelta:
    lifetime: dt.timedelta = current_app.config["API_TOKEN_LIFETIME"]
    return lifetime


def issue_api_token(user_id: int, user_agent: str) -> str:
    """A new API token for the user (kept as its hash), valid for
    ``API_TOKEN_LIFETIME`` while used at least every ``SESSION_IDLE_TIMEOUT``;
    the caller commits. A login: the account is seen now."""
    mark_seen(user_id)
    return _add_api_token(user_id, user_agent, "", _api_token_lifetime())


def start_api_session(user_id: int, user_agent: str) -> str:
    """Make and commit the token of an API login (or registration), as
    :func:`issue_api_token` describes; return it (only its hash is kept)."""
    token = issue_api_token(user_id, user_agent)
    db.session.commit()
    return token


def _add_api_token(
    user_id: int, user_agent: str, name: str, lifetime: dt.timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        ApiToken(
            id=token_hash(token),
            user_id=user_id,
            created=now,
            last_used=now,
            expires=now + lifetime,
            user_agent=user_agent[:_STORED_USER_AGENT],
            name=name,
        )
    )
    return token


#: Named tokens one account may have at once: enough for every script and
#: app of one writer, and a bound on rows made by a stolen session.
MAX_NAMED_TOKENS = 20


class TokenRefused(ServiceError):
    """A named API token that may not be made; ``str(error)`` says why."""


def token_name_problem(name: str) -> str | None:
    """Why ``name`` may not name an API token, or ``None`` if it may."""
    if not name.strip():
        return "Name the token after what will use it, such as “Backup script”."
    if len(name) > API_TOKEN_NAME_MAX_LENGTH:
        return f"A token's name must be at most {API_TOKEN_NAME_MAX_LENGTH} characters."
    if not name.isprintable():
        return "A token's name must not contain control characters."
    return None


def issue_named_api_token(user_id: int, name: str) -> str:
    """Make, commit and log a token named ``name`` for the user's scripts
    and apps; return it (the only time it is seen: only its hash is kept).
    It lasts ``API_NAMED_TOKEN_LIFETIME`` however seldom it is used.

    :raise TokenRefused: the name is refused, another of the user's tokens
        has it, or the user has ``MAX_NAMED_TOKENS`` already.
    """
    name = " ".join(name.split())
    if problem := token_name_problem(name):
        raise TokenRefused(problem)
    names = list(
        db.session.scalars(
            sa.select(ApiToken.name).where(
                ApiToken.user_id == user_id, ApiToken.name != ""
            )
        )
    )
    if name in names:
        raise TokenRefused(
            f"You have a token named “{name}” already: choose another name,"
            " or revoke that one first."
        )
    if len(names) >= MAX_NAMED_TOKENS:
        raise TokenRefused(
            f"You have {MAX_NAMED_TOKENS} tokens, the most an account may have:"
            " revoke one you no longer use first."
        )
    lifetime: dt.timedelta = current_app.config["API_NAMED_TOKEN_LIFETIME"]
    token = _add_api_token(user_id, "", name, lifetime)
    db.session.commit()
    log_event("api_token_created", user_id=user_id, token_name=name)
    return token


def revoke_api_token(user_id: int, token_id: str) -> bool:
    """End one of the user's API tokens, by the id the account page lists it
    under, and log it; whether there was such a token (someone else's is not
    touched)."""
    if len(token_id) != _SESSION_ID_LENGTH or not set(token_id) <= _HEX:
        return False  # not an id we made; PostgreSQL refuses some (a NUL)
    name = db.session.scalar(
        sa.delete(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        .returning(ApiToken.name)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if name is None:
        return False
    log_event("api_token_revoked", user_id=user_id, token_name=name)
    return True


#: API tokens are 43 characters; anything much longer is not one of ours.
_MAX_API_TOKEN_LENGTH = 100


def api_token_record(token: str) -> ApiToken | None:
    """The live token row for ``token``, or ``None`` (unknown, ended, expired or
    idle too long). Its last use is written at most every
    ``SESSION_TOUCH_INTERVAL``, and committed."""
    if not token or len(token) > _MAX_API_TOKEN_LENGTH or not token.isascii():
        return None
    record = db.session.get(ApiToken, token_hash(token))
    now = utcnow()
    config = current_app.config
    if (
        record is None
        or record.expires <= now
        or (
            not record.name  # a named token has no idle timeout
            and now - record.last_used > config["SESSION_IDLE_TIMEOUT"]
        )
    ):
        return None
    # A named token's first use is written at once: the account page says
    # "never" until then (a login token is used by the login that made it).
    never_used = bool(record.name) and record.last_used == record.created
    if needs_touch(config, last_seen=record.last_used, now=now) or never_used:
        record.last_used = now
        db.session.commit()
    return record


def api_tokens_of_user(user_id: int) -> list[ApiToken]:
    """The user's API tokens (named and of API logins), most recently used
    first."""
    query = (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.last_used.desc())
    )
    return list(db.session.scalars(query))


#: How much of an unrecognised ``User-Agent`` the account page shows.
_SHOWN_USER_AGENT = 60
#: How much of a ``User-Agent`` is kept (the column's size).
_STORED_USER_AGENT = 200


@functools.lru_cache(maxsize=256)
def browser_name(user_agent: str) -> str:
    """A person's name for the browser a ``User-Agent`` names, such as
    "Firefox on Windows"; the start of the header when no browser in it is
    recognised, and "Unknown browser" without one.

    ``ua-parser`` reads it (its rules are loaded on the first call: only the
    account page asks).
    """
    from ua_parser import parse

    found = parse(user_agent) if user_agent else None
    browser = found.user_agent.family if found and found.user_agent else None
    system = found.os.family if found and found.os else None
    if browser in (None, "Other"):
        printable = "".join(c if c.isprintable() else " " for c in user_agent)
        return " ".join(printable.split())[:_SHOWN_USER_AGENT] or "Unknown browser"
    if system in (None, "Other"):
        return browser
    return f"{browser} on {system}"


def delete_expired_sessions() -> int:
    """Delete every session past its idle timeout (a visitor's is shorter) or
    absolute lifetime; return how many. The caller commits."""
    now = utcnow()
    config = current_app.config
    query = sa.delete(AuthSession).where(
        sa.or_(
            AuthSession.last_seen < now - config["SESSION_IDLE_TIMEOUT"],
            sa.and_(
                AuthSession.user_id.is_(None),
                AuthSession.last_seen < now - config["SESSION_VISITOR_IDLE_TIMEOUT"],
            ),
            AuthSession.created < now - config["SESSION_ABSOLUTE_LIFETIME"],
        )
    )
    result = db.session.execute(query.execution_options(synchronize_session=False))
    tokens = sa.delete(ApiToken).where(
        sa.or_(
            ApiToken.expires <= now,
            sa.and_(
                ApiToken.name == "",
                ApiToken.last_used < now - config["SESSION_IDLE_TIMEOUT"],
            ),
        )
    )
    expired_tokens = db.session.execute(
        tokens.execution_options(synchronize_session=False)
    )
    return affected_rows(result) + affected_rows(expired_tokens)


def purge_expired_sessions() -> int:
    """Delete every expired session; return how many."""
    purged = delete_expired_sessions()
    db.session.commit()
    return purged


def purge_expired_sessions_if_due() -> None:
    """Delete expired sessions of anyone, at most once per
    ``SESSION_PURGE_INTERVAL`` in each process, so that logins clean up as they
    go at little cost. The caller commits."""
    app = current_app
    now = time.monotonic()
    last_purge = app.extensions.get(_LAST_PURGE)
    if last_purge is None or now - last_purge >= (
        app.config["SESSION_PURGE_INTERVAL"].total_seconds()
    ):
        app.extensions[_LAST_PURGE] = now
        delete_expired_sessions()
