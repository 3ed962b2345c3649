"""What arrives in the inboxes: its signature checked, then handed to the
use case its type names (follows of this site's writers, replies and
reactions to its posts, posts of remote actors its users follow)."""

from __future__ import annotations

import typing as t

from flask import current_app

from flaskr.db import utcnow
from flaskr.models import RemoteActor
from flaskr.services.federation import following
from flaskr.services.federation import follows
from flaskr.services.federation import remote_actors
from flaskr.services.federation import replies
from flaskr.services.federation import signatures

Activity = dict[str, t.Any]


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
