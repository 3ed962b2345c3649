"""What writers and administrators do with subscribers: count them, list
them, remove one (CSV files are :mod:`.subscriber_csv`'s); and the mails
stopped when an account is suspended, removed or deleted.

Who sees what: an administrator sees every address; a writer sees how many
follow them, and their addresses only when the site allows it
(``SiteSettings.writers_see_subscribers``, set on ``/admin``), and then may
also remove, export and import them. An administrator's removal is in the
audit log.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import PostMailing
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.security_log import log_event
from flaskr.services.base.site import settings
from flaskr.services.base.text import contains_pattern
from flaskr.services.base.text import search_problem

#: Subscribers per page of a list.
PER_PAGE = 50
#: What ``follows`` names for the whole site.
WHOLE_SITE = "(the whole site)"
#: Why a stopped mail was not sent, for the operator.
STOPPED = "stopped: the account was suspended or removed"
REMOVED_BY_HAND = "stopped: the subscriber was removed from the list"


# Who may see and do what.


def may_see_addresses(actor: User | None, writer: User | None) -> bool:
    """Whether ``actor`` may see the addresses of ``writer``'s subscribers
    (``None``: of the site's)."""
    if roles.may_govern(actor):
        return True
    return (
        writer is not None
        and actor is not None
        and actor.id == writer.id
        and roles.may_write(actor)
        and settings().writers_see_subscribers
    )


def _may_count(actor: User | None, writer: User | None) -> bool:
    if roles.may_govern(actor):
        return True
    return (
        writer is not None
        and actor is not None
        and actor.id == writer.id
        and roles.may_write(actor)
    )


def _check_count(actor: User | None, writer: User | None) -> None:
    if not _may_count(actor, writer):
        raise NotAllowed("Only a writer and the administrators see their subscribers.")


def check_addresses(actor: User | None, writer: User | None) -> None:
    _check_count(actor, writer)
    if not may_see_addresses(actor, writer):
        raise NotAllowed(
            "This site shows writers how many subscribers they have, not who."
        )


def set_writers_see_subscribers(actor: User, allowed: bool) -> None:
    """Let writers see (and export, import and remove) their subscribers'
    addresses, or only their count; commit, and audit the change.

    :raise NotAllowed: ``actor`` is not an administrator.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator decides what writers see.")
    row = settings()
    if row.writers_see_subscribers != allowed:
        row.writers_see_subscribers = allowed
        audit.record(
            actor,
            "subscriber_visibility_changed",
            detail="writers see addresses" if allowed else "writers see counts",
        )
    db.session.commit()


# Counting and listing.


@dataclasses.dataclass(frozen=True)
class Audience:
    """How many follow a writer or the site."""

    #: Confirmed: they get the mails.
    confirmed: int
    #: Waiting for their confirmation; they get nothing yet.
    waiting: int

    @property
    def total(self) -> int:
        return self.confirmed + self.waiting


def following(writer: User | None) -> sa.ColumnElement[bool]:
    """Subscribers following ``writer`` (``None``: any subscriber at all)."""
    if writer is None:
        return sa.true()
    follows = sa.select(Subscription.subscriber_id).where(
        Subscription.author_id == writer.id
    )
    return Subscriber.id.in_(follows)


def audience(actor: User, writer: User | None) -> Audience:
    """How many follow ``writer`` (``None``: every subscriber of the site).

    :raise NotAllowed: ``actor`` is neither ``writer`` (a writer) nor an
        administrator.
    """
    _check_count(actor, writer)
    query = (
        sa.select(Subscriber.confirmed.is_not(None), sa.func.count())
        .where(following(writer))
        .group_by(Subscriber.confirmed.is_not(None))
    )
    counts = {bool(confirmed): int(n) for confirmed, n in db.session.execute(query)}
    return Audience(confirmed=counts.get(True, 0), waiting=counts.get(False, 0))


@dataclasses.dataclass(frozen=True)
class SubscriberRow:
    subscriber: Subscriber
    #: What it follows: writers' shown names, and :data:`WHOLE_SITE`.
    follows: list[str]


@dataclasses.dataclass(frozen=True)
class SubscriberPage:
    rows: list[SubscriberRow]
    #: Subscribers that match, on every page.
    total: int
    page: int
    pages: int


def follows_of(subscriber_ids: list[int]) -> dict[int, list[str]]:
    query = (
        sa.select(Subscription.subscriber_id, User.display_name, User.username)
        .outerjoin(User, User.id == Subscription.author_id)
        .where(Subscription.subscriber_id.in_(subscriber_ids))
        .order_by(Subscription.subscriber_id, Subscription.author_id.is_not(None))
    )
    follows: dict[int, list[str]] = {}
    for subscriber_id, display_name, username in db.session.execute(query):
        follows.setdefault(subscriber_id, []).append(
            display_name or username or WHOLE_SITE
        )
    return follows


def list_subscribers(
    actor: User,
    writer: User | None,
    *,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SubscriberPage:
    """A page of ``writer``'s subscribers (``None``: every subscriber), the
    newest first, with what each follows.

    :param search: part of an address, any case.
    :raise NotAllowed: ``actor`` may not see these addresses.
    :raise Invalid: a search too long, or with a NUL character.
    """
    check_addresses(actor, writer)
    Invalid.collect({"search": search_problem(search)})
    conditions = [following(writer)]
    words = search.strip().casefold()
    if words:
        conditions.append(
            Subscriber.email_key.like(contains_pattern(words), escape="\\")
        )
    total = int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Subscriber).where(*conditions)
        )
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    found = list(
        db.session.scalars(
            sa.select(Subscriber)
            .where(*conditions)
            .order_by(Subscriber.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    follows = follows_of([subscriber.id for subscriber in found])
    rows = [SubscriberRow(s, follows.get(s.id, [])) for s in found]
    return SubscriberPage(rows=rows, total=total, page=page, pages=pages)


# Removing one.


def _masked(address: str) -> str:
    """An address as the audit log keeps it: enough to recognise, not to
    mail (the log outlives the subscriber)."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def remove_subscriber(actor: User, writer: User | None, subscriber_id: int) -> str:
    """Stop mailing one subscriber; commit; return its address.

    For a writer, the subscriber stops following that writer (and goes
    altogether if it followed nothing else); an administrator on the site's
    list removes it from everything, in the audit log.

    :raise NotAllowed: ``actor`` may not see these addresses.
    :raise Invalid: no such subscriber follows ``writer``.
    """
    check_addresses(actor, writer)
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.id == subscriber_id, following(writer))
    )
    if subscriber is None:
        raise Invalid.of("subscriber", "That address is not on this list.")
    address = subscriber.email
    if writer is None:
        audit.record(
            actor,
            "subscriber_removed",
            detail=f"{_masked(address)} (subscriber {subscriber.id})",
        )
        _stop(_mails_to([subscriber.id]), REMOVED_BY_HAND)
        db.session.delete(subscriber)
    else:
        # Mails of this writer's posts written for it and not sent yet stay
        # unsent; the rest of what it follows still comes.
        _stop(_mails_to([subscriber.id], writer_id=writer.id), REMOVED_BY_HAND)
        db.session.execute(
            sa.delete(Subscription).where(
                Subscription.subscriber_id == subscriber.id,
                Subscription.author_id == writer.id,
            )
        )
        rest = sa.select(Subscription.id).where(
            Subscription.subscriber_id == subscriber.id
        )
        if db.session.scalar(rest.limit(1)) is None:
            db.session.delete(subscriber)
    log_event(
        "subscriber_removed",
        actor_id=actor.id,
        writer_id=writer.id if writer else None,
        subscriber_id=subscriber_id,
    )
    db.session.commit()
    return address


# Who and what may be mailed; mail stopped when an account stops.


def _mails_to(
    subscriber_ids: list[int] | sa.Select[t.Any], *, writer_id: int | None = None
) -> sa.Select[t.Any]:
    """The outbox mails of posts written for these subscribers (of
    ``writer_id``'s posts only, if given)."""
    query = sa.select(PostMailing.mail_id).where(
        PostMailing.subscriber_id.in_(subscriber_ids),
        PostMailing.mail_id.is_not(None),
    )
    if writer_id is not None:
        query = query.join(Post, Post.id == PostMailing.post_id).where(
            Post.author_id == writer_id
        )
    return query


def _stop(mail_ids: sa.Select[t.Any], reason: str) -> int:
    """Mark the outbox mails ``mail_ids`` names that are not sent yet as
    given up with ``reason``: kept for the operator, never sent. A sender
    that claimed one already may still send it."""
    result = db.session.execute(
        sa.update(OutboxMail)
        .where(
            OutboxMail.id.in_(mail_ids),
            OutboxMail.sent.is_(None),
            OutboxMail.failed.is_(False),
        )
        .values(failed=True, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)


def stop_mail_of_account(user: User, *, forget: bool = False) -> int:
    """Stop the subscribers' mails to and from ``user``'s account: mails of
    its posts and mails to its subscriber rows that wait in the outbox are
    marked failed (kept for the operator, never sent); return how many.

    Mails still to come leave the account out while it is suspended or
    removed: the newsletter writes none for a withheld post or for the
    subscriber row of an account that is not active.

    :param forget: the account goes for good: its subscriber rows (those it
        made, and its confirmed address's) go too, and its posts, if kept,
        are never mailed. The caller commits.
    """
    theirs = sa.select(Subscriber.id).where(
        sa.or_(
            Subscriber.user_id == user.id,
            *((Subscriber.email_key == user.email_key,) if user.email_key else ()),
        )
    )
    to_them = _mails_to(theirs)
    # A mail of this writer's posts only: a digest that also carries other
    # writers' posts still goes.
    other = aliased(PostMailing)
    other_post = aliased(Post)
    with_others = (
        sa.select(other.post_id)
        .join(other_post, other_post.id == other.post_id)
        .where(
            # A mail goes to one subscriber: its index finds the rows.
            other.subscriber_id == PostMailing.subscriber_id,
            other.mail_id == PostMailing.mail_id,
            sa.or_(other_post.author_id.is_(None), other_post.author_id != user.id),
        )
    )
    from_them = (
        sa.select(PostMailing.mail_id)
        .join(Post, Post.id == PostMailing.post_id)
        .where(
            Post.author_id == user.id,
            PostMailing.mail_id.is_not(None),
            ~with_others.exists(),
        )
    )
    stopped = _stop(to_them, STOPPED) + _stop(from_them, STOPPED)
    if forget:
        db.session.execute(
            sa.update(Post)
            .where(Post.author_id == user.id, Post.mail_subscribers.is_(True))
            .values(mail_subscribers=False)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.delete(Subscriber)
            .where(Subscriber.id.in_(theirs))
            .execution_options(synchronize_session=False)
        )
    if stopped:
        log_event("subscriber_mail_stopped", user_id=user.id, mails=stopped)
    return stopped
