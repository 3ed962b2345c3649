"""How the fediverse finds this site and reads it: WebFinger, NodeInfo,
host-meta, and the documents served at the actors' and objects' ids.

Only active accounts that may write (``roles.may_write``) are actors, and
only their public posts are ``Article`` objects; anything else is ``None``
here and a 404 at the door. Documents are built on ``SITE_URL``
(``objects.py``); building an actor may make its key (``keys.key_of``), so
the caller commits after building one.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import typing as t
import urllib.parse
from xml.sax.saxutils import quoteattr

import sqlalchemy as sa
from flask import current_app

from flaskr.db import db
from flaskr.db import MAX_ID
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import RemoteFollower
from flaskr.models import SiteSettings
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import ADMIN
from flaskr.models.governance import AUTHOR
from flaskr.models.governance import CONTRIBUTOR
from flaskr.models.governance import EDITOR
from flaskr.services.accounts.directory import find_user
from flaskr.services.base.errors import Invalid
from flaskr.services.base.roles import may_write
from flaskr.services.base.site import read_identity
from flaskr.services.content.access import find_post_id
from flaskr.services.federation import ids
from flaskr.services.federation import objects

Document = objects.Document

#: What WebFinger answers are served as.
JRD_JSON = "application/jrd+json"
XRD_XML = "application/xrd+xml"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
NODEINFO_VERSIONS = ("2.0", "2.1")
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
NODEINFO_SOFTWARE = "flaskr"
NODEINFO_REPOSITORY = "https://github.com/pallets/flask"
#: The longest ``resource`` WebFinger reads: a handle or an address of ours.
RESOURCE_MAX_LENGTH = 500
#: Activities on one page of an outbox.
OUTBOX_PAGE_SIZE = 20
#: Pages of an outbox beyond this are refused (offsets stay cheap).
OUTBOX_MAX_PAGE = 10_000

#: The roles ``roles.may_write`` lets write, as a query names them.
_WRITER_ROLES = (ADMIN, EDITOR, AUTHOR, CONTRIBUTOR)


def is_actor(user: User | None) -> t.TypeGuard[User]:
    """Whether ``user`` is an actor: active, and may write."""
    return may_write(user)


def actor_user(user_id: int) -> User | None:
    """The writer whose actor is ``/ap/users/<user_id>``, or ``None``."""
    if not 1 <= user_id <= MAX_ID:
        return None  # no row has it (and the database cannot compare it)
    user = db.session.get(User, user_id)
    return user if is_actor(user) else None


def actor_named(username: str) -> User | None:
    """The writer called ``username`` (any letter case), or ``None``."""
    user = find_user(username)
    return user if is_actor(user) else None


def _malformed(message: str) -> Invalid:
    return Invalid.of("resource", message)


def webfinger(resource: str) -> Document | None:
    """The JRD for ``resource``: ``acct:name@host`` (host as ``ids.host()``),
    a writer's actor id or author page; ``None`` for nobody here.

    :raise Invalid: ``resource`` is missing or is no handle or address.
    """
    resource = resource.strip()
    if not resource:
        raise _malformed("Name a resource: acct:name@host.")
    if len(resource) > RESOURCE_MAX_LENGTH or not resource.isprintable():
        raise _malformed("That is not a resource WebFinger knows.")
    user = _user_of_resource(resource)
    if user is None:
        return None
    actor = ids.actor(user.id)
    page = objects.author_page(user)
    return {
        "subject": f"acct:{user.username}@{ids.host()}",
        "aliases": [actor, page],
        "links": [
            {"rel": "self", "type": ids.ACTIVITY_JSON, "href": actor},
            {"rel": PROFILE_PAGE, "type": "text/html", "href": page},
        ],
    }


def _user_of_resource(resource: str) -> User | None:
    lowered = resource.lower()
    if lowered.startswith(("http://", "https://")):
        if (user_id := ids.user_id_of_actor(resource)) is not None:
            return actor_user(user_id)
        prefix = f"{ids.base()}/u/"
        if resource.startswith(prefix):
            name = urllib.parse.unquote(resource.removeprefix(prefix))
            return actor_named(name) if name and "/" not in name else None
        return None
    handle = resource[5:] if lowered.startswith("acct:") else resource
    name, at, host = handle.removeprefix("@").rpartition("@")
    if not at or not name or not host or ":" in name:
        raise _malformed("Name a resource as acct:name@host.")
    if host.lower() != ids.host():
        return None
    return actor_named(name)


def host_meta() -> str:
    """host-meta's XRD: where WebFinger is (for servers that look here first)."""
    template = f"{ids.base()}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="{XRD_XML}" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


def nodeinfo_links() -> Document:
    """``/.well-known/nodeinfo``: where each NodeInfo version is."""
    return {
        "links": [
            {
                "rel": NODEINFO_SCHEMA.format(version=version),
                "href": f"{ids.base()}/nodeinfo/{version}",
            }
            for version in NODEINFO_VERSIONS
        ]
    }


