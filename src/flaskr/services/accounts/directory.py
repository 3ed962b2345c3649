"""Finding accounts and what every account use case checks first: the
username rules, names held after a rename, and passwords.

These are the building blocks below the use cases (:mod:`.users`,
:mod:`.recovery`, :mod:`.login_policy`): they look up and check, and change
nothing but a password hash (the caller commits).
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app
from flask import Flask

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import FormerUsername
from flaskr.models import User
from flaskr.models import username_key
from flaskr.models import USERNAME_MAX_LENGTH
from flaskr.services.accounts.passwords import Passwords

#: ASCII letters and digits plus ``.``, ``_`` and ``-``: readable in a URL, and no
#: look-alike letters from other scripts to impersonate someone with.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
USERNAME_CHARACTERS_HELP = "letters A–Z, digits and . _ -"


def taken_name_message(username: str) -> str:
    """What to tell someone who asks for a name another account has."""
    return f"User {username} is already registered."


def held_name_message(username: str) -> str:
    """What to tell someone who asks for a name another account still holds."""
    return (
        f"The name {username} was given up recently by another account and is"
        " still theirs. Choose another."
    )


def username_problem(username: str) -> str | None:
    """Why ``username`` may not be registered, or ``None`` if it may."""
    if not username:
        return "Username is required."
    if len(username) > USERNAME_MAX_LENGTH:
        return f"Username must be at most {USERNAME_MAX_LENGTH} characters long."
    if not USERNAME_PATTERN.fullmatch(username):
        return f"Username may contain only {USERNAME_CHARACTERS_HELP}."
    return None


def _passwords() -> Passwords:
    passwords: Passwords = current_app.extensions["flaskr.services.accounts.passwords"]
    return passwords


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


#: Built once: making the statement again each time cost more than running it.
_USER_BY_KEY = sa.select(User).where(User.username_key == sa.bindparam("key"))


def _searchable_key(username: str) -> str | None:
    """``username``'s key, or ``None`` for a name no account can have."""
    if not username or "\x00" in username:
        return None  # No name holds a NUL, and PostgreSQL refuses to compare it.
    return username_key(username)


def find_user(username: str) -> User | None:
    """The user called ``username``, compared without regard to case."""
    key = _searchable_key(username)
    if key is None:
        return None
    return db.session.scalars(_USER_BY_KEY, {"key": key}).one_or_none()


def name_problem_for(username: str, user_id: int | None = None) -> str | None:
    """Why the account ``user_id`` (a new one: ``None``) may not take
    ``username``, which meets the rules: another account has it, or gave it
    up recently and still holds it. ``None`` if it may."""
    owner = find_user(username)
    if owner is not None and owner.id != user_id:
        return taken_name_message(username)
    if is_held_for_another(username, user_id):
        return held_name_message(username)
    return None


#: What a login needs of an account, as a row: loading a ``User`` through the
#: ORM costs a login more than the statement does (bench/README.md).
_LOGIN_BY_KEY = sa.select(User.id, User.password_hash).where(
    User.username_key == sa.bindparam("key")
)


def authenticate(username: str, password: str) -> int | None:
    """The id of the user whose name and password these are, or ``None``.

    A missing user costs the same hash verification as a wrong password, so the
    time taken does not tell whether an account exists. A hash made with older
    parameters or by Werkzeug is replaced after a successful check, and
    committed.
    """
    passwords = _passwords()
    # Names are not checked against today's rules: accounts carried over from a
    # tutorial database may have names that would not be allowed now.
    key = _searchable_key(username)
    account = None
    if key is not None:
        query = db.session.connection().execute(_LOGIN_BY_KEY, {"key": key})
        account = query.first()
    if account is None:
        passwords.verify(passwords.dummy_hash, password)
        return None
    matches, needs_rehash = passwords.verify(account.password_hash, password)
    if not matches:
        return None
    if needs_rehash:
        db.session.execute(
            sa.update(User)
            .where(User.id == account.id)
            .values(password_hash=passwords.hash(password))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return int(account.id)


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's, as asked again before a risky change."""
    matches, _ = _passwords().verify(user.password_hash, password)
    return matches


def set_password(user: User, new_password: str) -> None:
    """Give the user a new password (checked by the caller); the caller commits."""
    user.password_hash = _passwords().hash(new_password)


def new_user(username: str, password: str) -> User:
    """A new account (name and password checked by the caller), added to the
    session; the caller commits, and the unique index on the name decides a
    race."""
    user = User(username=username, password_hash=_passwords().hash(password))
    db.session.add(user)
    return user


def name_hold() -> dt.timedelta:
    """How long a name given up by a rename stays its user's."""
    return dt.timedelta(days=current_app.config["USERNAME_HOLD_DAYS"])


def _former_name(key: str) -> FormerUsername | None:
    """The hold on a former name while it lasts."""
    return db.session.scalar(
        sa.select(FormerUsername).where(
            FormerUsername.username_key == key,
            FormerUsername.created >= utcnow() - name_hold(),
        )
    )


def former_holder(username: str) -> User | None:
    """Whose name ``username`` was until a recent rename, if anyone's."""
    key = _searchable_key(username)
    if key is None:
        return None
    hold = _former_name(key)
    return None if hold is None else db.session.get(User, hold.user_id)


def is_held_for_another(username: str, user_id: int | None = None) -> bool:
    """Whether ``username`` was recently given up by someone other than
    ``user_id``, and so may not be taken yet."""
    hold = _former_name(username_key(username))
    return hold is not None and hold.user_id != user_id


def init_app(app: Flask) -> None:
    """Set up password hashing with the app's configured argon2id parameters."""
    app.extensions["flaskr.services.accounts.passwords"] = Passwords(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=app.config["PASSWORD_HASH_MEMORY_COST"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )
