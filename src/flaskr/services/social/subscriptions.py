"""Following by e-mail: the use cases of a subscriber and of those who see
the subscribers.

Double opt-in: asking to follow (:func:`request_subscription`) mails the
address one link and changes nothing else the address could notice; only
the POST behind that link (:func:`confirm`) makes mail go to it. Asking
answers the same, does the same work and sends the same mail whether or not
the address follows anything yet, so the form tells nobody who subscribes
here. What an address asked to follow travels in its link (``?follow=``),
not in the database, so someone who asks in a stranger's name adds nothing
to the stranger's list; the stranger's next confirmation adds only what its
own link names.

A logged-in reader follows with the address their account confirmed, in one
step (:func:`subscribe_account`): that address proved itself already.

Leaving (:func:`unsubscribe`) forgets the address with everything it
followed, and stops the mails already written for it and not sent yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import OutboxMail
from flaskr.models import PostMailing
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.models.subscribers import EACH_POST
from flaskr.models.subscribers import WEEKLY
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.addresses import email_key
from flaskr.services.base.addresses import email_problem
from flaskr.services.base.addresses import normalized_email
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.mail import record_mail
from flaskr.services.base.mail import site_title
from flaskr.services.base.security_log import log_event
from flaskr.services.social import newsletter
from flaskr.services.social import subscriber_links

#: The ``follow`` value that stands for the whole site.
SITE = "site"
#: What a subscriber may choose; the first is the default.
CADENCES = (EACH_POST, WEEKLY)
#: The longest address the ``subscriber`` table holds.
MAX_ADDRESS_LENGTH = 320
#: Why a mail written for an address was not sent (``OutboxMail.last_error``).
UNSUBSCRIBED = "unsubscribed before it was sent"


def address_problem(address: str) -> str | None:
    """What is wrong with ``address`` as one to mail posts to, or ``None``."""
    if not address:
        return "Enter your e-mail address."
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"An e-mail address has at most {MAX_ADDRESS_LENGTH} characters."
    return email_problem(address)


def may_be_followed(author: User) -> bool:
    """Whether readers may follow ``author`` by mail: someone who writes
    posts, whose account is not withdrawn from readers."""
    return roles.may_write(author)


def target_name(author: User | None) -> str:
    """How a mail or page names what is followed: the writer's shown name,
    or the site's title."""
    return author.shown_name if author is not None else site_title()


def follow_value(author: User | None) -> str:
    """The ``follow`` value of a link or form that names ``author``."""
    return SITE if author is None else str(author.id)


def followed_by_value(value: str) -> User | None | t.Literal[False]:
    """The writer a ``follow`` value names, ``None`` for the site, or
    ``False`` for a value that names nobody who may be followed."""
    if value == SITE:
        return None
    if not value.isdigit() or len(value) > 18:
        return False
    author = db.session.get(User, int(value))
    if author is None or not may_be_followed(author):
        return False
    return author


def _check_target(author: User | None) -> None:
    if author is not None and not may_be_followed(author):
        raise Invalid.of("to", "This writer cannot be followed by e-mail.")


def _find(address: str) -> Subscriber | None:
    return db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_key == email_key(address))
    )


def _find_or_add(address: str) -> Subscriber:
    """The subscriber with ``address``, added (unconfirmed) if there is none.
    Two requests adding the same address at once make one row: the loser of
    the unique index reads the winner's."""
    found = _find(address)
    if found is not None:
        return found
    subscriber = Subscriber(
        email=normalized_email(address),
        email_key=email_key(address),
        link_key=subscriber_links.new_link_key(),
        created=utcnow(),
        cadence=EACH_POST,
    )
    try:
        with db.session.begin_nested():
            db.session.add(subscriber)
    except IntegrityError:
        found = _find(address)
        if found is None:  # the other row went again; nothing to do but fail
            raise
        return found
    return subscriber


def _follows(subscriber: Subscriber, author: User | None) -> bool:
    author_test = (
        Subscription.author_id.is_(None)
        if author is None
        else Subscription.author_id == author.id
    )
    return (
        db.session.scalar(
            sa.select(Subscription.id).where(
                Subscription.subscriber_id == subscriber.id, author_test
            )
        )
        is not None
    )


def _add_follow(subscriber: Subscriber, author: User | None) -> bool:
    """Make ``subscriber`` follow ``author`` (the site if ``None``); whether
    it did not already."""
    if _follows(subscriber, author):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Subscription(
                    subscriber_id=subscriber.id,
                    author_id=author.id if author is not None else None,
                    created=utcnow(),
                )
            )
    except IntegrityError:  # the same follow, added by a request beside this one
        return False
    return True


