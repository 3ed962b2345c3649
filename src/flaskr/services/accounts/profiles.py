"""Profiles: what readers see of a writer: a name, a bio, a website and a
picture.

The profile columns are watched by the site-version triggers (migration
0014), so a change shows on every cached page at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Avatar
from flaskr.models import BIO_MAX_LENGTH
from flaskr.models import DISPLAY_NAME_MAX_LENGTH
from flaskr.models import User
from flaskr.models import WEBSITE_MAX_LENGTH
from flaskr.services.base.errors import Invalid
from flaskr.services.base.events import ACCOUNT_UPDATED
from flaskr.services.base.events import record_event
from flaskr.services.base.images import ProcessedAvatar
from flaskr.services.base.markdown import render_light
from flaskr.services.base.text import has_control_characters
from flaskr.services.base.text import normalize_text


def display_name_problem(name: str) -> str | None:
    """Why ``name`` may not be a display name, or ``None`` if it may (an
    empty one means none)."""
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        return f"A name must be at most {DISPLAY_NAME_MAX_LENGTH} characters long."
    if has_control_characters(name):
        return "A name must not contain control characters."
    return None


def bio_problem(bio: str) -> str | None:
    """Why ``bio`` may not be a bio, or ``None`` if it may."""
    if len(normalize_text(bio)) > BIO_MAX_LENGTH:
        return f"A bio must be at most {BIO_MAX_LENGTH} characters long."
    if has_control_characters(bio, allowed="\n\r\t"):
        return "A bio must not contain control characters."
    return None


def website_address(text: str) -> str:
    """``text`` as a web address: ``https://`` is added when no scheme is."""
    text = text.strip()
    if text and "://" not in text:
        return "https://" + text
    return text


def website_problem(text: str) -> str | None:
    """Why ``text`` may not be a website, or ``None`` if it may (empty is none)."""
    if not text:
        return None
    address = website_address(text)
    problem = "Enter a web address, such as https://example.org."
    if len(address) > WEBSITE_MAX_LENGTH:
        return f"A web address must be at most {WEBSITE_MAX_LENGTH} characters long."
    if has_control_characters(address) or any(c.isspace() for c in address):
        return problem
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return problem
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or "." not in host.strip("."):
        return problem
    if parts.username is not None or parts.password is not None:
        return "A web address must not hold a user name or password."
    return None


def set_profile(user: User, *, display_name: str, bio: str, website: str) -> None:
    """Set the profile (each part checked by the caller; empty means none);
    the caller commits."""
    bio = normalize_text(bio).strip()
    user.display_name = " ".join(display_name.split()) or None
    user.bio = bio
    user.bio_html = render_light(bio) if bio else ""
    user.website = website_address(website) or None


def profile_problems(*, display_name: str, bio: str, website: str) -> None:
    """Check a profile's parts.

    :raise Invalid: with ``display_name``, ``bio`` and ``website`` problems.
    """
    Invalid.collect(
        {
            "display_name": display_name_problem(display_name),
            "bio": bio_problem(bio),
            "website": website_problem(website),
        }
    )


def update_profile(user: User, *, display_name: str, bio: str, website: str) -> None:
    """Set the profile readers see (empty means none); commit.

    :raise Invalid: with ``display_name``, ``bio`` and ``website`` problems
        (nothing changed).
    """
    profile_problems(display_name=display_name, bio=bio, website=website)
    set_profile(user, display_name=display_name, bio=bio, website=website)
    record_event(ACCOUNT_UPDATED, user_id=user.id)
    db.session.commit()


def set_avatar(user: User, picture: ProcessedAvatar) -> None:
    """Give the user this picture, replacing any they had; commit."""
    attach_avatar(user, picture)
    record_event(ACCOUNT_UPDATED, user_id=user.id)
    db.session.commit()


def attach_avatar(user: User, picture: ProcessedAvatar) -> None:
    """Give the user this picture, replacing any they had; the caller
    commits."""
    old_id = user.avatar_id
    avatar = Avatar(large=picture.large, small=picture.small)
    db.session.add(avatar)
    db.session.flush()
    user.avatar_id = avatar.id
    if old_id is not None:
        db.session.flush()
        _delete_avatar(old_id)


def clear_avatar(user: User) -> bool:
    """Go back to the default picture; the caller commits. Whether there was
    one."""
    old_id = user.avatar_id
    if old_id is None:
        return False
    user.avatar_id = None
    db.session.flush()
    _delete_avatar(old_id)
    return True


def remove_avatar(user: User) -> bool:
    """Go back to the default picture; commit. Whether there was one."""
    removed = clear_avatar(user)
    if removed:
        record_event(ACCOUNT_UPDATED, user_id=user.id)
    db.session.commit()
    return removed


def _delete_avatar(avatar_id: int) -> None:
    """Delete a picture nobody points at any more; the caller commits."""
    db.session.execute(
        sa.delete(Avatar)
        .where(Avatar.id == avatar_id)
        .execution_options(synchronize_session=False)
    )


def forget_avatar(user: User) -> None:
    """Delete the picture of an account being deleted (after the user row);
    the caller commits."""
    if user.avatar_id is not None:
        _delete_avatar(user.avatar_id)


def avatar_bytes(avatar_id: int, size: str) -> bytes | None:
    """One size (``large`` or ``small``) of a picture, or ``None`` if there
    is no such picture."""
    column = Avatar.large if size == "large" else Avatar.small
    return db.session.scalar(sa.select(column).where(Avatar.id == avatar_id))
