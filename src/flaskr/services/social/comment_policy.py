"""Who may comment where: the site's comment policy and each post's switch.

The site's setting (``SiteSettings.comment_policy``) says who may comment at
all: ``anyone`` logged in with an active account, ``members`` (accounts with
at least one published post) or ``nobody``. Each post has its own switch
(``Post.comments_open``), which its writer and the moderators set. Both
apply to everyone, moderators too: closed means closed.
"""

from __future__ import annotations

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import VISIBLE
from flaskr.services.base import roles
from flaskr.services.base import site
from flaskr.services.base.errors import NotAllowed

ANYONE = "anyone"
MEMBERS = "members"
NOBODY = "nobody"
POLICIES = (ANYONE, MEMBERS, NOBODY)
#: What the Settings page calls each policy.
POLICY_LABELS = {
    ANYONE: "Anyone logged in",
    MEMBERS: "Members who have published a post",
    NOBODY: "Nobody: comments are off on the whole site",
}

CLOSED = "Comments are closed."
MEMBERS_ONLY = "Only members who have published a post may comment."
NOT_ACTIVE = "Your account may not comment."

#: What ``Post.reactions_version`` is set to when only reactions changed
#: (``reactions.REACTED``; repeated here so this module stays below it).
_REACTED = -1


def policy_problem(policy: str) -> str | None:
    if policy not in POLICIES:
        return "Choose one of the policies offered."
    return None


def comment_policy() -> str:
    return site.settings().comment_policy


def _has_published(user: User) -> bool:
    query = sa.select(Post.id).where(Post.author_id == user.id, Post.is_public)
    return db.session.scalar(query.limit(1)) is not None


def comment_refusal(user: User | None, post: Post) -> str | None:
    """Why ``user`` may not comment on ``post`` (a sentence for the page),
    or ``None`` if they may. A visitor (``None``) is told only of a closed
    post or site: logging in is asked of them elsewhere."""
    policy = comment_policy()
    if policy == NOBODY or not post.comments_open:
        return CLOSED
    if user is None:
        return None
    if not roles.may_take_part(user):
        return NOT_ACTIVE
    if policy == MEMBERS and not _has_published(user):
        return MEMBERS_ONLY
    return None


def check_may_comment(user: User, post: Post) -> None:
    """:raise NotAllowed: with :func:`comment_refusal`'s sentence."""
    refusal = comment_refusal(user, post)
    if refusal is not None:
        raise NotAllowed(refusal)


def may_switch_comments(user: User | None, post: Post) -> bool:
    """The post's writer and the moderators open and close its comments."""
    if user is None or not roles.may_take_part(user):
        return False
    return user.id == post.author_id or roles.may_moderate(user)


def set_comments_open(actor: User, post: Post, open: bool) -> None:
    """Open or close ``post``'s comments; commit.

    :raise NotAllowed: ``actor`` is neither its writer nor a moderator.
    """
    if not may_switch_comments(actor, post):
        raise NotAllowed(
            "Only the post's writer and moderators open or close comments."
        )
    post.comments_open = open
    post.reactions_version = _REACTED
    db.session.commit()


def counted_comments() -> sa.ColumnElement[bool]:
    """The comments ``Post.comment_count`` counts and readers see."""
    return sa.and_(Comment.state == VISIBLE, Comment.withheld.is_(False))