def confirmation_link(subscriber: Subscriber, author: User | None) -> str:
    """The link that confirms ``subscriber`` wants ``author``'s posts."""
    link = subscriber_links.link(subscriber, subscriber_links.CONFIRM)
    return f"{link}?follow={follow_value(author)}"


def request_subscription(address: str, author: User | None) -> None:
    """Mail ``address`` a link to confirm it wants the posts of ``author``
    (the whole site if ``None``), and commit. Nothing is followed until the
    link's button is pressed (:func:`confirm`). The same work and the same
    mail whether or not the address is known here.

    :raise Invalid: the address is missing or not one (field ``email``), or
        ``author`` may not be followed (field ``to``).
    """
    Invalid.collect({"email": address_problem(address)})
    _check_target(author)
    subscriber = _find_or_add(address)
    record_mail(
        subscriber.email,
        "confirm_subscription",
        link=confirmation_link(subscriber, author),
        target=target_name(author),
    )
    db.session.commit()
    log_event(
        "subscription_requested",
        subscriber_id=subscriber.id,
        author_id=author.id if author is not None else None,
    )


def subscribe_account(user: User, author: User | None) -> Subscriber:
    """Make ``user``'s confirmed address follow ``author`` (the site if
    ``None``) at once, and commit: the account proved the address already.
    An earlier subscriber with that address becomes the account's.

    :raise NotAllowed: the account has no confirmed address, or may not
        take part (suspended, waiting).
    :raise Invalid: ``author`` may not be followed (field ``to``).
    """
    if not roles.may_take_part(user):
        raise NotAllowed()
    if user.email is None:
        raise NotAllowed("Confirm an e-mail address on your account first.")
    _check_target(author)
    subscriber = _find_or_add(user.email)
    subscriber.user_id = user.id
    if subscriber.confirmed is None:
        subscriber.confirmed = utcnow()
    added = _add_follow(subscriber, author)
    db.session.commit()
    if added:
        log_event(
            "subscribed",
            subscriber_id=subscriber.id,
            user_id=user.id,
            author_id=author.id if author is not None else None,
        )
    return subscriber


def subscriber_for_link(token: str, purpose: str) -> Subscriber | None:
    """The subscriber a mailed link names, or ``None`` if the link is not
    (or no longer) one of ours."""
    return subscriber_links.subscriber_for(token, purpose)


@dataclasses.dataclass(frozen=True)
class Following:
    """What a subscriber follows, for their pages."""

    site: bool
    #: The writers, by shown name.
    writers: list[User]


def following_of(subscriber: Subscriber) -> Following:
    rows = db.session.execute(
        sa.select(Subscription.author_id, User)
        .outerjoin(User, User.id == Subscription.author_id)
        .where(Subscription.subscriber_id == subscriber.id)
    ).all()
    writers = sorted(
        (user for author_id, user in rows if author_id is not None and user),
        key=lambda user: user.shown_name.casefold(),
    )
    return Following(
        site=any(author_id is None for author_id, _ in rows), writers=writers
    )


def follows(subscriber: Subscriber, author: User | None) -> bool:
    """Whether a confirmed ``subscriber`` is mailed ``author``'s posts."""
    return subscriber.confirmed is not None and _follows(subscriber, author)


def confirm(subscriber: Subscriber, author: User | None) -> bool:
    """Confirm the address of ``subscriber`` (its link's button was pressed)
    and make it follow ``author`` (the site if ``None``), and commit;
    whether anything changed.

    :raise Invalid: ``author`` may no longer be followed (field ``to``).
    """
    _check_target(author)
    first = subscriber.confirmed is None
    if first:
        subscriber.confirmed = utcnow()
    added = _add_follow(subscriber, author)
    db.session.commit()
    if first or added:
        log_event(
            "subscription_confirmed",
            subscriber_id=subscriber.id,
            author_id=author.id if author is not None else None,
        )
    return first or added


def _stop_unsent_mail(subscriber_ids: sa.ColumnElement[bool]) -> None:
    """Mark the post mails written for these subscribers and not sent yet as
    given up, so nothing goes out after they leave. A sender in the middle of
    one may still send it (it claimed it already)."""
    written = sa.select(PostMailing.mail_id).where(
        subscriber_ids, PostMailing.mail_id.is_not(None)
    )
    db.session.execute(
        sa.update(OutboxMail)
        .where(OutboxMail.id.in_(written), OutboxMail.sent.is_(None))
        .values(failed=True, last_error=UNSUBSCRIBED)
        .execution_options(synchronize_session=False)
    )


