"""This site's users following remote actors: ``Follow`` sent, ``Accept`` or
``Reject`` received; the followed actors' posts as they arrive, and replies
to them sent as ``Note`` objects.

Each public function is a whole use case and commits. Following needs an
actor here, so only active users who may write follow and reply.
"""

from __future__ import annotations

import json
import re
import secrets
import typing as t
import urllib.parse

import sqlalchemy as sa
from flask import current_app

from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollowing
from flaskr.models import RemotePost
from flaskr.models import RemoteReply
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.models.federation import SITE_OWNER
from flaskr.services.base.errors import Invalid
from flaskr.services.base.markdown import render_light
from flaskr.services.base.roles import may_write
from flaskr.services.base.security_log import log_event
from flaskr.services.base.text import normalize_text
from flaskr.services.federation import client
from flaskr.services.federation import delivery
from flaskr.services.federation import fields
from flaskr.services.federation import ids
from flaskr.services.federation import objects
from flaskr.services.federation import remote_actors
from flaskr.services.federation import remote_posts

Activity = dict[str, t.Any]

#: ``name@host`` or ``@name@host``; the host may carry a port.
_HANDLE = re.compile(r"@?(?P<name>[^@\s/?#]{1,200})@(?P<host>[^@\s/?#]{1,260})")
HANDLE_MAX_LENGTH = 2048
#: The link types a WebFinger ``self`` link to an actor may have.
_AP_TYPES = ("application/activity+json", "application/ld+json")
_JRD_TYPES = ("application/jrd+json", "application/json", *_AP_TYPES)
NOT_FEDERATING = "This site does not take part in the fediverse."
WRITERS_ONLY = (
    "Only writers have a fediverse account here, so only writers can follow"
    " fediverse accounts."
)


def _refuse(message: str) -> t.NoReturn:
    """Undo what was begun (a fetched actor) and refuse ``handle``."""
    db.session.rollback()
    raise Invalid.of("handle", message)


def _webfinger(name: str, host: str) -> str:
    """The actor address WebFinger gives for ``name@host``.

    :raise Invalid: not found, or no actor link.
    """
    scheme = "http" if current_app.config["FEDERATION_ALLOW_HTTP"] else "https"
    resource = urllib.parse.quote(f"acct:{name}@{host}", safe=":@")
    url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
    handle = f"@{name}@{host}"
    try:
        answer = client.request(
            "GET", url, headers={"Accept": "application/jrd+json, application/json"}
        )
    except client.FetchRefused as error:
        _refuse(f"{handle} could not be looked up ({error}).")
    if answer.status in (404, 410):
        _refuse(f"No fediverse account {handle} was found.")
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if answer.status != 200 or media_type not in _JRD_TYPES:
        _refuse(f"{host} did not answer the look-up of {handle}.")
    try:
        document = json.loads(answer.body)
    except ValueError:
        _refuse(f"{host} did not answer the look-up of {handle}.")
    links = document.get("links") if isinstance(document, dict) else None
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind, href = link.get("type"), link.get("href")
        typed = isinstance(kind, str) and kind.startswith(_AP_TYPES)
        if typed and isinstance(href, str):
            return href
    _refuse(f"{handle} is not a fediverse account that can be followed.")


def _actor_address(handle: str) -> str:
    """Where the actor ``handle`` names is: looked up for ``name@host``, as
    given for an address.

    :raise Invalid: malformed, this site's, blocked, or not found.
    """
    match = None
    if urllib.parse.urlsplit(handle).scheme in ("http", "https"):
        host = remote_actors.domain_of(handle)
        if not host:
            _refuse("Type an account as @name@example.social, or its address.")
    else:
        match = _HANDLE.fullmatch(handle)
        if match is None:
            _refuse("Type an account as @name@example.social, or its address.")
        host = match["host"].lower()
    if host == ids.host():
        _refuse("That account is on this site: follow its writer from their page here.")
    if remote_actors.is_blocked(host):
        _refuse(f"This site does not federate with {host}.")
    if match is None:
        return handle
    return _webfinger(match["name"], host)


def _fetch_actor(uri: str, handle: str) -> RemoteActor:
    """The actor at ``uri``; a profile page that answers with an actor of
    another address on its host is followed to that actor.

    :raise Invalid: it is not an actor, or its domain is blocked.
    """
    try:
        return remote_actors.fetch_actor(uri, refresh=True)
    except remote_actors.ActorRefused as error:
        reason = str(error)
    if "blocked" in reason:
        _refuse(f"This site does not federate with {remote_actors.domain_of(uri)}.")
    if "id is not" in reason:
        try:
            document = client.fetch_object(uri, signer=SITE_OWNER)
        except client.FetchRefused:
            document = {}
        other = document.get("id")
        if isinstance(other, str) and remote_actors.domain_of(
            other
        ) == remote_actors.domain_of(uri):
            try:
                return remote_actors.fetch_actor(other, refresh=True)
            except remote_actors.ActorRefused as error:
                reason = str(error)
    _refuse(f"{handle} is not a fediverse account that can be followed ({reason}).")


