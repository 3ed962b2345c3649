"""The ActivityStreams documents this site serves and sends: its actors,
its posts as ``Article`` objects, its users' replies as ``Note`` objects,
and the activities around them.

Built as plain dictionaries on ``SITE_URL`` (``ids.py``), without a request,
so the event line's handlers build the same documents the views serve.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import typing as t

from flaskr.models import Post
from flaskr.models import RemoteReply
from flaskr.models import User
from flaskr.models.federation import SITE_OWNER
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.social.newsletter import post_address

Document = dict[str, t.Any]

#: The terms outside ActivityStreams these documents use, named as Mastodon
#: names them, so a JSON-LD processor keeps them.
EXTENSIONS: Document = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}

CONTEXT: list[t.Any] = [ids.CONTEXT, ids.SECURITY_CONTEXT, EXTENSIONS]

#: An ``href`` or ``src`` naming a path on this site (``/p/x``, not ``//x``),
#: as the sanitiser writes attributes: double-quoted.
_SITE_PATH = re.compile(r'(\s(?:href|src)=")(/(?!/))')


def when(moment: dt.datetime) -> str:
    """A time as ActivityStreams writes one: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def author_page(user: User) -> str:
    return f"{ids.base()}/u/{user.username}"


def absolute_links(fragment: str) -> str:
    """``fragment`` (sanitised HTML) with its links and pictures on this
    site's paths made absolute on ``SITE_URL``: a remote server shows it on
    its own host."""
    return _SITE_PATH.sub(lambda found: found.group(1) + ids.base() + "/", fragment)


def avatar_url(avatar_id: int) -> str:
    """The large copy of an avatar (``blog.avatar``'s path)."""
    return f"{ids.base()}/avatars/{avatar_id}.webp"


def image_url(image_id: int) -> str:
    """A post picture's display copy (``blog.image``'s path)."""
    return f"{ids.base()}/images/{image_id}.webp"


def tag_page(name: str) -> str:
    return f"{ids.base()}/tag/{name}"


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
        "summary": absolute_links(user.bio_html),
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
    if user.avatar_id is not None:
        document["icon"] = {
            "type": "Image",
            "mediaType": "image/webp",
            "url": avatar_url(user.avatar_id),
        }
    if user.website:
        link = html.escape(user.website, quote=True)
        label = html.escape(user.website_label)
        document["attachment"] = [
            {
                "type": "PropertyValue",
                "name": "Website",
                "value": f'<a href="{link}" rel="me nofollow noopener noreferrer" '
                f'target="_blank">{label}</a>',
            }
        ]
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
    followers.

    No ``summary``: Mastodon shows one as a content warning over the post.
    Its site links and pictures are absolute, its tags ``Hashtag`` objects
    linking to their pages, its picture an ``Image`` attachment.
    """
    assert post.author_id is not None and post.published is not None
    document: Document = {
        "id": ids.article(post.id),
        "type": "Article",
        "attributedTo": ids.actor(post.author_id),
        "name": post.title,
        "content": absolute_links(post.body_html),
        "mediaType": "text/html",
        "url": post_address(post),
        "published": when(post.published),
        "to": [ids.PUBLIC],
        "cc": [ids.followers(post.author_id)],
        "sensitive": False,
        "tag": [
            {"type": "Hashtag", "href": tag_page(name), "name": f"#{name}"}
            for name in post.tag_names
        ],
    }
    if post.image is not None:
        document["attachment"] = [
            {
                "type": "Image",
                "mediaType": "image/webp",
                "url": image_url(post.image.id),
                "name": post.image.alt,
            }
        ]
    if post.updated is not None and post.updated > post.published:
        document["updated"] = when(post.updated)
    return document


def create_id(post_id: int) -> str:
    """The id of the ``Create`` that brought a post out (the outbox lists it)."""
    return f"{ids.article(post_id)}#create"


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