def _forget(subscriber: Subscriber) -> None:
    _stop_unsent_mail(PostMailing.subscriber_id == subscriber.id)
    db.session.delete(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    """Stop every mail to ``subscriber`` and forget its address, with what
    it followed; commit. Its links stop working."""
    subscriber_id = subscriber.id
    _forget(subscriber)
    db.session.commit()
    log_event("unsubscribed", subscriber_id=subscriber_id)


def cadence_problem(cadence: str) -> str | None:
    if cadence not in CADENCES:
        return "Choose how often to get mail."
    return None


def save_preferences(
    subscriber: Subscriber, *, site: bool, writer_ids: t.Iterable[int], cadence: str
) -> bool:
    """Keep only what ``subscriber`` still wants of what it follows (the
    site if ``site``, and the writers of ``writer_ids`` it follows now; a
    writer it does not follow is not added here), and how often it is
    mailed; commit. Keeping nothing is leaving: the address is forgotten as
    by :func:`unsubscribe`. Whether the subscriber is still here.

    :raise Invalid: an unknown ``cadence`` (field ``cadence``).
    """
    Invalid.collect({"cadence": cadence_problem(cadence)})
    kept = set(writer_ids)
    current = following_of(subscriber)
    dropped = [user.id for user in current.writers if user.id not in kept]
    conditions = []
    if dropped:
        conditions.append(Subscription.author_id.in_(dropped))
    if current.site and not site:
        conditions.append(Subscription.author_id.is_(None))
    if conditions:
        db.session.execute(
            sa.delete(Subscription).where(
                Subscription.subscriber_id == subscriber.id, sa.or_(*conditions)
            )
        )
    remaining = len(current.writers) - len(dropped) + int(current.site and site)
    if remaining == 0:
        unsubscribe(subscriber)
        return False
    if subscriber.cadence == WEEKLY and cadence == EACH_POST:
        # Posts gathered for the digest would otherwise never be sent.
        newsletter.send_waiting_digest(subscriber)
    subscriber.cadence = cadence
    db.session.commit()
    log_event(
        "subscription_preferences",
        subscriber_id=subscriber.id,
        cadence=cadence,
        dropped=len(dropped) + int(current.site and not site),
    )
    return True


def remove(actor: User, subscriber: Subscriber, author: User | None = None) -> None:
    """Take ``subscriber`` off ``author``'s subscribers (an administrator,
    or that writer), or with ``author`` ``None`` remove it with everything
    it follows (administrators only); commit. An administrator's removal is
    in the audit log (``subscriber_removed``).

    :raise NotAllowed: the actor may not.
    """
    governs = roles.may_govern(actor)
    own = author is not None and author.id == actor.id and roles.may_write(actor)
    if not (governs or own):
        raise NotAllowed()
    subscriber_id = subscriber.id
    if author is None:
        _forget(subscriber)
    else:
        db.session.execute(
            sa.delete(Subscription).where(
                Subscription.subscriber_id == subscriber_id,
                Subscription.author_id == author.id,
            )
        )
        if not following_of(subscriber).writers and not _follows(subscriber, None):
            _forget(subscriber)
    if governs:
        audit.record(
            actor,
            "subscriber_removed",
            author,
            detail=f"subscriber {subscriber_id}",
        )
    db.session.commit()
    log_event(
        "subscriber_removed",
        actor_id=actor.id,
        subscriber_id=subscriber_id,
        author_id=author.id if author is not None else None,
    )


#: How long an address that never confirmed is kept: its link works so long.
UNCONFIRMED_KEPT = dt.timedelta(days=7)


def purge_unconfirmed() -> int:
    """Forget the addresses that asked to follow and never confirmed within
    :data:`UNCONFIRMED_KEPT` (their links stop working); commit and return
    how many."""
    purged = db.session.execute(
        sa.delete(Subscriber)
        .where(
            Subscriber.confirmed.is_(None),
            Subscriber.created < utcnow() - UNCONFIRMED_KEPT,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    count = affected_rows(purged)
    if count:
        log_event("unconfirmed_subscribers_purged", count=count)
    return count


def follow_address_change(user: User) -> None:
    """Move the account's subscriber row to the account's newly confirmed
    address, so its mail follows it; the caller commits. Left as it was if
    that address already follows on its own (a row of its own, with its own
    choices)."""
    if user.email is None:
        return
    key = email_key(user.email)
    taken = db.session.scalar(
        sa.select(Subscriber.id).where(
            Subscriber.email_key == key,
            sa.or_(Subscriber.user_id.is_(None), Subscriber.user_id != user.id),
        )
    )
    if taken is not None:
        return
    db.session.execute(
        sa.update(Subscriber)
        .where(Subscriber.user_id == user.id)
        .values(email=user.email, email_key=key)
        .execution_options(synchronize_session=False)
    )
