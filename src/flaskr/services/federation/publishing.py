"""What this site's writers do, sent to their fediverse followers: the event
line's ``federation`` handler (``services/event_handlers.py``), and the
``Update`` that tells remote servers of a rotated key.

Each event becomes one activity, queued with :func:`delivery.enqueue` in the
handler's transaction for each inbox of the writer's followers (a server's
shared inbox once for all its followers), and sent by the delivery sender:

- a post that comes out, or comes back from the trash public: ``Create``;
- a public post saved with changes: ``Update`` (one id per version);
- a post unpublished, trashed or deleted: ``Delete`` of a ``Tombstone``, if
  it had been federated (an activity of it is in ``federation_delivery``),
  to its writer's followers and every inbox that had it;
- a writer renamed, or their profile, picture or approval of followers
  changed: ``Update`` of their actor;
- a writer suspended or removed: ``Delete`` of each post that had gone out;
  the suspension lifted or the account restored: ``Create`` of each again;
- an account deleted: ``Delete`` of the actor, to the inboxes its followers
  had (captured in the event when it was recorded, as the follower rows go
  with the user); the writer's key signs it, then goes.

Every activity id is built from the event or the post's version, so a
handler that runs twice queues nothing new.
"""

from __future__ import annotations

import secrets
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Event
from flaskr.models import FederationDelivery
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import User
from flaskr.models.federation import SITE_OWNER
from flaskr.services.base import events
from flaskr.services.base.mail import site_title
from flaskr.services.base.security_log import log_event
from flaskr.services.federation import delivery
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import objects

#: The kinds the ``federation`` handler takes.
KINDS = frozenset(
    {
        events.POST_PUBLISHED,
        events.POST_UPDATED,
        events.POST_UNPUBLISHED,
        events.POST_TRASHED,
        events.POST_DELETED,
        events.POST_RESTORED,
        events.ACCOUNT_RENAMED,
        events.ACCOUNT_UPDATED,
        events.ACCOUNT_WITHHELD,
        events.ACCOUNT_RETURNED,
        events.ACCOUNT_DELETED,
    }
)
#: The key in an ``account.deleted`` event's payload listing the inboxes of
#: the account's fediverse followers (``services/accounts/users.py``).
INBOXES = "fediverse_inboxes"


def _writer(user_id: int | None) -> User | None:
    """The writer whose posts are sent, if they may still be: active."""
    user = db.session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_active else None


def _public_post(event: Event) -> tuple[Post, User] | None:
    post = db.session.get(Post, event.post_id) if event.post_id else None
    if post is None or not post.is_public or post.author_id is None:
        return None
    writer = _writer(post.author_id)
    return (post, writer) if writer is not None else None


def _send_article(kind: str, post: Post, writer: User, activity_id: str) -> int:
    document = objects.activity(
        kind, ids.actor(writer.id), objects.article(post), activity_id
    )
    return delivery.enqueue(
        document, delivery.follower_inboxes(writer.id), ids.owner_of_user(writer.id)
    )


def _created(event: Event) -> None:
    found = _public_post(event)
    if found is not None:
        post, writer = found
        # One id per event: a post restored after its Delete is created anew.
        _send_article(
            "Create", post, writer, f"{ids.article(post.id)}#create-{event.id}"
        )


def _activities_of(article: str) -> sa.ColumnElement[bool]:
    return FederationDelivery.activity_id.startswith(f"{article}#", autoescape=True)


def _updated(event: Event) -> None:
    found = _public_post(event)
    if found is not None:
        post, writer = found
        activity_id = f"{ids.article(post.id)}#updates/{post.version}"
        _send_article("Update", post, writer, activity_id)
    elif event.post_id is not None:
        saved = db.session.get(Post, event.post_id)
        if saved is None or saved.published is None:
            _deleted(event)  # unpublished in the editor: it went away


def _deleted(event: Event) -> None:
    """A ``Delete`` of a post that had been federated, unless it is public
    again by now; to its writer's followers and every inbox that had it."""
    if event.post_id is None or event.user_id is None:
        return
    post = db.session.get(Post, event.post_id)
    if post is not None and post.is_public:
        return  # back already (restored, published again): nothing to delete
    writer = db.session.get(User, event.user_id)
    if writer is None:
        return  # the account went: its actor's Delete removes its posts
    _send_delete(event.post_id, writer, event.id)


def _send_delete(post_id: int, writer: User, event_id: int) -> None:
    """A ``Delete`` of a post that had been federated, to its writer's
    followers and every inbox that had it; nothing for one never sent."""
    article = ids.article(post_id)
    had_it = set(
        db.session.scalars(
            sa.select(FederationDelivery.inbox)
            .where(_activities_of(article))
            .distinct()
        )
    )
    if not had_it:
        return  # never federated: no server has it
    document = objects.activity(
        "Delete",
        ids.actor(writer.id),
        {"id": article, "type": "Tombstone"},
        f"{article}#delete-{event_id}",
    )
    document["to"] = [ids.PUBLIC]
    document["cc"] = [ids.followers(writer.id)]
    inboxes = sorted(had_it | set(delivery.follower_inboxes(writer.id)))
    delivery.enqueue(document, inboxes, ids.owner_of_user(writer.id))


