"""Remote posts as this site keeps and shows them: read from an arriving
``Article``, ``Note`` or ``Page`` (checked, sanitised), and the queries of
the fediverse reading pages (who a user follows, their posts, a post and the
user's replies to it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t
import urllib.parse

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollowing
from flaskr.models import RemotePost
from flaskr.models import RemoteReply
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import URI_MAX_LENGTH
from flaskr.services.base.paging import Cursor
from flaskr.services.federation import fields
from flaskr.services.federation import ids
from flaskr.services.federation.remote_actors import domain_of

#: The object types kept as posts.
POST_TYPES = frozenset({"Article", "Note", "Page"})
TITLE_MAX_LENGTH = 300
#: Longer content (before cleaning) is not kept.
CONTENT_MAX_LENGTH = 200_000
#: The ways ActivityStreams writes "everyone".
_PUBLIC = frozenset({ids.PUBLIC, "as:Public", "Public"})
#: What a remote post's HTML may keep: text, links, lists, quotes and code.
#: No pictures: they would be fetched from the other server by every reader
#: (and the site's CSP allows none from other hosts).
TAGS = {
    "a", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "sup", "sub", "ul", "del", "i", "b",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
LINK_SCHEMES = {"http", "https", "mailto"}


def _keep_absolute_links(element: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: a link must name its host (a relative one
    would point into this site)."""
    if element == "a" and attribute == "href":
        parts = urllib.parse.urlsplit(value.strip())
        if parts.scheme.lower() not in LINK_SCHEMES:
            return None
    return value


def clean_html(html: str) -> str:
    """A remote post's ``content`` as HTML safe to show here."""
    import nh3  # only here: a worker that serves readers never loads it

    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
        attribute_filter=_keep_absolute_links,
    )


def plain_text(value: t.Any, limit: int) -> str:
    """A remote field as plain text: markup removed, spaces folded."""
    import nh3  # only here: a worker that serves readers never loads it

    if not isinstance(value, str):
        return ""
    return " ".join(nh3.clean(value, tags=set()).split())[:limit]


def moment(value: t.Any) -> dt.datetime | None:
    """An ``xsd:dateTime`` as an aware UTC time, or ``None``; never later
    than now (a post dated in the future would stay on top)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        found = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=dt.UTC)
    return min(found.astimezone(dt.UTC), utcnow())


def _names(value: t.Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {name for name in (fields.id_of(item) for item in items) if name}


def is_public(obj: t.Mapping[str, t.Any]) -> bool:
    """Whether ``obj`` is addressed to everyone (in ``to`` or ``cc``)."""
    return bool((_names(obj.get("to")) | _names(obj.get("cc"))) & _PUBLIC)


def post_columns(actor: RemoteActor, obj: t.Any) -> dict[str, t.Any] | None:
    """The columns of a ``RemotePost`` from an arriving object, or ``None``
    when it is not one to keep: not a post type, a reply, not public, not
    ``actor``'s (its id off ``actor``'s host, or attributed to another), or
    too long."""
    if not isinstance(obj, dict) or obj.get("type") not in POST_TYPES:
        return None
    uri = fields.id_of(obj)
    if uri is None or len(uri) > URI_MAX_LENGTH or domain_of(uri) != actor.domain:
        return None
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        return None
    if actor.uri not in _names(obj.get("attributedTo")):
        return None
    if obj.get("inReplyTo") or not is_public(obj):
        return None
    content = obj.get("content")
    content = content if isinstance(content, str) else ""
    if len(content) > CONTENT_MAX_LENGTH:
        return None
    return {
        "actor_id": actor.id,
        "uri": uri,
        "url": fields.http_address(obj.get("url")),
        "title": plain_text(obj.get("name"), TITLE_MAX_LENGTH),
        "content_html": clean_html(content),
        "published": moment(obj.get("published")) or utcnow(),
        "updated": moment(obj.get("updated")),
    }


# -- What the reading pages show ------------------------------------------


@dataclasses.dataclass(frozen=True)
class Followed:
    actor: RemoteActor
    following: RemoteFollowing

    @property
    def accepted(self) -> bool:
        return self.following.state == ACCEPTED


def followed_accounts(user_id: int) -> list[Followed]:
    """The remote accounts ``user_id`` follows or asked to, newest first."""
    rows = db.session.execute(
        sa.select(RemoteActor, RemoteFollowing)
        .join(RemoteFollowing, RemoteFollowing.actor_id == RemoteActor.id)
        .where(RemoteFollowing.user_id == user_id)
        .order_by(RemoteFollowing.created.desc(), RemoteActor.id.desc())
    ).all()
    return [Followed(actor, following) for actor, following in rows]


def _followed_by(user_id: int) -> sa.Select[int]:
    return sa.select(RemoteFollowing.actor_id).where(
        RemoteFollowing.user_id == user_id, RemoteFollowing.state == ACCEPTED
    )


@dataclasses.dataclass(frozen=True)
class RemotePostPage:
    #: Each post with its author.
    posts: list[tuple[RemotePost, RemoteActor]]
    #: Where the next (older) page starts, or ``None`` on the last page.
    older: Cursor | None


def posts_for(
    user_id: int, per_page: int, before: Cursor | None = None
) -> RemotePostPage:
    """The posts of the accounts ``user_id`` follows (accepted), newest
    first, ``per_page`` at a time."""
    query = (
        sa.select(RemotePost, RemoteActor)
        .join(RemoteActor, RemoteActor.id == RemotePost.actor_id)
        .where(RemotePost.actor_id.in_(_followed_by(user_id)))
        .order_by(RemotePost.published.desc(), RemotePost.id.desc())
        .limit(per_page + 1)
    )
    if before is not None:
        position = sa.tuple_(RemotePost.published, RemotePost.id)
        query = query.where(position < sa.tuple_(before.time, before.id))
    rows = [(post, actor) for post, actor in db.session.execute(query).all()]
    older = None
    if len(rows) > per_page:
        last = rows[per_page - 1][0]
        older = Cursor(last.published, last.id)
    return RemotePostPage(posts=rows[:per_page], older=older)


def readable_post(user_id: int, post_id: int) -> tuple[RemotePost, RemoteActor] | None:
    """A remote post and its author, if ``user_id`` follows the author
    (accepted); else ``None``."""
    row = db.session.execute(
        sa.select(RemotePost, RemoteActor)
        .join(RemoteActor, RemoteActor.id == RemotePost.actor_id)
        .where(
            RemotePost.id == post_id,
            RemotePost.actor_id.in_(_followed_by(user_id)),
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def replies_of(user_id: int, post_id: int) -> list[RemoteReply]:
    """``user_id``'s replies to a remote post, oldest first."""
    return list(
        db.session.scalars(
            sa.select(RemoteReply)
            .where(
                RemoteReply.user_id == user_id,
                RemoteReply.remote_post_id == post_id,
            )
            .order_by(RemoteReply.created, RemoteReply.id)
        )
    )


def reply_and_post(reply_id: int) -> tuple[RemoteReply, RemotePost, RemoteActor] | None:
    """A reply written here, the post it answers and that post's author."""
    row = db.session.execute(
        sa.select(RemoteReply, RemotePost, RemoteActor)
        .join(RemotePost, RemotePost.id == RemoteReply.remote_post_id)
        .join(RemoteActor, RemoteActor.id == RemotePost.actor_id)
        .where(RemoteReply.id == reply_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None
