"""Images held for their writers while a post form goes back and forth.

A writer who chooses an image and then previews, or is sent back to fix a
field, should not have to choose it again: the upload is processed once
(``images.process_upload``), held here, and named by the form until the post
is saved with it. Held images are their writer's alone, expire after
``HELD_IMAGE_HOURS``, and at most :data:`MAX_HELD_PER_WRITER` are kept per
writer (the oldest go first), so nobody can fill the database with them.
Expired ones are deleted whenever an image is held.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import HeldImage
from flaskr.models import User
from flaskr.services.base.images import ProcessedImage
from flaskr.services.content.editorial import check_may_write

#: Held images kept per writer: a few tabs' worth.
MAX_HELD_PER_WRITER = 10


def hold_time() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["HELD_IMAGE_HOURS"])


def hold_image(writer: User, processed: ProcessedImage) -> HeldImage:
    """Hold ``processed`` for ``writer``, and commit.

    :raise NotAllowed: ``writer`` may not write.
    """
    check_may_write(writer)
    user_id = writer.id
    delete_expired_held_images()
    kept = (
        sa.select(HeldImage.id)
        .where(HeldImage.user_id == user_id)
        .order_by(HeldImage.created.desc(), HeldImage.id.desc())
        .limit(MAX_HELD_PER_WRITER - 1)
    )
    db.session.execute(
        sa.delete(HeldImage)
        .where(HeldImage.user_id == user_id, HeldImage.id.not_in(kept))
        .execution_options(synchronize_session=False)
    )
    held = HeldImage(
        user_id=user_id,
        width=processed.width,
        height=processed.height,
        display=processed.display,
        thumbnail=processed.thumbnail,
    )
    db.session.add(held)
    db.session.commit()
    return held


def _still_held(user_id: int, held_id: int) -> tuple[sa.ColumnElement[bool], ...]:
    """The image ``held_id``, if it is ``user_id``'s and has not expired."""
    return (
        HeldImage.id == held_id,
        HeldImage.user_id == user_id,
        HeldImage.created >= utcnow() - hold_time(),
    )


def held_image(user_id: int, held_id: int) -> HeldImage | None:
    """The image ``held_id`` held for ``user_id``, unless it expired or is
    someone else's."""
    return db.session.scalar(sa.select(HeldImage).where(*_still_held(user_id, held_id)))


def held_image_bytes(user_id: int, held_id: int, size: str) -> bytes | None:
    """One size (``display`` or ``thumbnail``) of a held image, for its writer."""
    column = HeldImage.display if size == "display" else HeldImage.thumbnail
    return db.session.scalar(sa.select(column).where(*_still_held(user_id, held_id)))


def as_processed(held: HeldImage) -> ProcessedImage:
    return ProcessedImage(
        width=held.width,
        height=held.height,
        display=held.display,
        thumbnail=held.thumbnail,
    )


def release_held_image(held: HeldImage) -> None:
    """Stop holding ``held`` (its writer set it aside), and commit."""
    db.session.delete(held)
    db.session.commit()


def delete_expired_held_images() -> int:
    """Delete the held images past their time; return how many. The caller
    commits."""
    result = db.session.execute(
        sa.delete(HeldImage)
        .where(HeldImage.created < utcnow() - hold_time())
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)