def follow(user: User, handle: str) -> RemoteActor:
    """``user`` asks to follow the remote account ``handle`` (``@name@host``,
    ``name@host`` or an actor's address): the account is looked up and kept,
    the follow waits (``PENDING``) for its ``Accept``, and a ``Follow`` signed
    by ``user`` is queued to its inbox. Commits.

    :raise Invalid: keyed ``handle``: not a writer, malformed, not found, not
        an actor, on a blocked domain or on this site, or already followed;
        nothing is written.
    """
    if not ids.federating():
        raise Invalid.of("handle", NOT_FEDERATING)
    if not may_write(user):
        raise Invalid.of("handle", WRITERS_ONLY)
    handle = handle.strip()
    if not handle:
        raise Invalid.of("handle", "Type the account to follow.")
    if len(handle) > HANDLE_MAX_LENGTH or any(ord(c) < 32 for c in handle):
        raise Invalid.of("handle", "That is not a fediverse account.")
    actor = _fetch_actor(_actor_address(handle), handle)
    if actor.domain == ids.host():
        _refuse("That account is on this site: follow its writer from their page here.")
    our_actor = ids.actor(user.id)
    follow_id = f"{our_actor}#follows/{actor.id}/{secrets.token_hex(8)}"
    added = db.session.execute(
        insert_for_dialect(RemoteFollowing)
        .values(
            user_id=user.id,
            actor_id=actor.id,
            state=PENDING,
            follow_id=follow_id,
            created=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "actor_id"])
        .returning(RemoteFollowing.actor_id)
    ).first()
    if added is None:
        _refuse(f"You already follow {actor.handle}.")
    activity = objects.activity("Follow", our_actor, actor.uri, follow_id)
    delivery.enqueue(activity, [actor.inbox], ids.owner_of_user(user.id))
    db.session.commit()
    log_event("fediverse_follow", user_id=user.id, actor=actor.uri)
    return actor


def unfollow(user: User, actor_id: int) -> bool:
    """``user`` stops following (or withdraws the request to follow) a remote
    account: an ``Undo`` of the ``Follow`` is queued to its inbox and the
    follow removed. Commits; whether there was one."""
    row = db.session.execute(
        sa.select(RemoteFollowing, RemoteActor)
        .join(RemoteActor, RemoteActor.id == RemoteFollowing.actor_id)
        .where(RemoteFollowing.user_id == user.id, RemoteFollowing.actor_id == actor_id)
    ).first()
    if row is None:
        return False
    following, actor = row
    our_actor = ids.actor(user.id)
    undone = {
        "id": following.follow_id,
        "type": "Follow",
        "actor": our_actor,
        "object": actor.uri,
    }
    undo = objects.activity("Undo", our_actor, undone, f"{following.follow_id}/undo")
    if not remote_actors.is_blocked(actor.domain):
        delivery.enqueue(undo, [actor.inbox], ids.owner_of_user(user.id))
    db.session.delete(following)
    db.session.commit()
    log_event("fediverse_unfollow", user_id=user.id, actor=actor.uri)
    return True


def _our_follow(actor: RemoteActor, activity: Activity) -> RemoteFollowing | None:
    """The follow of ``actor`` whose ``Follow`` the activity's object is:
    named by its id, or embedded with it."""
    follow_id = fields.id_of(activity.get("object"))
    if follow_id is None:
        return None
    return db.session.scalars(
        sa.select(RemoteFollowing).where(
            RemoteFollowing.actor_id == actor.id,
            RemoteFollowing.follow_id == follow_id,
        )
    ).first()


def receive_accept(actor: RemoteActor, activity: Activity) -> None:
    """``actor`` accepted one of our ``Follow``: the follow is on. Commits;
    an ``Accept`` of anything else is dropped."""
    following = _our_follow(actor, activity)
    if following is None or following.state == ACCEPTED:
        return
    following.state = ACCEPTED
    db.session.commit()
    log_event("fediverse_follow_accepted", user_id=following.user_id, actor=actor.uri)


def receive_reject(actor: RemoteActor, activity: Activity) -> None:
    """``actor`` refused (or ended) one of our follows: it is removed.
    Commits."""
    following = _our_follow(actor, activity)
    if following is None:
        return
    user_id = following.user_id
    db.session.delete(following)
    db.session.commit()
    log_event("fediverse_follow_rejected", user_id=user_id, actor=actor.uri)


