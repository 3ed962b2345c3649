"""Accounts: registering, renaming, checking passwords, changing them,
deleting accounts.

A rename leaves the old name to its user for :func:`name_hold`
(``FormerUsername``): ``/u/<old>`` then sends readers on, and nobody else can
register it and pose as them.

The HTML views use these functions today, and the JSON API and password reset
are meant to use the same ones.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from sqlalchemy.exc import IntegrityError

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import FormerUsername
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import User
from flaskr.models import username_key
from flaskr.models import USERNAME_MAX_LENGTH
from flaskr.services.accounts.passwords import Passwords
from flaskr.services.accounts.profiles import forget_avatar
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.base.events import ACCOUNT_DELETED
from flaskr.services.base.events import ACCOUNT_RENAMED
from flaskr.services.base.events import record_event
from flaskr.services.base.events import record_post_deletions
from flaskr.services.social.reactions import forget_user

#: ASCII letters and digits plus ``.``, ``_`` and ``-``: readable in a URL, and no
#: look-alike letters from other scripts to impersonate someone with.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
USERNAME_CHARACTERS_HELP = "letters A–Z, digits and . _ -"


class UsernameTakenError(Exception):
    """Another account has this username, perhaps in other letter case."""


class UsernameHeldError(UsernameTakenError):
    """Another account gave this name up recently; it is still theirs."""


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


def register_user(username: str, password: str) -> User:
    """Create and commit a user; the caller has checked the name and password.

    :raise UsernameTakenError: the name is taken, including by a registration
        that raced this one; the unique index decides which one wins.
    :raise UsernameHeldError: another account gave the name up recently.
    """
    if is_held_for_another(username):
        raise UsernameHeldError(username)
    user = User(username=username, password_hash=_passwords().hash(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise UsernameTakenError(username) from None
    return user


#: What a login needs of an account, as a row: loading a ``User`` through the
#: ORM costs a login more than the statement does (bench/README.md).
_LOGIN_BY_KEY = sa.select(User.id, User.password_hash).where(
    User.username_key == sa.bindparam("key")
)


def authenticate(username: str, password: str) -> int | None:
    """The id of the user whose name and password these are, or ``None``.

    A missing user costs the same hash verification as a wrong password, so the
    time taken does not tell whether an account exists. A hash made with older
    parameters or by Werkzeug is replaced after a successful check.
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


def change_password(user: User, new_password: str, *, keep_session: str | None) -> int:
    """Set a new password and end the user's other sessions; commit.

    :param keep_session: the id of the session to keep (the one asking).
    :return: how many other sessions ended.
    """
    set_password(user, new_password)
    ended = delete_sessions_of_user(user.id, keep=keep_session)
    db.session.commit()
    return ended


def delete_account(user: User, *, keep_posts: bool) -> int:
    """Delete the user, their sessions and likes; commit.

    :param keep_posts: keep their posts and comments, without an author,
        instead of deleting them.
    :return: how many posts were kept or deleted.
    """
    forget_user(user, keep_comments=keep_posts)
    if not keep_posts:
        record_post_deletions(
            sa.select(Post.id, Post.author_id).where(Post.author_id == user.id)
        )
    record_event(
        ACCOUNT_DELETED, user_id=user.id, username=user.username, kept_posts=keep_posts
    )
    posts = sa.update(Post).values(author_id=None) if keep_posts else sa.delete(Post)
    result = db.session.execute(
        posts.where(Post.author_id == user.id).execution_options(
            synchronize_session=False
        )
    )
    if not keep_posts:
        # Pictures of the posts that go; kept posts keep theirs (their writer
        # is set to none by the database).
        db.session.execute(sa.delete(MediaImage).where(MediaImage.user_id == user.id))
    delete_sessions_of_user(user.id)
    db.session.delete(user)
    db.session.flush()
    forget_avatar(user)
    db.session.commit()
    return affected_rows(result)


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


def rename(user: User, new_username: str) -> None:
    """Give the user a new name (checked against the rules by the caller) and
    hold the old one for them; commit.

    :raise UsernameTakenError: another account has the name.
    :raise UsernameHeldError: another account gave it up recently.
    """
    new_key, old_key = username_key(new_username), user.username_key
    owner = find_user(new_username)
    if owner is not None and owner.id != user.id:
        raise UsernameTakenError(new_username)
    if is_held_for_another(new_username, user.id):
        raise UsernameHeldError(new_username)
    if new_key != old_key:
        # The name's old hold (expired, or the user's own) gives way, and so
        # does an expired hold of someone else's on the name being left.
        db.session.execute(
            sa.delete(FormerUsername)
            .where(FormerUsername.username_key.in_([new_key, old_key]))
            .execution_options(synchronize_session=False)
        )
        db.session.add(FormerUsername(username_key=old_key, user_id=user.id))
    if new_username != user.username:
        record_event(
            ACCOUNT_RENAMED,
            user_id=user.id,
            old_username=user.username,
            new_username=new_username,
        )
    user.username, user.username_key = new_username, new_key
    try:
        db.session.commit()
    except IntegrityError:  # the name was taken since the look-up
        db.session.rollback()
        raise UsernameTakenError(new_username) from None


def init_app(app: Flask) -> None:
    """Set up password hashing with the app's configured argon2id parameters."""
    app.extensions["flaskr.services.accounts.passwords"] = Passwords(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=app.config["PASSWORD_HASH_MEMORY_COST"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )
