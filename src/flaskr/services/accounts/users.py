"""Account use cases: registering, renaming, changing the password, updating
an account from the JSON API, deleting it.

Each one is whole: it checks every field itself and refuses with one
:class:`~flaskr.services.base.errors.Invalid` naming each field's problems
(nothing changed), decides, writes everything in one transaction, commits
once, and logs its security events. The HTML views, the JSON API, the
importers and the command line only translate.

A rename leaves the old name to its user for
:func:`~.directory.name_hold` (``FormerUsername``): ``/u/<old>`` then sends
readers on, and nobody else can register it and pose as them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.models import FormerUsername
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.models import username_key
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import PENDING
from flaskr.services.accounts import joining
from flaskr.services.accounts.directory import name_problem_for
from flaskr.services.accounts.directory import new_user
from flaskr.services.accounts.directory import set_password
from flaskr.services.accounts.directory import taken_name_message
from flaskr.services.accounts.directory import username_problem
from flaskr.services.accounts.login_policy import check_password_attempt
from flaskr.services.accounts.passwords import password_problem
from flaskr.services.accounts.profiles import attach_avatar
from flaskr.services.accounts.profiles import bio_problem
from flaskr.services.accounts.profiles import clear_avatar
from flaskr.services.accounts.profiles import display_name_problem
from flaskr.services.accounts.profiles import forget_avatar
from flaskr.services.accounts.profiles import set_profile
from flaskr.services.accounts.profiles import website_problem
from flaskr.services.accounts.recovery import address_taken_problem
from flaskr.services.accounts.recovery import ask_to_confirm
from flaskr.services.accounts.recovery import email_key
from flaskr.services.accounts.recovery import email_problem
from flaskr.services.accounts.recovery import LinkFor
from flaskr.services.accounts.recovery import offer_address
from flaskr.services.accounts.recovery import pending_address
from flaskr.services.accounts.sessions import delete_sessions_of_user
from flaskr.services.accounts.sessions import issue_api_token
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.events import ACCOUNT_DELETED
from flaskr.services.base.events import ACCOUNT_RENAMED
from flaskr.services.base.events import record_event
from flaskr.services.base.events import record_post_deletions
from flaskr.services.base.images import ProcessedAvatar
from flaskr.services.base.security_log import log_event
from flaskr.services.base.site import claim_first_admin
from flaskr.services.social.reactions import forget_user
from flaskr.services.social.subscriber_admin import stop_mail_of_account


@dataclasses.dataclass(frozen=True)
class AddressLinks:
    """The site's links that mail about an address carries; the doors own
    the URLs."""

    #: Makes the link that confirms an address from its token.
    confirm: LinkFor
    #: "Forgot your password?", for the owner of an address someone else gave.
    forgot: str


def _door(via: str | None) -> dict[str, str]:
    """Log fields naming the way in, when it is not the site's pages."""
    return {} if via is None else {"via": via}


def _refuse_taken_name(username: str, user_id: int | None) -> None:
    """:raise Invalid: another account has or holds ``username``."""
    Invalid.collect({"username": name_problem_for(username, user_id)})


@contextlib.contextmanager
def _name_guarded(username: str) -> t.Iterator[None]:
    """Run the writes and the commit of a use case that gives an account
    ``username``; if the unique index on names refuses (someone took the name
    since it was checked), or anything else fails, roll everything back.

    :raise Invalid: the name was taken meanwhile (nothing changed).
    """
    try:
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Invalid.of("username", taken_name_message(username)) from None
    except BaseException:
        db.session.rollback()
        raise


def register(
    username: str,
    password: str,
    email: str = "",
    *,
    links: AddressLinks | None = None,
    email_required: bool = False,
    via: str | None = None,
    invitation: str | None = None,
) -> User:
    """Register an account and commit; the site's first account becomes its
    administrator (``FIRST_ACCOUNT_IS_ADMIN``), and an address, if given, is
    mailed a link to confirm it, all in the same transaction.

    Who may join decides (``joining.entry``): the account gets the site's
    default role, or the invitation's (used up in the same transaction); it
    waits for approval (``pending``) on a site that approves new members.

    :param links: needed with an address.
    :param email_required: refuse a registration without an address (the
        JSON API's, as RealWorld's spec has it).
    :param via: how the user came (``"api"``), for the log.
    :param invitation: the token of the invitation link the user came with.
    :raise NotAllowed: registration is closed, or needs an invitation and
        ``invitation`` is missing, used, expired or withdrawn.
    :raise Invalid: with ``username``, ``password`` and ``email`` problems,
        including a name another account has or holds and an address at a
        refused domain (nothing changed).
    """
    return _register(
        username, password, email, links, email_required, via, invitation=invitation
    )