def _followed_or_asked(actor: RemoteActor) -> bool:
    found = db.session.scalar(
        sa.select(RemoteFollowing.user_id)
        .where(RemoteFollowing.actor_id == actor.id)
        .limit(1)
    )
    return found is not None


def receive_post(actor: RemoteActor, activity: Activity) -> None:
    """A ``Create`` or ``Update`` of a post by an actor someone here follows,
    or asked to, is kept (anything else is dropped). The reading pages show
    it once the follow is accepted (``remote_posts``).

    A follow still waiting counts because a site sends its ``Accept`` and its
    posts side by side: a post sent just after the ``Accept`` can arrive
    first, and dropping it would lose it for good."""
    if activity.get("type") not in ("Create", "Update") or not _followed_or_asked(
        actor
    ):
        return
    columns = remote_posts.post_columns(actor, activity.get("object"))
    if columns is None:
        return
    kept = db.session.scalars(
        sa.select(RemotePost).where(RemotePost.uri == columns["uri"])
    ).first()
    if kept is None:
        db.session.execute(
            insert_for_dialect(RemotePost)
            .values(**columns, received=utcnow())
            .on_conflict_do_nothing(index_elements=["uri"])
        )
    elif kept.actor_id == actor.id:
        for name, value in columns.items():
            if name != "published":
                setattr(kept, name, value)
    else:
        return
    db.session.commit()
    log_event("fediverse_post_received", actor=actor.uri, uri=columns["uri"])


def receive_delete(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Delete`` of one of ``actor``'s kept posts removes it."""
    uri = fields.id_of(activity.get("object"))
    if uri is None:
        return False
    kept = db.session.scalars(
        sa.select(RemotePost).where(
            RemotePost.uri == uri, RemotePost.actor_id == actor.id
        )
    ).first()
    if kept is None:
        return False
    db.session.delete(kept)
    db.session.commit()
    log_event("fediverse_post_deleted", actor=actor.uri, uri=uri)
    return True


def reply_problem(body: str) -> str | None:
    """Why ``body`` may not be a reply, or ``None`` if it may."""
    if not body.strip():
        return "Write your reply."
    if len(normalize_text(body)) > COMMENT_MAX_LENGTH:
        return f"A reply must be at most {COMMENT_MAX_LENGTH:,} characters long."
    if "\x00" in body:
        return "A reply must not contain NUL characters."
    return None


def reply(user: User, remote_post_id: int, body: str) -> RemoteReply:
    """``user`` replies to a remote post of an account they follow: the
    reply is kept (light Markdown, as comments) and a ``Create`` of its
    ``Note`` queued to the post author's inbox. Commits.

    :raise Invalid: keyed ``body``: empty or too long, not a writer, or the
        post is not one of an account ``user`` follows; nothing is written.
    """
    Invalid.collect({"body": reply_problem(body)})
    if not ids.federating():
        raise Invalid.of("body", NOT_FEDERATING)
    if not may_write(user):
        raise Invalid.of("body", WRITERS_ONLY.replace("follow", "follow and answer"))
    found = remote_posts.readable_post(user.id, remote_post_id)
    if found is None:
        raise Invalid.of("body", "You can only reply to accounts you follow.")
    post, actor = found
    if remote_actors.is_blocked(actor.domain):
        raise Invalid.of("body", f"This site does not federate with {actor.domain}.")
    text = normalize_text(body).strip()
    added = RemoteReply(
        user_id=user.id,
        remote_post_id=post.id,
        body=text,
        body_html=render_light(text),
        created=utcnow(),
    )
    db.session.add(added)
    db.session.flush()
    note = objects.reply_note(added, in_reply_to=post.uri, to=actor.uri)
    create = objects.activity(
        "Create", ids.actor(user.id), note, f"{note['id']}#create"
    )
    delivery.enqueue(create, [actor.inbox], ids.owner_of_user(user.id))
    db.session.commit()
    log_event("fediverse_reply", user_id=user.id, actor=actor.uri, reply_id=added.id)
    return added


def reply_document(reply_id: int) -> dict[str, t.Any] | None:
    """A reply written here as its ``Note`` (what ``/ap/replies/<id>``
    serves, so the remote server can check it), or ``None`` when it is gone,
    its writer is no longer active, or the site does not federate."""
    if not ids.federating():
        return None
    found = remote_posts.reply_and_post(reply_id)
    if found is None:
        return None
    added, post, actor = found
    writer = db.session.get(User, added.user_id)
    if writer is None or not writer.is_active:
        return None
    note = objects.reply_note(added, in_reply_to=post.uri, to=actor.uri)
    return {"@context": objects.CONTEXT, **note}
