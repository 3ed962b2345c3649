"""The audit log: every decision that governs the site (role changes,
approvals, suspensions, removals, moderation), who made it, when and why.

Entries are added in the transaction of the decision, so a decision rolled
back leaves no entry and no decision goes unrecorded. The security log gets
a line too, for operators who read logs rather than pages.
"""

from __future__ import annotations

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AuditEntry
from flaskr.models import User
from flaskr.services.base.security_log import log_event


def record(
    actor: User | None,
    action: str,
    subject: User | None = None,
    *,
    post_id: int | None = None,
    comment_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    """Add an entry for ``actor`` (``None``: the site itself, a command)
    doing ``action`` to ``subject``; the caller commits."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "",
        action=action,
        subject_user_id=subject.id if subject else None,
        subject_name=subject.username if subject else "",
        post_id=post_id,
        comment_id=comment_id,
        detail=detail,
    )
    db.session.add(entry)
    log_event(
        f"audit.{action}",
        actor_id=entry.actor_id,
        user_id=entry.subject_user_id,
        post_id=post_id,
        comment_id=comment_id,
    )
    return entry


def recent_entries(limit: int = 50, before_id: int | None = None) -> list[AuditEntry]:
    """The newest entries first, ``limit`` of them, older than ``before_id``."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(db.session.scalars(query))
