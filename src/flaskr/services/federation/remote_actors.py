"""Remote actors: fetched through the guarded client, checked, and kept
(``RemoteActor``) so that their signatures can be checked and their inboxes
reached; and the domains an administrator blocked."""

from __future__ import annotations

import datetime as dt
import typing as t
import urllib.parse

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import BlockedDomain
from flaskr.models import RemoteActor
from flaskr.models.federation import SITE_OWNER
from flaskr.models.federation import URI_MAX_LENGTH
from flaskr.services.federation import client
from flaskr.services.federation import fields

#: The actor types that may follow, reply and react.
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
#: A signature that does not check fetches its actor again (its key may have
#: been rotated), at most this often.
REFETCH_AFTER = dt.timedelta(minutes=1)
NAME_MAX_LENGTH = 200


class ActorRefused(Exception):
    """A remote actor that cannot be used: not fetched, malformed, or on a
    blocked domain. ``str()`` says why."""


def domain_of(uri: str) -> str:
    """The host of ``uri`` in lower case, with its port if it has one."""
    return urllib.parse.urlsplit(uri).netloc.lower().rsplit("@", 1)[-1]


def is_blocked(domain: str) -> bool:
    """Whether ``domain`` (a host, maybe with a port) or a domain it is under
    is blocked."""
    host = domain.split(":", 1)[0] if not domain.startswith("[") else domain
    labels = host.split(".")
    candidates = {".".join(labels[index:]) for index in range(len(labels))}
    candidates.add(domain)
    found = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(BlockedDomain)
        .where(BlockedDomain.domain.in_(sorted(candidates)))
    )
    return bool(found)


def _text(value: t.Any, limit: int) -> str:
    """A plain-text string from a remote field: markup removed, trimmed."""
    import nh3  # only here: a worker that serves readers never loads it

    if not isinstance(value, str):
        return ""
    return " ".join(nh3.clean(value, tags=set()).split())[:limit]


def parse_actor(document: t.Mapping[str, t.Any], uri: str) -> dict[str, t.Any]:
    """The columns of a ``RemoteActor`` from a fetched ``document``.

    :param uri: where it was fetched: its ``id`` must be this.
    :raise ActorRefused: it is not an actor, or lacks an inbox or a key, or
        claims another id or another's key.
    """
    if document.get("id") != uri:
        raise ActorRefused("the actor's id is not the address it came from")
    if document.get("type") not in ACTOR_TYPES:
        raise ActorRefused("not an actor")
    inbox = fields.http_address(document.get("inbox"))
    key = document.get("publicKey")
    if isinstance(key, list):
        key = next((item for item in key if isinstance(item, dict)), None)
    if inbox is None or not isinstance(key, dict):
        raise ActorRefused("the actor has no inbox or no key")
    key_id, owner, pem = key.get("id"), key.get("owner"), key.get("publicKeyPem")
    if not isinstance(key_id, str) or not isinstance(pem, str) or owner != uri:
        raise ActorRefused("the actor's key is not its own")
    if len(key_id) > URI_MAX_LENGTH or len(pem) > 10_000:
        raise ActorRefused("the actor's key is too long")
    endpoints = document.get("endpoints")
    shared = (
        fields.http_address(endpoints.get("sharedInbox"))
        if isinstance(endpoints, dict)
        else None
    )
    username = _text(document.get("preferredUsername"), NAME_MAX_LENGTH)
    return {
        "uri": uri,
        "domain": domain_of(uri),
        "inbox": inbox,
        "shared_inbox": shared,
        "username": username or domain_of(uri),
        "name": _text(document.get("name"), NAME_MAX_LENGTH),
        "profile_url": fields.http_address(document.get("url")) or uri,
        "icon_url": fields.http_address(document.get("icon")),
        "key_id": key_id,
        "public_key_pem": pem,
    }


def _store(columns: dict[str, t.Any]) -> RemoteActor:
    now = utcnow()
    changed = {**columns, "fetched": now}
    db.session.execute(
        insert_for_dialect(RemoteActor)
        .values(**changed, created=now)
        .on_conflict_do_update(index_elements=["uri"], set_=changed)
    )
    actor = db.session.scalars(
        sa.select(RemoteActor)
        .where(RemoteActor.uri == columns["uri"])
        .execution_options(populate_existing=True)
    ).one()
    return actor


def known_actor(uri: str) -> RemoteActor | None:
    found = sa.select(RemoteActor).where(RemoteActor.uri == uri)
    return db.session.scalars(found).first()


def fetch_actor(uri: str, *, refresh: bool = False) -> RemoteActor:
    """The remote actor at ``uri``: as kept, or fetched now (signed by the
    site's actor) if unknown or ``refresh``; kept in the caller's transaction.

    :raise ActorRefused: its domain is blocked, or it could not be fetched, or
        it is not a well-formed actor.
    """
    if is_blocked(domain_of(uri)):
        raise ActorRefused("the actor's domain is blocked")
    kept = known_actor(uri)
    if kept is not None and not refresh:
        return kept
    if kept is not None and utcnow() - kept.fetched < REFETCH_AFTER:
        return kept
    try:
        document = client.fetch_object(uri, signer=SITE_OWNER)
    except client.FetchRefused as error:
        raise ActorRefused(f"actor not fetched: {error}") from error
    return _store(parse_actor(document, uri))


def actor_of_key(key_id: str, *, refresh: bool = False) -> RemoteActor:
    """The actor whose key ``key_id`` names (``…#main-key``, or a key's own
    address): as kept, or fetched.

    :raise ActorRefused: as :func:`fetch_actor`, or the actor does not name
        this key.
    """
    if not refresh:
        kept = db.session.scalars(
            sa.select(RemoteActor).where(RemoteActor.key_id == key_id)
        ).first()
        if kept is not None:
            if is_blocked(kept.domain):
                raise ActorRefused("the actor's domain is blocked")
            return kept
    uri = key_id.split("#", 1)[0]
    actor = fetch_actor(uri, refresh=refresh)
    if actor.key_id != key_id:
        raise ActorRefused("the actor does not name this key")
    return actor