def _software_version() -> str:
    try:
        return importlib.metadata.version("flaskr")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def nodeinfo(version: str) -> Document | None:
    """NodeInfo ``version`` (2.0 or 2.1) of this site, or ``None`` for
    another version. Counts are of actors and public posts, in three cheap
    statements."""
    if version not in NODEINFO_VERSIONS:
        return None
    software: Document = {"name": NODEINFO_SOFTWARE, "version": _software_version()}
    if version == "2.1":
        software["repository"] = NODEINFO_REPOSITORY
    now = utcnow()
    writers = sa.and_(User.state == ACTIVE, User.role.in_(_WRITER_ROLES))
    users = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(User.last_seen >= now - dt.timedelta(days=30)),
            sa.func.count().filter(User.last_seen >= now - dt.timedelta(days=180)),
        ).where(writers)
    ).one()
    posts = db.session.scalar(sa.select(sa.func.count()).where(Post.is_public))
    join_mode = db.session.scalar(sa.select(SiteSettings.join_mode)) or "open"
    title = read_identity(current_app.config["SITE_TITLE"]).title
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": join_mode == "open",
        "usage": {
            "users": {
                "total": users[0],
                "activeMonth": users[1],
                "activeHalfyear": users[2],
            },
            "localPosts": posts or 0,
        },
        "metadata": {"nodeName": title},
    }


def _with_context(document: Document) -> Document:
    return {"@context": objects.CONTEXT, **document}


def actor_document(user: User) -> Document:
    """``user``'s actor (made with its key if it has none: the caller
    commits)."""
    return objects.actor(user)


def site_actor_document() -> Document:
    """The site's actor (made with its key if it has none: the caller
    commits)."""
    return objects.site_actor(read_identity(current_app.config["SITE_TITLE"]).title)


def _public_posts_of(user_id: int) -> sa.Select[Post]:
    return sa.select(Post).where(Post.author_id == user_id, Post.is_public)


def outbox(user_id: int, page: int | None) -> Document | None:
    """A writer's outbox: the collection (``page`` ``None``), or one page of
    its ``Create`` activities, newest first; ``None`` for no actor.

    :raise Invalid: ``page`` is not a page number an outbox has.
    """
    user = actor_user(user_id)
    if user is None:
        return None
    address = ids.outbox(user.id)
    if page is None:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(_public_posts_of(user.id).subquery())
        )
        return _with_context(
            {
                "id": address,
                "type": "OrderedCollection",
                "totalItems": total or 0,
                "first": f"{address}?page=1",
            }
        )
    if not 1 <= page <= OUTBOX_MAX_PAGE:
        raise Invalid.of("page", f"Pages go from 1 to {OUTBOX_MAX_PAGE}.")
    posts = db.session.scalars(
        _public_posts_of(user.id)
        .order_by(Post.published.desc(), Post.id.desc())
        .offset((page - 1) * OUTBOX_PAGE_SIZE)
        .limit(OUTBOX_PAGE_SIZE + 1)
    ).all()
    actor = ids.actor(user.id)
    items = [
        objects.activity(
            "Create", actor, objects.article(post), objects.create_id(post.id)
        )
        for post in posts[:OUTBOX_PAGE_SIZE]
    ]
    for item in items:
        del item["@context"]  # the page's context is theirs
    document: Document = {
        "id": f"{address}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": address,
        "orderedItems": items,
    }
    if len(posts) > OUTBOX_PAGE_SIZE:
        document["next"] = f"{address}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{address}?page={page - 1}"
    return _with_context(document)


def followers(user_id: int) -> Document | None:
    """How many accepted remote followers a writer has (not who they are)."""
    user = actor_user(user_id)
    if user is None:
        return None
    total = db.session.scalar(
        sa.select(sa.func.count()).where(
            RemoteFollower.user_id == user.id, RemoteFollower.state == ACCEPTED
        )
    )
    return _with_context(
        {"id": ids.followers(user.id), "type": "OrderedCollection", "totalItems": total}
    )


def following(user_id: int) -> Document | None:
    """Whom a writer follows on the fediverse: nobody shown."""
    user = actor_user(user_id)
    if user is None:
        return None
    return _with_context(
        {
            "id": ids.following(user.id),
            "type": "OrderedCollection",
            "totalItems": 0,
            "orderedItems": [],
        }
    )


def _post(post_id: int | None) -> Post | None:
    if post_id is None or not 1 <= post_id <= MAX_ID:
        return None
    return db.session.get(Post, post_id)


def _federated(post: Post | None) -> Post | None:
    """``post`` if it is an ``Article``: public, by an actor."""
    if post is None or not post.is_public or not is_actor(post.author):
        return None
    return post


def article_document(
    post_id: int | None = None, slug: str | None = None
) -> Document | None:
    """The ``Article`` of the post with ``post_id`` (or ``slug``), or ``None``
    if it is not public or not by an actor."""
    if post_id is None and slug is not None:
        post_id = find_post_id(slug)
    found = _federated(_post(post_id))
    return None if found is None else _with_context(objects.article(found))


def tombstone(post_id: int) -> Document | None:
    """A ``Tombstone`` for a post that was an ``Article`` and is now in the
    trash (its ``Delete`` went out), or ``None``. A purged post is simply
    gone: nothing says it ever was."""
    post = _post(post_id)
    if (
        post is None
        or post.deleted is None
        or post.published is None
        or post.published > utcnow()
        or not is_actor(post.author)
    ):
        return None
    return _with_context(
        {
            "id": ids.article(post.id),
            "type": "Tombstone",
            "formerType": "Article",
            "deleted": objects.when(post.deleted),
        }
    )


def actor_id_of(user: User | None) -> str | None:
    """``user``'s actor id, if the site federates and ``user`` is an actor."""
    return ids.actor(user.id) if ids.federating() and is_actor(user) else None


def article_id_of(post: Post | None) -> str | None:
    """``post``'s ``Article`` id, if the site federates and it is one."""
    if not ids.federating() or _federated(post) is None:
        return None
    assert post is not None
    return ids.article(post.id)
