"""Readers' reports of posts, comments and profiles, and their resolution.

Any active account may report what it can see and did not write, once per
item, with a reason. Open reports wait in the moderation queue for the
moderators (not the reported writer); resolving one (dismissing it, or
hiding the item) resolves every open report of the same item, and is
recorded in the audit log.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import Report
from flaskr.models import User
from flaskr.models.governance import REJECTED
from flaskr.models.governance import REPORTED_SUBJECTS
from flaskr.models.governance import VISIBLE
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.content import lifecycle
from flaskr.services.governance import members
from flaskr.services.social.hold_rules import note_waiting_for_moderators
from flaskr.services.social.reactions import hide_comment

REASON_MAX_LENGTH = 1000
DISMISS = "dismiss"
HIDE = "hide"
RESOLUTIONS = (DISMISS, HIDE)
#: Open reports shown in the queue at once (the oldest first).
QUEUE_SIZE = 200

ALREADY_REPORTED = "You have already reported this; the moderators will look at it."


def reason_problem(reason: str) -> str | None:
    if not reason.strip():
        return "Say what is wrong: the moderators read it."
    if len(reason) > REASON_MAX_LENGTH:
        return f"A reason must be at most {REASON_MAX_LENGTH:,} characters long."
    if "\x00" in reason:
        return "A reason must not contain NUL characters."
    return None


@dataclasses.dataclass(frozen=True)
class Reported:
    """What a report is about, as the queue shows it."""

    subject: str
    subject_id: int
    #: Who wrote it (the user reported, for a profile); ``None``: gone.
    writer: User | None
    post: Post | None = None
    comment: Comment | None = None

    @property
    def writer_id(self) -> int | None:
        return self.writer.id if self.writer is not None else None


def find_reported(subject: str, subject_id: int) -> Reported | None:
    """The item, if it is there and readers may see it (so it can be
    reported now); ``None`` otherwise."""
    if subject == "post":
        post = db.session.get(Post, subject_id)
        if post is None or not post.is_public:
            return None
        return Reported(subject, subject_id, post.author, post=post)
    if subject == "comment":
        comment = db.session.get(Comment, subject_id)
        if comment is None or comment.state != VISIBLE or comment.withheld:
            return None
        post = db.session.get(Post, comment.post_id)
        if post is None or not post.is_public:
            return None
        return Reported(subject, subject_id, comment.author, post=post, comment=comment)
    if subject == "user":
        user = db.session.get(User, subject_id)
        if user is None or not user.is_active:
            return None
        return Reported(subject, subject_id, user)
    return None


def report(reporter: User, subject: str, subject_id: int, reason: str) -> Report:
    """File ``reporter``'s report of a post, a comment or a profile; commit.
    The moderators are mailed (once a day at most).

    :raise NotAllowed: ``reporter`` may not take part, or wrote the item.
    :raise Invalid: keyed ``subject`` (unknown, gone), ``reason``, or
        ``body`` (already reported by ``reporter``); nothing is written.
    """
    if not roles.may_take_part(reporter):
        raise NotAllowed("Your account may not report.")
    if subject not in REPORTED_SUBJECTS:
        raise Invalid.of("subject", "Report a post, a comment or a profile.")
    item = find_reported(subject, subject_id)
    if item is None:
        raise Invalid.of("subject", "There is nothing there to report.")
    if item.writer_id == reporter.id:
        raise NotAllowed("You cannot report your own writing or profile.")
    Invalid.collect({"reason": reason_problem(reason)})
    same = sa.select(Report.id).where(
        Report.reporter_id == reporter.id,
        Report.subject == subject,
        Report.subject_id == subject_id,
    )
    if db.session.scalar(same) is not None:
        raise Invalid.of("body", ALREADY_REPORTED)
    filed = Report(
        reporter_id=reporter.id,
        subject=subject,
        subject_id=subject_id,
        reason=" ".join(reason.split()),
    )
    db.session.add(filed)
    note_waiting_for_moderators()
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # The same report sent twice at once: the unique index kept one.
        db.session.rollback()
        raise Invalid.of("body", ALREADY_REPORTED) from None
    return filed


@dataclasses.dataclass(frozen=True)
class OpenReport:
    report: Report
    reporter: User | None
    #: ``None`` once the item is gone (or hidden by other means).
    item: Reported | None


def open_reports(viewer: User) -> list[OpenReport]:
    """The open reports, oldest first, for a moderator; none for others."""
    if not roles.may_moderate(viewer):
        return []
    rows = db.session.execute(
        sa.select(Report, User)
        .outerjoin(User, User.id == Report.reporter_id)
        .where(Report.resolved.is_(None))
        .order_by(Report.created, Report.id)
        .limit(QUEUE_SIZE)
    ).all()
    return [
        OpenReport(found, reporter, find_reported(found.subject, found.subject_id))
        for found, reporter in rows
    ]


def _hide(actor: User, item: Reported) -> str:
    """Take the reported item from readers; return what was done."""
    if item.comment is not None:
        hide_comment(item.comment, REJECTED)
        return "comment rejected"
    if item.subject == "post" and item.post is not None:
        return "post unpublished"
    if item.writer is None:
        return "nothing left to hide"
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator suspends an account.")
    return "account suspended"


def resolve_report(actor: User, report_id: int, resolution: str) -> str:
    """Resolve an open report, and every open report of the same item:
    dismiss it, or hide the item (a comment is rejected, a post goes back
    to its writer's drafts, an account is suspended, which needs an
    administrator); commit, with an audit entry. Returns what was done.

    :raise NotAllowed: ``actor`` may not moderate, or may not hide this.
    :raise Invalid: keyed ``resolution``, or ``body`` (no such report, or
        another moderator resolved it first); nothing is written.
    """
    if not roles.may_moderate(actor):
        raise NotAllowed("Only moderators resolve reports.")
    if resolution not in RESOLUTIONS:
        raise Invalid.of("resolution", "Choose dismiss or hide.")
    found = db.session.get(Report, report_id)
    if found is None:
        raise Invalid.of("body", "That report doesn't exist.")
    if found.resolved is not None:
        raise Invalid.of("body", "Another moderator already resolved this report.")
    item = find_reported(found.subject, found.subject_id)
    if resolution == HIDE and item is not None:
        done = _hide(actor, item)
    elif resolution == HIDE:
        done = "nothing left to hide"
    else:
        done = "dismissed"
    now = utcnow()
    db.session.execute(
        sa.update(Report)
        .where(
            Report.subject == found.subject,
            Report.subject_id == found.subject_id,
            Report.resolved.is_(None),
        )
        .values(resolved=now, resolved_by=actor.id, resolution=done)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        actor,
        "report_resolved",
        item.writer if item is not None else None,
        post_id=item.post.id if item is not None and item.post else None,
        comment_id=found.subject_id if found.subject == "comment" else None,
        detail=f"{found.subject} {found.subject_id}: {done}",
    )
    # The two use cases below commit, with everything above.
    if done == "post unpublished" and item is not None and item.post is not None:
        # Records the editor's unpublishing in the audit log itself.
        lifecycle.unpublish(actor, item.post)
    elif done == "account suspended" and item is not None and item.writer:
        try:
            members.suspend(actor, item.writer, f"Reported: {found.reason}"[:500])
        except (Invalid, NotAllowed):
            db.session.rollback()
            raise
    db.session.commit()
    db.session.refresh(found)
    return done
