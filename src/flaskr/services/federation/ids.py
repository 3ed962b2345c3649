"""The addresses of this site's actors, objects and inboxes, built on
``SITE_URL`` at fixed paths: they are ids other servers keep, so they never
depend on the Host a request named, nor on a writer's name or a post's slug
(both may change)."""

from __future__ import annotations

import urllib.parse

from flask import current_app

from flaskr.models.federation import SITE_OWNER

#: The media types of ActivityStreams JSON: what objects are served as, and
#: what an ``Accept`` header names to get one.
ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"


def federating() -> bool:
    """Whether the site takes part: ``FEDERATION`` on and ``SITE_URL`` set."""
    return bool(current_app.config["FEDERATION"] and current_app.config["SITE_URL"])


def base() -> str:
    """``SITE_URL`` without its last slash."""
    return str(current_app.config["SITE_URL"]).rstrip("/")


def host() -> str:
    """The site's host as ``acct:`` handles name it: with the port unless it
    is the scheme's default."""
    return urllib.parse.urlsplit(base()).netloc.lower()


def site_actor() -> str:
    """The site's own actor (an ``Application``), which signs fetches."""
    return f"{base()}/ap/site"


def actor(user_id: int) -> str:
    return f"{base()}/ap/users/{user_id}"


def inbox(user_id: int) -> str:
    return f"{actor(user_id)}/inbox"


def outbox(user_id: int) -> str:
    return f"{actor(user_id)}/outbox"


def followers(user_id: int) -> str:
    return f"{actor(user_id)}/followers"


def following(user_id: int) -> str:
    return f"{actor(user_id)}/following"


def shared_inbox() -> str:
    return f"{base()}/ap/inbox"


def article(post_id: int) -> str:
    return f"{base()}/ap/posts/{post_id}"


def owner_of_user(user_id: int) -> str:
    """``ActorKey.owner`` of a writer's key."""
    return str(user_id)


def key_id(owner: str) -> str:
    """The ``keyId`` signatures by ``owner``'s key name."""
    who = site_actor() if owner == SITE_OWNER else actor(int(owner))
    return f"{who}#main-key"


def user_id_of_actor(uri: str) -> int | None:
    """The writer whose actor ``uri`` is on this site, or ``None``."""
    prefix = f"{base()}/ap/users/"
    if not uri.startswith(prefix):
        return None
    rest = uri.removeprefix(prefix)
    return int(rest) if rest.isascii() and rest.isdigit() else None


def post_id_of(uri: str) -> int | None:
    """The post whose ``Article`` id ``uri`` is on this site, or ``None``."""
    prefix = f"{base()}/ap/posts/"
    if not uri.startswith(prefix):
        return None
    rest = uri.removeprefix(prefix)
    return int(rest) if rest.isascii() and rest.isdigit() else None
