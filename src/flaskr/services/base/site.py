"""The site itself: its identity (title, description, About page, icon) and
the administrators who set it.

The settings row's trigger moves the site version (migration 0020), so a
page kept by the page cache never shows an older title or icon.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t

import sqlalchemy as sa

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.models import ABOUT_MAX_LENGTH
from flaskr.models import SITE_DESCRIPTION_MAX_LENGTH
from flaskr.models import SITE_TITLE_MAX_LENGTH
from flaskr.models import SiteSettings
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import ADMIN
from flaskr.models.governance import AUTHOR
from flaskr.services.base import audit
from flaskr.services.base import markdown
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.images import ProcessedIcon
from flaskr.services.base.security_log import log_event
from flaskr.services.base.text import has_control_characters
from flaskr.services.base.text import normalize_text

SETTINGS_ID = 1


@dataclasses.dataclass(frozen=True)
class SiteIdentity:
    """What every page shows of the site; empty text means "not set"."""

    title: str
    description: str
    icon_key: str | None
    has_about: bool
    serif_body: bool = False
    #: Whether the header offers "Register": not on a closed site.
    takes_members: bool = True


#: The settings columns every page shows.
_IDENTITY_COLUMNS = (
    SiteSettings.title,
    SiteSettings.description,
    SiteSettings.icon_key,
    (SiteSettings.about_html != "").label("has_about"),
    SiteSettings.serif_body,
    (SiteSettings.join_mode != "closed").label("takes_members"),
)
# Built once: every page asks, and building it cost more than running it.
_IDENTITY_QUERY = sa.select(*_IDENTITY_COLUMNS).where(SiteSettings.id == SETTINGS_ID)


def identity_from_row(row: t.Any, default_title: str) -> SiteIdentity:
    """The identity in a row of ``_IDENTITY_COLUMNS`` (all ``None`` when the
    database has no settings row); ``default_title`` stands in for a title
    nobody set."""
    if row is None or row.title is None:
        return SiteIdentity(default_title, "", None, has_about=False)
    return SiteIdentity(
        row.title or default_title,
        row.description,
        row.icon_key,
        has_about=bool(row.has_about),
        serif_body=bool(row.serif_body),
        takes_members=bool(row.takes_members),
    )


def read_identity(default_title: str) -> SiteIdentity:
    """The site's identity, in one statement."""
    row = db.session.execute(_IDENTITY_QUERY).one_or_none()
    return identity_from_row(row, default_title)


def settings() -> SiteSettings:
    """The settings row, made with defaults if the database has none yet."""
    row = db.session.get(SiteSettings, SETTINGS_ID)
    if row is None:
        row = SiteSettings(id=SETTINGS_ID)
        db.session.add(row)
    return row


def title_problem(title: str) -> str | None:
    if len(title) > SITE_TITLE_MAX_LENGTH:
        return f"A site title must be at most {SITE_TITLE_MAX_LENGTH} characters."
    if has_control_characters(title):
        return "A site title must not contain control characters."
    return None


def description_problem(description: str) -> str | None:
    if has_control_characters(description, allowed="\t\n\r"):
        return "A description must not contain control characters."
    if len(" ".join(description.split())) > SITE_DESCRIPTION_MAX_LENGTH:
        return (
            f"A description must be at most {SITE_DESCRIPTION_MAX_LENGTH} characters."
        )
    return None


def about_problem(about: str) -> str | None:
    if "\x00" in about:  # PostgreSQL refuses NUL in text
        return "The About page must not contain NUL characters."
    if len(normalize_text(about)) > ABOUT_MAX_LENGTH:
        return f"The About page must be at most {ABOUT_MAX_LENGTH:,} characters."
    return None


