"""The ActivityStreams documents this site serves and sends: its actors,
its posts as ``Article`` objects, its users' replies as ``Note`` objects,
and the activities around them.

Built as plain dictionaries on ``SITE_URL`` (``ids.py``), without a request,
so the event line's handlers build the same documents the views serve.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from flaskr.models import Post
from flaskr.models import RemoteReply
from flaskr.models import User
from flaskr.models.federation import SITE_OWNER
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.social.newsletter import post_address

Document = dict[str, t.Any]

CONTEXT: list[t.Any] = [ids.CONTEXT, ids.SECURITY_CONTEXT]


def when(moment: dt.datetime) -> str:
    """A time as ActivityStreams writes one: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def author_page(user: User) -> str:
    return f"{ids.base()}/u/{user.username}"


def _public_key(owner: str, actor_uri: str) -> Document:
    return {
        "id": ids.key_id(owner),
        "owner": actor_uri,
        "publicKeyPem": keys.public_pem(owner),
    }


def actor(user: User) -> Document:
    """``user`` as a ``Person`` (its key made now if it has none: the caller
    commits)."""
    uri = ids.actor(user.id)
    document: Document = {
        "@context": CONTEXT,
        "id": uri,
        "type": "Person",
        "preferredUsername": user.username,
        "name": user.shown_name,
        "summary": user.bio_html,
        "url": author_page(user),
        "inbox": ids.inbox(user.id),
        "outbox": ids.outbox(user.id),
        "followers": ids.followers(user.id),
        "following": ids.following(user.id),
        "endpoints": {"sharedInbox": ids.shared_inbox()},
        "manuallyApprovesFollowers": user.approve_fediverse_followers,
        "discoverable": True,
        "publicKey": _public_key(ids.owner_of_user(user.id), uri),
    }
    if user.created is not None:
        document["published"] = when(user.created)
    return document


def site_actor(title: str) -> Document:
    """The site's own actor, an ``Application`` that signs fetches."""
    uri = ids.site_actor()
    return {
        "@context": CONTEXT,
        "id": uri,
        "type": "Application",
        "preferredUsername": ids.host(),
        "name": title,
        "url": ids.base() + "/",
        "inbox": ids.shared_inbox(),
        "outbox": f"{uri}/outbox",
        "manuallyApprovesFollowers": True,
        "publicKey": _public_key(SITE_OWNER, uri),
    }


def article(post: Post) -> Document:
    """``post`` as an ``Article``, addressed to everyone and its writer's
    followers."""
    assert post.author_id is not None and post.published is not None
    document: Document = {
        "id": ids.article(post.id),
        "type": "Article",
        "attributedTo": ids.actor(post.author_id),
        "name": post.title,
        "content": post.body_html,
        "mediaType": "text/html",
        "url": post_address(post),
        "published": when(post.published),
        "to": [ids.PUBLIC],
        "cc": [ids.followers(post.author_id)],
    }
    if post.updated is not None and post.updated > post.published:
        document["updated"] = when(post.updated)
    return document


def reply_note(reply: RemoteReply, in_reply_to: str, to: str) -> Document:
    """A reply written here to a remote post, as a ``Note``."""
    return {
        "id": f"{ids.base()}/ap/replies/{reply.id}",
        "type": "Note",
        "attributedTo": ids.actor(reply.user_id),
        "inReplyTo": in_reply_to,
        "content": reply.body_html,
        "mediaType": "text/html",
        "published": when(reply.created),
        "to": [to],
        "cc": [ids.PUBLIC, ids.followers(reply.user_id)],
    }


def activity(
    kind: str, actor_uri: str, obj: Document | str, activity_id: str
) -> Document:
    """An activity of ``kind`` by ``actor_uri`` on ``obj``, addressed as
    ``obj`` is (a ``Create``, ``Update`` or ``Delete`` of a post goes where
    the post went)."""
    document: Document = {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_uri,
        "object": obj,
    }
    if isinstance(obj, dict):
        for field in ("to", "cc"):
            if field in obj:
                document[field] = obj[field]
    return document
