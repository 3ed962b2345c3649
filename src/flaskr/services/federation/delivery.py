"""Delivering activities to remote inboxes (``FederationDelivery``).

:func:`enqueue` writes a delivery in the caller's transaction, once per
(activity, inbox) however often it is called; a sender claims due
deliveries, POSTs them signed through the guarded client, and retries with
back-off (docs/federation.md).
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models.federation import ACCEPTED


def enqueue(
    activity: t.Mapping[str, t.Any], inboxes: t.Iterable[str], signer: str
) -> int:
    """Queue ``activity`` for each of ``inboxes``, signed by ``signer`` (an
    ``ActorKey.owner``), in the caller's transaction; return how many were
    new (an activity already queued for an inbox is not queued again)."""
    rows = [
        {
            "activity_id": activity["id"],
            "inbox": inbox,
            "activity": dict(activity),
            "signer": signer,
            "created": utcnow(),
            "next_attempt": utcnow(),
            "attempts": 0,
            "failed": False,
        }
        for inbox in dict.fromkeys(inboxes)
    ]
    if not rows:
        return 0
    result = db.session.execute(
        insert_for_dialect(FederationDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["activity_id", "inbox"])
        .returning(FederationDelivery.id)
    )
    return len(result.all())


def follower_inboxes(user_id: int) -> list[str]:
    """Where an activity for all of a writer's followers goes: each
    follower's shared inbox, or its own inbox if its server has none; each
    address once."""
    found = db.session.scalars(
        sa.select(sa.func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox))
        .join(RemoteFollower, RemoteFollower.actor_id == RemoteActor.id)
        .where(RemoteFollower.user_id == user_id, RemoteFollower.state == ACCEPTED)
        .distinct()
    )
    return sorted(found)