def update_identity(
    title: str, description: str, about: str, *, serif_body: bool = False
) -> None:
    """Save the title, description and About page (empty: the default, none,
    no page) and the typeface of posts; commit.

    :raise Invalid: with ``title``, ``description`` and ``about`` problems
        (nothing changed).
    """
    Invalid.collect(
        {
            "title": title_problem(title),
            "description": description_problem(description),
            "about": about_problem(about),
        }
    )
    row = settings()
    row.serif_body = serif_body
    row.title = " ".join(title.split())
    row.description = " ".join(description.split())
    row.about = normalize_text(about)
    row.about_html = markdown.render(row.about) if row.about.strip() else ""
    db.session.commit()


def about_html() -> str | None:
    """The About page as HTML, or ``None`` if there is none."""
    html = db.session.scalar(
        sa.select(SiteSettings.about_html).where(SiteSettings.id == SETTINGS_ID)
    )
    return html or None


def set_icon(icon: ProcessedIcon) -> None:
    row = settings()
    row.icon_key = secrets.token_urlsafe(16)
    row.icon_large, row.icon_small = icon.large, icon.small
    db.session.commit()


def remove_icon() -> bool:
    """Go back to the default icon; whether there was another one."""
    row = settings()
    if row.icon_key is None:
        return False
    row.icon_key = row.icon_large = row.icon_small = None
    db.session.commit()
    return True


def icon_bytes(key: str, size: str) -> bytes | None:
    """The icon saved under ``key`` in ``size`` ("large" or "small"), or
    ``None`` if that is not the current icon."""
    column = SiteSettings.icon_large if size == "large" else SiteSettings.icon_small
    return db.session.scalar(
        sa.select(column).where(
            SiteSettings.id == SETTINGS_ID, SiteSettings.icon_key == key
        )
    )


def set_admin(user: User, is_admin: bool = True) -> None:
    """Make ``user`` an administrator, or no longer one; commit and log
    ``admin_added`` or ``admin_removed``."""
    if is_admin:
        user.role = ADMIN
    elif user.role == ADMIN:
        user.role = AUTHOR
    db.session.commit()
    log_event("admin_added" if is_admin else "admin_removed", user_id=user.id)


def set_role(actor: User | None, user: User, role: str) -> None:
    """Give ``user`` the role ``role``; commit, with an audit entry
    ``role_changed`` (``actor`` ``None``: the site's operator, by
    ``flask set-role``).

    :raise NotAllowed: ``actor`` is not an administrator. (An administrator
        may step down while another one remains.)
    :raise Invalid: ``role`` is not a role, or the change would leave the
        site without an active administrator (``role``).
    """
    if actor is not None and not roles.may_govern(actor):
        raise NotAllowed("Only an administrator changes roles.")
    Invalid.collect({"role": roles.role_problem(role)})
    before = user.role
    if before == role:
        return
    if before == ADMIN:
        others = sa.select(User.id).where(
            User.role == ADMIN, User.state == ACTIVE, User.id != user.id
        )
        if db.session.scalar(others.limit(1)) is None:
            raise Invalid.of(
                "role",
                "The site needs an active administrator: make another one first.",
            )
    user.role = role
    audit.record(actor, "role_changed", user, detail=f"{before} → {role}")
    db.session.commit()
    if ADMIN in (before, role):
        log_event("admin_added" if role == ADMIN else "admin_removed", user_id=user.id)


def claim_first_admin(user: User) -> bool:
    """Make ``user`` (flushed) an administrator if it is the site's only
    account (the first one of a fresh site); whether it did. The caller
    commits and logs. A site that already had accounts gets its
    administrators from ``flask make-admin``."""
    others = sa.select(User.id).where(User.id != user.id).exists()
    made = affected_rows(
        db.session.execute(
            sa.update(User)
            .where(User.id == user.id, ~others)
            .values(role=ADMIN)
            .execution_options(synchronize_session=False)
        )
    )
    if made:
        user.role = ADMIN
    return bool(made)


def administrators() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(User.username).where(User.is_admin).order_by(User.username_key)
        )
    )