def register_api_client(
    username: str, password: str, email: str, *, links: AddressLinks, user_agent: str
) -> tuple[User, str]:
    """The JSON API's registration: :func:`register` with the address
    required, and the client's first API token made in the same transaction,
    so that no account is left without the token its client was answered.

    Only while anyone may join (or on a fresh site): accounts that wait for
    approval or need an invitation register on the website.

    :return: the account and its token (only the token's hash is kept).
    :raise NotAllowed: the site does not take members openly.
    :raise Invalid: as :func:`register` (nothing changed).
    """
    terms = joining.entry(None)
    if not terms.allowed or terms.pending:
        raise NotAllowed(joining.API_REGISTRATION_CLOSED)
    tokens: list[str] = []
    user = _register(
        username,
        password,
        email,
        links,
        True,
        "api",
        also=lambda user: tokens.append(issue_api_token(user.id, user_agent)),
    )
    return user, tokens[0]


def _register(
    username: str,
    password: str,
    email: str,
    links: AddressLinks | None,
    email_required: bool,
    via: str | None,
    also: t.Callable[[User], object] | None = None,
    invitation: str | None = None,
) -> User:
    """:func:`register`; ``also`` writes more for the new account in the same
    transaction."""
    terms = joining.entry(invitation)
    if not terms.allowed:
        raise NotAllowed(terms.message)
    if not email:
        email_check = "Email is required." if email_required else None
    else:
        email_check = email_problem(email) or joining.refused_address_problem(email)
    Invalid.collect(
        {
            "username": username_problem(username),
            "password": password_problem(password, username),
            "email": email_check,
        }
    )
    _refuse_taken_name(username, None)
    if email and links is None:
        raise TypeError("register() needs links to mail an address")
    with _name_guarded(username):
        user = new_user(username, password)
        user.role = terms.role
        if terms.pending:
            user.state = PENDING
        db.session.flush()  # the account's id, for its address and the admin check
        if terms.invited and invitation:
            user.role = joining.use_invitation(invitation, user)
        address_event = None
        if email and links is not None:
            address_event = offer_address(user, email, links.confirm, links.forgot)
        made_admin = current_app.config["FIRST_ACCOUNT_IS_ADMIN"] and claim_first_admin(
            user
        )
        if made_admin and user.state == PENDING:
            user.state = ACTIVE  # a fresh site's first account never waits
        if also is not None:
            also(user)
    log_event(
        "registered",
        user_id=user.id,
        **_door(via),
        **({"state": PENDING} if user.state == PENDING else {}),
        **({"invited": True} if terms.invited else {}),
    )
    if made_admin:
        log_event("admin_added", user_id=user.id, by="first_account")
    if address_event is not None:
        log_event(address_event, user_id=user.id)
    return user


def register_user(
    username: str,
    password: str,
    *,
    created: dt.datetime | None = None,
    display_name: str = "",
    bio: str = "",
    website: str = "",
    avatar: ProcessedAvatar | None = None,
) -> User:
    """An account for a writer brought in by an import, with the profile the
    archive gives: the name and password checked as a registration's, without
    its mail or first-account rule, and the profile as the profile page's;
    all committed at once, and ``registered`` logged (``via="import"``).

    :param created: when the account was made on the site it comes from.
    :raise Invalid: with ``username``, ``password``, ``display_name``, ``bio``
        or ``website`` problems (nothing changed).
    """
    Invalid.collect(
        {
            "username": username_problem(username),
            "password": password_problem(password, username),
            "display_name": display_name_problem(display_name),
            "bio": bio_problem(bio),
            "website": website_problem(website),
        }
    )
    _refuse_taken_name(username, None)
    with _name_guarded(username):
        user = new_user(username, password)
        if created is not None:
            user.created = created
        set_profile(user, display_name=display_name, bio=bio, website=website)
        if avatar is not None:
            db.session.flush()
            attach_avatar(user, avatar)
    log_event("registered", user_id=user.id, via="import")
    return user


