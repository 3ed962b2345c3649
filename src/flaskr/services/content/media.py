"""A writer's picture library: pictures placed in posts' text by Markdown.

Uploads are checked and re-encoded like post images (``services/images.py``)
and kept under a random key: ``/media/<key>.webp`` (and ``/small.webp``),
which the Markdown renderer gives a ``srcset``. A picture is "used" while the
text of one of its writer's posts names it; only unused ones can be deleted,
so no post loses a picture.
"""

from __future__ import annotations

import dataclasses
import re
import secrets

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import ALT_MAX_LENGTH
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.images import ProcessedImage
from flaskr.services.base.text import has_control_characters
from flaskr.services.content.editorial import check_may_write

#: The keys in addresses: URL-safe, 22 characters (128 random bits).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
#: Pictures the library page shows, newest first.
LIBRARY_PAGE = 200


class MediaInUse(Exception):
    """A post's text still shows the picture."""


def alt_problem(alt: str) -> str | None:
    """Why ``alt`` may not describe a picture, or ``None`` if it may."""
    if not alt.strip():
        return "Describe the picture for people who cannot see it (alt text)."
    if len(alt) > ALT_MAX_LENGTH:
        return f"A description must be at most {ALT_MAX_LENGTH} characters long."
    if has_control_characters(alt):
        return "A description must not contain control characters."
    return None


def markdown_for(picture: MediaImage) -> str:
    """The Markdown that places the picture in a post's text."""
    alt = " ".join(picture.alt.replace("[", "(").replace("]", ")").split())
    return f"![{alt}](/media/{picture.key}.webp)"


def add_picture(
    user: User, processed: ProcessedImage, alt: str, *, key: str | None = None
) -> MediaImage:
    """Keep a processed upload in the user's library; commit.

    :param key: the picture's key in an imported blog, which its posts' text
        names; a new random one otherwise.
    :raise NotAllowed: ``user`` may not write (a reader, an account that is
        not active).
    :raise Invalid: ``alt`` does not describe a picture (``alt``), or ``key``
        is not one Flaskr makes or is taken (``key``); nothing is written.
    """
    check_may_write(user)
    return import_picture(user, processed, alt, key=key)


def import_picture(
    owner: User, processed: ProcessedImage, alt: str, *, key: str | None = None
) -> MediaImage:
    """Keep a picture of an imported blog in ``owner``'s library; commit. The
    import use case decided who may import; otherwise as :func:`add_picture`.
    """
    user = owner
    key_problem = None
    if key is not None:
        if not KEY_PATTERN.fullmatch(key):
            key_problem = "Its key is not one Flaskr makes."
        elif find_picture(key) is not None:
            key_problem = f"Another picture has the key {key}."
    Invalid.collect({"alt": alt_problem(alt), "key": key_problem})
    picture = MediaImage(
        key=key or secrets.token_urlsafe(16),
        user_id=user.id,
        alt=" ".join(alt.split()),
        width=processed.width,
        height=processed.height,
        display=processed.display,
        thumbnail=processed.thumbnail,
    )
    db.session.add(picture)
    db.session.commit()
    return picture


@dataclasses.dataclass(frozen=True)
class LibraryEntry:
    picture: MediaImage
    #: How many of its writer's posts (drafts and trash included) show it.
    uses: int


def _uses(picture: MediaImage) -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .where(
            Post.author_id == picture.user_id,
            Post.body.contains(f"/media/{picture.key}", autoescape=True),
        )
        .scalar_subquery()
    )


def library_of(user: User) -> list[LibraryEntry]:
    """The user's pictures, newest first, with how often each is used."""
    pictures = db.session.scalars(
        sa.select(MediaImage)
        .where(MediaImage.user_id == user.id)
        .order_by(MediaImage.id.desc())
        .limit(LIBRARY_PAGE)
    ).all()
    return [
        LibraryEntry(picture, int(db.session.scalar(sa.select(_uses(picture))) or 0))
        for picture in pictures
    ]


def find_picture(key: str) -> MediaImage | None:
    if not KEY_PATTERN.fullmatch(key):
        return None  # not a key we make (and PostgreSQL refuses a NUL)
    return db.session.scalar(sa.select(MediaImage).where(MediaImage.key == key))


def delete_picture(actor: User, picture: MediaImage) -> None:
    """Delete a picture no post shows, from ``actor``'s library; commit.

    :raise NotAllowed: ``actor`` may not write, or the picture is not theirs.
    :raise MediaInUse: a post's text still shows it.
    """
    check_may_write(actor)
    if picture.user_id != actor.id:
        raise NotAllowed("Only its owner may delete this picture.")
    if db.session.scalar(sa.select(_uses(picture))):
        raise MediaInUse(picture.key)
    db.session.delete(picture)
    db.session.commit()


def picture_bytes(key: str, size: str) -> bytes | None:
    """One size (``display`` or ``small``) of a picture, or ``None``."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    column = MediaImage.display if size == "display" else MediaImage.thumbnail
    return db.session.scalar(sa.select(column).where(MediaImage.key == key))
