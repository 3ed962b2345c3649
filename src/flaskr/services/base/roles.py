"""What each role may do: the one place that says it.

Services ask these questions before they act; templates ask them only to
hide a control the service would refuse anyway. A suspended, removed or
waiting account may do nothing that others see, whatever its role.
"""

from __future__ import annotations

from flaskr.models import User
from flaskr.models.governance import ADMIN
from flaskr.models.governance import AUTHOR
from flaskr.models.governance import CONTRIBUTOR
from flaskr.models.governance import EDITOR
from flaskr.models.governance import READER
from flaskr.models.governance import ROLES

#: What the Settings and users pages call each role.
ROLE_LABELS = {
    ADMIN: "Administrator",
    EDITOR: "Editor",
    AUTHOR: "Author",
    CONTRIBUTOR: "Contributor",
    READER: "Reader",
}
#: Roles a new account may get by default or by invitation: never
#: administrator, which only an administrator gives, one account at a time.
JOINING_ROLES = (EDITOR, AUTHOR, CONTRIBUTOR, READER)

_WRITERS = frozenset({ADMIN, EDITOR, AUTHOR, CONTRIBUTOR})
_PUBLISHERS = frozenset({ADMIN, EDITOR, AUTHOR})
_MODERATORS = frozenset({ADMIN, EDITOR})


def role_problem(role: str, allowed: tuple[str, ...] = ROLES) -> str | None:
    if role not in allowed:
        return "Choose one of the roles offered."
    return None


def _active(user: User | None) -> bool:
    return user is not None and user.is_active


def may_write(user: User | None) -> bool:
    """May write posts (drafts at least)."""
    return _active(user) and user.role in _WRITERS  # type: ignore[union-attr]


def may_publish(user: User | None) -> bool:
    """May publish or schedule their own posts; a contributor submits them."""
    return _active(user) and user.role in _PUBLISHERS  # type: ignore[union-attr]


def may_moderate(user: User | None) -> bool:
    """May edit, publish and unpublish anyone's posts, moderate comments and
    reports, see the users page and approve accounts."""
    return _active(user) and user.role in _MODERATORS  # type: ignore[union-attr]


def may_govern(user: User | None) -> bool:
    """May change roles, suspend and remove accounts, and the site's settings."""
    return _active(user) and user.role == ADMIN  # type: ignore[union-attr]


def may_take_part(user: User | None) -> bool:
    """May comment, like, follow and report (the comment setting may narrow
    who comments)."""
    return _active(user)