def _give_name(user: User, new_username: str) -> None:
    """Rename ``user`` (the name checked by the caller) and hold the old name
    for them; the caller commits."""
    new_key, old_key = username_key(new_username), user.username_key
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


def rename(user: User, new_username: str, password: str) -> None:
    """Give the user a new name after checking their password, and hold the
    old one for them; commit and log ``username_changed``.

    The password is asked only of a name that meets the rules, so a typo
    costs no attempt; whether a name is taken is told only after it.

    :raise Invalid: with ``username`` or ``password`` problems: the rules, a
        wrong password, the user's own name, a name another account has or
        holds (nothing changed).
    :raise LockedOut: too many wrong passwords for this account.
    """
    Invalid.collect({"username": username_problem(new_username)})
    if not check_password_attempt(user, password):
        raise Invalid.of("password", "That is not your password.")
    if new_username == user.username:
        raise Invalid.of("username", "That is your username already.")
    _refuse_taken_name(new_username, user.id)
    with _name_guarded(new_username):
        _give_name(user, new_username)
    log_event("username_changed", user_id=user.id)


def change_password(
    user: User,
    current_password: str,
    new_password: str,
    *,
    keep_session: str | None,
    via: str | None = None,
) -> int:
    """Set a new password after checking the current one, and end the user's
    other sessions and tokens; commit and log ``password_changed``.

    :param keep_session: the id of the session (or API token) asking, kept.
    :return: how many other sessions ended.
    :raise Invalid: with ``current_password`` or ``new_password`` problems.
    :raise LockedOut: too many wrong passwords for this account.
    """
    if not current_password:
        raise Invalid.of("current_password", "Enter your current password.")
    if not check_password_attempt(user, current_password):
        raise Invalid.of("current_password", "That is not your current password.")
    Invalid.collect({"new_password": password_problem(new_password, user.username)})
    set_password(user, new_password)
    ended = delete_sessions_of_user(user.id, keep=keep_session)
    db.session.commit()
    log_event("password_changed", user_id=user.id, sessions_ended=ended, **_door(via))
    return ended


def shown_address(user: User) -> str:
    """The confirmed address, else the one waiting for its link, else ""."""
    return user.email or pending_address(user) or ""


def _is_shown_address(user: User, address: str) -> bool:
    if email_problem(address) is not None:
        return False
    shown = shown_address(user)
    return bool(shown) and email_key(shown) == email_key(address)


@dataclasses.dataclass(frozen=True)
class AccountUpdate:
    """What a client asks to change of an account; ``None`` keeps a part."""

    username: str | None = None
    password: str | None = None
    #: Needed to change the username or the password.
    current_password: str | None = None
    email: str | None = None
    bio: str | None = None
    #: The picture: its address as the client was shown it keeps it, an
    #: empty one removes it; pictures are not fetched from anywhere.
    image: str | None = None


