"""A post's life after writing: publication when its time comes, unpublishing,
the trash and deleting for good."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import NOW
from flaskr.db import UTCDateTime
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.base.events import POST_DELETED
from flaskr.services.base.events import POST_RESTORED
from flaskr.services.base.events import POST_TRASHED
from flaskr.services.base.events import POST_UNPUBLISHED
from flaskr.services.base.events import record_event
from flaskr.services.base.events import record_post_deletions
from flaskr.services.content import editorial


def note_publication(at: dt.datetime) -> None:
    """Tell the page cache a post comes out at ``at``; the caller commits."""
    soonest = sa.case(
        (
            sa.or_(
                SiteVersion.next_publication.is_(None),
                SiteVersion.next_publication > sa.bindparam("at", type_=UTCDateTime()),
            ),
            sa.bindparam("at", type_=UTCDateTime()),
        ),
        else_=SiteVersion.next_publication,
    )
    db.session.execute(
        sa.update(SiteVersion)
        .where(SiteVersion.id == 1)
        .values(next_publication=soonest)
        .execution_options(synchronize_session=False),
        {"at": at},
    )


#: Moves the version once a scheduled post's time has come, and finds the
#: next such time; only the first server to get there changes anything.
_PUBLISH_DUE = (
    sa.update(SiteVersion)
    .where(SiteVersion.id == 1, SiteVersion.next_publication <= NOW)
    .values(
        value=SiteVersion.value + 1,
        next_publication=(
            sa.select(sa.func.min(Post.published))
            .where(Post.published > NOW, Post.deleted.is_(None))
            .scalar_subquery()
        ),
    )
)


def publish_due(connection: sa.Connection) -> bool:
    """If a scheduled post's time has come, move the site version (so every
    server's page cache renders afresh) and note the next such time; commit
    on ``connection``. Whether this call moved it."""
    with connection.begin():
        moved = connection.execute(_PUBLISH_DUE)
    return affected_rows(moved) > 0


def trash_lifetime() -> dt.timedelta:
    """How long a post waits in the trash (``TRASH_DAYS``)."""
    return dt.timedelta(days=current_app.config["TRASH_DAYS"])


def unpublish(actor: User, post: Post) -> None:
    """Take a published post back to the drafts, off every public page at
    once; publishing it again dates it anew. An edit form opened before is
    refused on save (the version moves), so it cannot publish it again. An
    editor's unpublishing of someone else's post is audited.

    :raise NotAllowed: ``actor`` may not change the post.
    """
    editorial.check_may_edit(actor, post)
    was_public = post.is_public
    post.published = None
    for link in post.tag_links:
        link.published = None
    post.version += 1
    editorial.note_unpublication_by(actor, post)
    record_event(
        POST_UNPUBLISHED, post_id=post.id, user_id=post.author_id, was_public=was_public
    )
    db.session.commit()


def move_to_trash(actor: User, post: Post) -> None:
    """Take the post off every page at once; it can be restored for
    :func:`trash_lifetime`. Purges what has been in the trash longer.

    :raise NotAllowed: ``actor`` may not change the post.
    """
    editorial.check_may_edit(actor, post)
    was_public = post.is_public
    post.deleted = utcnow()
    record_event(
        POST_TRASHED, post_id=post.id, user_id=post.author_id, was_public=was_public
    )
    delete_old_trash()
    db.session.commit()


def restore(actor: User, post: Post) -> None:
    """Bring a post back from the trash, as it was.

    :raise NotAllowed: ``actor`` may not change the post.
    :raise Invalid: the post is not in the trash.
    """
    editorial.check_may_edit(actor, post)
    _check_in_trash(post)
    post.deleted = None
    record_event(POST_RESTORED, post_id=post.id, user_id=post.author_id)
    db.session.commit()


def _check_in_trash(post: Post) -> None:
    if post.deleted is None:
        raise Invalid.of("body", "That post is not in the trash.")


def delete_forever(actor: User, post: Post) -> None:
    """Delete a post in the trash with its tags, revisions, image, likes and
    comments, all in one transaction.

    :raise NotAllowed: ``actor`` may not change the post.
    :raise Invalid: the post is not in the trash: only a post there is
        deleted for good, so one click cannot lose a published post.
    """
    editorial.check_may_edit(actor, post)
    _check_in_trash(post)
    record_event(
        POST_DELETED, post_id=post.id, user_id=post.author_id, was_public=post.is_public
    )
    db.session.delete(post)
    db.session.commit()


def delete_old_trash() -> int:
    """Delete the posts that have been in the trash longer than
    :func:`trash_lifetime`; return how many.

    The database deletes their tags, images, likes and comments with them;
    each post's deletion is recorded as an event. The caller commits.
    """
    cutoff = utcnow() - trash_lifetime()
    record_post_deletions(
        sa.select(Post.id, Post.author_id).where(Post.deleted < cutoff)
    )
    result = db.session.execute(
        sa.delete(Post)
        .where(Post.deleted < cutoff)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)


def purge_trash() -> int:
    """Delete the posts that have been in the trash too long; return how many."""
    purged = delete_old_trash()
    db.session.commit()
    return purged
