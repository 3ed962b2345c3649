"""What arrives in the inboxes: its signature checked, then handed to the
use case its type names (follows of this site's writers, replies and
reactions to its posts, posts of remote actors its users follow)."""

from __future__ import annotations

import json
import typing as t

from flask import current_app

from flaskr.db import db
from flaskr.db import MAX_ID
from flaskr.db import utcnow
from flaskr.models import RemoteActor
from flaskr.models import User
from flaskr.services.base import roles
from flaskr.services.base.security_log import log_event
from flaskr.services.federation import following
from flaskr.services.federation import follows
from flaskr.services.federation import remote_actors
from flaskr.services.federation import replies
from flaskr.services.federation import signatures

Activity = dict[str, t.Any]

#: The media types an inbox takes (any parameters after them).
JSON_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)


class InboxRefused(Exception):
    """An inbox POST that is not taken. ``status`` is the answer: 401 for a
    signature that does not check, 403 for a blocked server, 400 for an
    activity that makes no sense."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


def signer_of(
    method: str, target: str, headers: t.Mapping[str, str], body: bytes
) -> RemoteActor:
    """The remote actor whose key signed this request, in the caller's
    transaction (a new actor is fetched and kept).

    A signature that does not check with the kept key fetches the actor again
    once (its key may have been rotated) before it is refused.

    :raise InboxRefused: 401 unsigned, or not checking; 403 blocked.
    """
    header = next(
        (value for name, value in headers.items() if name.lower() == "signature"), None
    )
    if header is None:
        raise InboxRefused("the request is not signed", 401)
    try:
        parts = signatures.parse_signature(header)
    except signatures.SignatureRefused as error:
        raise InboxRefused(str(error), 401) from error
    window = current_app.config["FEDERATION_SIGNATURE_WINDOW"]
    for refresh in (False, True):
        try:
            actor = remote_actors.actor_of_key(parts.key_id, refresh=refresh)
        except remote_actors.ActorRefused as error:
            blocked = "blocked" in str(error)
            raise InboxRefused(str(error), 403 if blocked else 401) from error
        try:
            signatures.verify(
                method,
                target,
                headers,
                body,
                parts,
                actor.public_key_pem,
                utcnow(),
                window,
            )
        except signatures.SignatureRefused as error:
            if refresh or "key" not in str(error) and "check" not in str(error):
                raise InboxRefused(str(error), 401) from error
            continue
        return actor
    raise InboxRefused("signature does not check", 401)  # pragma: no cover


def _object_type(activity: Activity) -> str | None:
    obj = activity.get("object")
    return obj.get("type") if isinstance(obj, dict) else None


def receive(activity: Activity, signer: RemoteActor, user_id: int | None) -> None:
    """Act on ``activity`` as :func:`_dispatch` does; an activity whose
    shape a use case did not expect (a list where a string was, a field
    missing) is refused with 400, whatever it had begun to write undone.

    :raise InboxRefused: 400 as :func:`_dispatch`; 403, a blocked domain.
    """
    try:
        _dispatch(activity, signer, user_id)
    except remote_actors.ActorRefused as error:
        db.session.rollback()
        blocked = "blocked" in str(error)
        raise InboxRefused(str(error), 403 if blocked else 400) from error
    except (LookupError, TypeError, ValueError, AttributeError) as error:
        db.session.rollback()
        raise InboxRefused(
            f"the activity is malformed ({type(error).__name__})", 400
        ) from error


def _dispatch(activity: Activity, signer: RemoteActor, user_id: int | None) -> None:
    """Act on ``activity`` from ``signer``, POSTed to ``user_id``'s inbox (or
    the shared inbox, ``None``); commit what it changes. Types this site does
    nothing with are taken and dropped.

    :raise InboxRefused: 400, the activity is not ``signer``'s, or malformed.
    """
    if activity.get("actor") != signer.uri:
        raise InboxRefused("the activity is not the signer's", 400)
    kind = activity.get("type")
    if kind == "Follow":
        follows.receive_follow(signer, activity)
    elif kind == "Undo" and _object_type(activity) == "Follow":
        follows.receive_undo_follow(signer, activity)
    elif kind == "Accept":
        following.receive_accept(signer, activity)
    elif kind == "Reject":
        following.receive_reject(signer, activity)
    elif kind in ("Create", "Update"):
        if not replies.receive_note(signer, activity):
            following.receive_post(signer, activity)
    elif kind == "Delete":
        if activity.get("object") in (signer.uri, {"id": signer.uri}):
            replies.forget_actor(signer)
        elif not replies.receive_delete(signer, activity):
            following.receive_delete(signer, activity)
    elif kind == "Like":
        replies.receive_like(signer, activity)
    elif kind == "Announce":
        replies.receive_announce(signer, activity)
    elif kind == "Undo":
        replies.receive_undo(signer, activity)


def claimed_domain(headers: t.Mapping[str, str]) -> str | None:
    """The server a request says signed it: the host of its ``keyId``, read
    without fetching or checking anything (to count its requests); ``None``
    if unsigned or unreadable."""
    header = next(
        (value for name, value in headers.items() if name.lower() == "signature"), None
    )
    if header is None:
        return None
    try:
        key_id = signatures.parse_signature(header).key_id
    except signatures.SignatureRefused:
        return None
    return remote_actors.domain_of(key_id) or None


def has_inbox(user_id: int) -> bool:
    """Whether ``user_id`` is a writer's, whose actor has an inbox here."""
    if not 0 < user_id <= MAX_ID:
        return False
    return roles.may_write(db.session.get(User, user_id))


def parse_activity(body: bytes) -> Activity:
    """The activity a POST carries.

    :raise InboxRefused: 400, not a JSON object with a ``type`` and an
        ``actor``.
    """
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):
        raise InboxRefused("the body is not JSON", 400) from None
    if not isinstance(activity, dict):
        raise InboxRefused("the activity is not a JSON object", 400)
    if not isinstance(activity.get("type"), str):
        raise InboxRefused("the activity has no type", 400)
    actor = activity.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str) or not actor:
        raise InboxRefused("the activity has no actor", 400)
    activity["actor"] = actor
    return activity


def take(
    method: str,
    target: str,
    headers: t.Mapping[str, str],
    body: bytes,
    user_id: int | None,
) -> None:
    """An inbox POST, whole: the activity parsed, its signature checked,
    then acted on (:func:`receive`), committed; or refused, with nothing
    written and the refusal logged (``inbox_refused``).

    :param target: the path and query the request line named.
    :param user_id: the writer whose inbox it was POSTed to; ``None`` for
        the shared inbox.
    :raise InboxRefused: 400 malformed, 401 signature, 403 blocked domain.
    """
    try:
        activity = parse_activity(body)
        signer = signer_of(method, target, headers, body)
        receive(activity, signer, user_id)
        db.session.commit()
    except InboxRefused as refusal:
        db.session.rollback()
        log_event(
            "inbox_refused",
            reason=str(refusal),
            status=refusal.status,
            domain=claimed_domain(headers),
        )
        raise