def _withheld(event: Event) -> None:
    """A writer suspended or removed: a ``Delete`` of each post of theirs
    that had been federated, unless they are back by now. Their actor stays
    (a suspension ends; a removal is purged later, with the actor's
    ``Delete``)."""
    writer = db.session.get(User, event.user_id) if event.user_id else None
    if writer is None or writer.is_active:
        return
    posts = sa.select(Post.id).where(
        Post.author_id == writer.id, Post.published.is_not(None)
    )
    for post_id in db.session.scalars(posts.order_by(Post.id)):
        _send_delete(post_id, writer, event.id)


def _returned(event: Event) -> None:
    """A suspension lifted, or an account restored: a ``Create`` of each of
    its posts that is public again and had gone out before (new ids, as
    after a ``Delete``). Older posts that never went out stay out of the
    followers' timelines."""
    writer = _writer(event.user_id)
    if writer is None:
        return
    posts = sa.select(Post).where(Post.author_id == writer.id, Post.is_public)
    for post in db.session.scalars(posts.order_by(Post.published, Post.id)):
        went_out = sa.select(FederationDelivery.id).where(
            _activities_of(ids.article(post.id))
        )
        if db.session.scalar(went_out.limit(1)) is None:
            continue
        _send_article(
            "Create", post, writer, f"{ids.article(post.id)}#create-{event.id}"
        )


def _actor_update(user: User, activity_id: str) -> int:
    document = objects.activity(
        "Update", ids.actor(user.id), objects.actor(user), activity_id
    )
    document["to"] = [ids.PUBLIC]
    document["cc"] = [ids.followers(user.id)]
    return delivery.enqueue(
        document, delivery.follower_inboxes(user.id), ids.owner_of_user(user.id)
    )


def _actor_changed(event: Event) -> None:
    """A rename, or a change of what the actor shows: its ``Update``."""
    user = db.session.get(User, event.user_id) if event.user_id else None
    if user is not None:
        _actor_update(user, f"{ids.actor(user.id)}#updates/event-{event.id}")


def _account_deleted(event: Event) -> None:
    """The actor's ``Delete``, signed by its key, which goes once that is
    sent (``delivery.forget_deleted_writer_key``), or now if none follows."""
    if event.user_id is None:
        return
    owner = ids.owner_of_user(event.user_id)
    inboxes = [str(inbox) for inbox in event.payload.get(INBOXES) or []]
    uri = ids.actor(event.user_id)
    document = objects.activity(
        "Delete", uri, uri, delivery.actor_delete_id(event.user_id)
    )
    document["to"] = [ids.PUBLIC]
    delivery.enqueue(document, inboxes, owner)
    # Now, if nothing is left to send; else once the sender has sent it all.
    delivery.forget_deleted_writer_key(owner, handled=True)


_BY_KIND: dict[str, t.Callable[[Event], None]] = {
    events.POST_PUBLISHED: _created,
    events.POST_RESTORED: _created,
    events.POST_UPDATED: _updated,
    events.POST_UNPUBLISHED: _deleted,
    events.POST_TRASHED: _deleted,
    events.POST_DELETED: _deleted,
    events.ACCOUNT_RENAMED: _actor_changed,
    events.ACCOUNT_UPDATED: _actor_changed,
    events.ACCOUNT_WITHHELD: _withheld,
    events.ACCOUNT_RETURNED: _returned,
    events.ACCOUNT_DELETED: _account_deleted,
}


def federate_event(event: Event) -> None:
    """The ``federation`` handler: queue the activity ``event`` calls for
    (nothing while the site does not federate); the event line commits."""
    if ids.federating():
        _BY_KIND[event.kind](event)


def rotate_keys(owners: t.Iterable[str]) -> int:
    """Give each of ``owners`` (``ActorKey.owner``: ``"site"`` or a user id)
    a new key pair and queue an ``Update`` of its actor, so remote servers
    fetch the new key: a writer's to their followers, the site's to every
    server this site knows. Commits; returns how many were rotated."""
    rotated = 0
    for owner in dict.fromkeys(owners):
        if owner == SITE_OWNER:
            keys.rotate(owner)
            uri = ids.site_actor()
            document = objects.activity(
                "Update",
                uri,
                objects.site_actor(site_title()),
                f"{uri}#updates/key-{secrets.token_hex(8)}",
            )
            document["to"] = [ids.PUBLIC]
            servers = db.session.scalars(
                sa.select(
                    sa.func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox)
                ).distinct()
            )
            delivery.enqueue(document, sorted(servers), SITE_OWNER)
        else:
            user = db.session.get(User, int(owner)) if owner.isdigit() else None
            if user is None:
                continue
            keys.rotate(owner)
            uri = ids.actor(user.id)
            _actor_update(user, f"{uri}#updates/key-{secrets.token_hex(8)}")
        rotated += 1
    db.session.commit()
    log_event("actor_keys_rotated", count=rotated)
    return rotated