def update_account(
    user: User,
    update: AccountUpdate,
    *,
    image_address: str,
    links: AddressLinks,
    keep_session: str | None,
    via: str | None = None,
) -> None:
    """Change several parts of an account at once (the JSON API's
    ``PUT /user``): all of them, or none. Every part is checked before any is
    changed, all are written in one transaction and committed once; then
    each change's security event is logged.

    :param image_address: the address the user's picture is shown at.
    :param keep_session: the API token (or session) asking, kept when the
        password changes.
    :raise Invalid: with a problem for each part that may not change, keyed
        by the JSON API's field names (``currentPassword`` for the password
        asked again); nothing changed.
    :raise LockedOut: too many wrong passwords for this account.
    """
    renaming = update.username is not None and update.username != user.username
    new_address = update.email is not None and not _is_shown_address(user, update.email)
    image_problem = None
    if update.image not in (None, "", image_address):
        image_problem = (
            "Flaskr does not fetch pictures from other sites: upload yours"
            " on your account page."
        )
    username = update.username if renaming else None
    password = update.password
    email = update.email if new_address else None
    Invalid.collect(
        {
            "username": None if username is None else username_problem(username),
            "password": None
            if password is None
            else password_problem(password, username or user.username),
            "email": None
            if email is None
            else (email_problem(email) or joining.refused_address_problem(email))
            if email
            else "Enter an e-mail address.",
            "bio": None if update.bio is None else bio_problem(update.bio),
            "image": image_problem,
        }
    )
    if username is not None or password is not None:
        if not update.current_password:
            raise Invalid.of(
                "currentPassword",
                "Enter your current password to change your username or password.",
            )
        if not check_password_attempt(user, update.current_password):
            raise Invalid.of("currentPassword", "That is not your current password.")
    Invalid.collect(
        {
            "username": None
            if username is None
            else name_problem_for(username, user.id),
            "email": None if email is None else address_taken_problem(user, email),
        }
    )
    ended = None
    with _name_guarded(username or user.username):
        if username is not None:
            _give_name(user, username)
        if password is not None:
            set_password(user, password)
            ended = delete_sessions_of_user(user.id, keep=keep_session)
        if update.bio is not None:
            set_profile(
                user,
                display_name=user.display_name or "",
                bio=update.bio,
                website=user.website or "",
            )
        if update.image == "":
            clear_avatar(user)
        if email is not None:
            ask_to_confirm(user, email, links.confirm)
    if username is not None:
        log_event("username_changed", user_id=user.id, **_door(via))
    if ended is not None:
        log_event(
            "password_changed", user_id=user.id, sessions_ended=ended, **_door(via)
        )
    if email is not None:
        log_event("email_change_requested", user_id=user.id)


def fediverse_inboxes_of(user_id: int) -> list[str]:
    """The inboxes of a user's fediverse followers (a server's shared inbox
    once), for the event of their account's deletion: the follower rows go
    with the account, and the federation handler sends the ``Delete`` of its
    actor there."""
    found = db.session.scalars(
        sa.select(sa.func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox))
        .join(RemoteFollower, RemoteFollower.actor_id == RemoteActor.id)
        .where(RemoteFollower.user_id == user_id)
        .distinct()
    )
    return sorted(found)


@dataclasses.dataclass(frozen=True)
class DeletedAccount:
    """What went with an account."""

    posts_kept: int
    posts_deleted: int


def delete_account(user: User, password: str, *, keep_posts: bool) -> DeletedAccount:
    """Delete the user after checking their password, with their sessions,
    tokens and likes; commit and log ``account_deleted``.

    :param keep_posts: keep their posts and comments, without an author,
        instead of deleting them.
    :raise Invalid: a wrong password (``password``); nothing changed.
    :raise LockedOut: too many wrong passwords for this account.
    """
    if not check_password_attempt(user, password):
        raise Invalid.of("password", "That is not your password.")
    user_id = user.id
    forget_user(user, keep_comments=keep_posts)
    # Before its posts lose their writer: mails of them stop too.
    stop_mail_of_account(user, forget=True)
    if not keep_posts:
        record_post_deletions(
            sa.select(Post.id, Post.author_id).where(Post.author_id == user.id)
        )
    record_event(
        ACCOUNT_DELETED,
        user_id=user.id,
        username=user.username,
        kept_posts=keep_posts,
        fediverse_inboxes=fediverse_inboxes_of(user.id),
    )
    posts = sa.update(Post).values(author_id=None) if keep_posts else sa.delete(Post)
    result = db.session.execute(
        posts.where(Post.author_id == user_id).execution_options(
            synchronize_session=False
        )
    )
    if not keep_posts:
        # Pictures of the posts that go; kept posts keep theirs (their writer
        # is set to none by the database).
        db.session.execute(sa.delete(MediaImage).where(MediaImage.user_id == user_id))
    delete_sessions_of_user(user_id)
    db.session.delete(user)
    db.session.flush()
    forget_avatar(user)
    db.session.commit()
    count = affected_rows(result)
    deleted = DeletedAccount(
        posts_kept=count if keep_posts else 0,
        posts_deleted=0 if keep_posts else count,
    )
    log_event(
        "account_deleted",
        user_id=user_id,
        posts_kept=deleted.posts_kept,
        posts_deleted=deleted.posts_deleted,
    )
    return deleted
