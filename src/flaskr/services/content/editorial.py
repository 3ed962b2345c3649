"""Who may change a post, and editors' review of contributors' drafts.

The roles (``services/base/roles.py``) applied to one post: administrators
and editors change anyone's posts; authors their own; contributors their
own drafts only (asking to publish submits a draft for review, and once an
editor publishes it only editors change it); readers, and accounts that are
not active, nothing. Every content use case asks :func:`check_may_write` or
:func:`check_may_edit` before it writes; templates ask :func:`may_edit` only
to hide a control the use case would refuse anyway.
"""

from __future__ import annotations

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import PENDING
from flaskr.models.governance import READER
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.events import POST_PUBLISHED
from flaskr.services.base.events import record_event

#: A note returned with a submission, to its contributor.
NOTE_MAX_LENGTH = 1000


def _writer_refusal(actor: User | None) -> str:
    if actor is None:
        return "Log in to write."
    if actor.state == PENDING:
        return "Your account waits for approval: it cannot write yet."
    if actor.state != ACTIVE:
        return "Your account is suspended: it cannot write."
    if actor.role == READER:
        return "Readers do not write posts here; an administrator can change that."
    return "You are not allowed to write posts."


def check_may_write(actor: User | None) -> None:
    """:raise NotAllowed: ``actor`` may not write posts (or pictures)."""
    if not roles.may_write(actor):
        raise NotAllowed(_writer_refusal(actor))


def may_edit(actor: User | None, post: Post) -> bool:
    """Whether ``actor`` may change ``post``: edit, publish or unpublish it,
    move it to the trash and back, restore its revisions."""
    if actor is None or not roles.may_write(actor):
        return False
    if roles.may_moderate(actor):
        return True
    if post.author_id != actor.id:
        return False
    return roles.may_publish(actor) or post.published is None


def check_may_edit(actor: User | None, post: Post) -> None:
    """:raise NotAllowed: ``actor`` may not change ``post`` (:func:`may_edit`)."""
    if may_edit(actor, post):
        return
    check_may_write(actor)
    assert actor is not None
    if post.author_id != actor.id:
        raise NotAllowed("Only its writer or an editor may change this post.")
    raise NotAllowed("An editor published this post: only editors change it now.")


def submits(actor: User, publish: bool) -> bool:
    """Whether asking to publish (or schedule) is a submission for review:
    ``actor`` may write but not publish (a contributor)."""
    return publish and not roles.may_publish(actor)


def note_publication_by(actor: User, post: Post) -> None:
    """The post is published (or scheduled) by ``actor``: a submission no
    longer waits, and an editor publishing a contributor's draft is
    audited. The caller commits."""
    if post.review_requested is None:
        return
    post.review_requested = None
    if post.author_id != actor.id:
        audit.record(
            actor, "post_published_for_contributor", post.author, post_id=post.id
        )


def note_unpublication_by(actor: User, post: Post) -> None:
    """An editor took someone else's post back to the drafts: audited. The
    caller commits."""
    if post.author_id != actor.id:
        audit.record(actor, "post_unpublished_by_editor", post.author, post_id=post.id)


def submissions(limit: int = 200) -> list[Post]:
    """Drafts submitted for review, the longest waiting first."""
    query = (
        sa.select(Post)
        .where(
            Post.review_requested.is_not(None),
            Post.published.is_(None),
            Post.deleted.is_(None),
        )
        .order_by(Post.review_requested, Post.id)
        .limit(limit)
    )
    return list(db.session.scalars(query).unique())


def _check_submission(actor: User, post: Post) -> None:
    if not roles.may_moderate(actor):
        raise NotAllowed("Only editors and administrators review submissions.")
    if post.deleted is not None or post.published is not None:
        raise Invalid.of("body", "That post is not a draft waiting for review.")
    if post.review_requested is None:
        raise Invalid.of("body", "That draft was not submitted for review.")


def publish_submission(actor: User, post: Post) -> None:
    """Publish a contributor's submitted draft now, as an editor; commit.

    The publication is recorded as any other (mail to followers, feeds),
    and the decision in the audit log.

    :raise NotAllowed: ``actor`` is not an editor or administrator.
    :raise Invalid: the post is not a submitted draft.
    """
    _check_submission(actor, post)
    now = utcnow()
    post.published = now
    for link in post.tag_links:
        link.published = now
    post.version += 1
    note_publication_by(actor, post)
    record_event(POST_PUBLISHED, post_id=post.id, user_id=post.author_id, due=now)
    db.session.commit()


def note_problem(note: str) -> str | None:
    if len(note) > NOTE_MAX_LENGTH:
        return f"A note must be at most {NOTE_MAX_LENGTH} characters long."
    return None


def return_submission(actor: User, post: Post, note: str) -> None:
    """Send a submitted draft back to its contributor unpublished, with
    ``note`` (kept in the audit log); commit.

    :raise NotAllowed: ``actor`` is not an editor or administrator.
    :raise Invalid: the post is not a submitted draft, or the note is too long.
    """
    _check_submission(actor, post)
    Invalid.collect({"note": note_problem(note)})
    post.review_requested = None
    post.version += 1
    audit.record(
        actor,
        "post_returned_to_contributor",
        post.author,
        post_id=post.id,
        detail=" ".join(note.split()),
    )
    db.session.commit()
