"""Likes and comments.

A post's ``like_count`` and ``comment_count`` change only together with the
row they count, in one transaction, and a like is inserted with ON CONFLICT DO
NOTHING: so however many requests race, each user counts once.

Updating a count also sets the post's ``reactions_version`` to :data:`REACTED`,
which tells the database's triggers that only the post's reactions changed
(migration 0022): kept pages of other posts stay.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import UTCDateTime
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.models import Event
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import User
from flaskr.models.governance import HELD
from flaskr.models.governance import VISIBLE
from flaskr.services.base.errors import Invalid
from flaskr.services.base.events import COMMENT_ADDED
from flaskr.services.base.events import record_event
from flaskr.services.base.mail import record_mail
from flaskr.services.base.markdown import render_light
from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import cursor_bound
from flaskr.services.base.text import normalize_text
from flaskr.services.content.access import WITHOUT_TEXT
from flaskr.services.social.comment_policy import check_may_comment
from flaskr.services.social.comment_policy import counted_comments
from flaskr.services.social.hold_rules import hold_verdict
from flaskr.services.social.hold_rules import note_waiting_for_moderators

#: What a reaction sets ``Post.reactions_version`` to; a trigger replaces it.
REACTED = -1


def change_count(post_id: int, counter: t.Any, by: int) -> None:
    """Add ``by`` to one of the post's counter columns, in the database
    (``by=0`` only tells the page cache that the post's comments changed)."""
    db.session.execute(
        sa.update(Post)
        .where(Post.id == post_id)
        .values({counter: counter + by, Post.reactions_version: REACTED})
        .execution_options(synchronize_session=False)
    )


def set_like(
    user: User, post: Post, *, liked: bool, at: dt.datetime | None = None
) -> None:
    """Make ``user`` like the post or not; asking twice changes nothing.

    :param at: when the like was given (an imported one's time); now otherwise.
    """
    if liked:
        # RETURNING tells whether a row went in (rowcount is not reliable for
        # ON CONFLICT DO NOTHING through the ORM on every driver).
        inserted = db.session.execute(
            insert_for_dialect(Like)
            .values(post_id=post.id, user_id=user.id, created=at or utcnow())
            .on_conflict_do_nothing()
            .returning(Like.post_id)
        ).first()
        changed = inserted is not None
    else:
        deleted = db.session.execute(
            sa.delete(Like).where(Like.post_id == post.id, Like.user_id == user.id)
        )
        changed = affected_rows(deleted) > 0
    if changed:
        change_count(post.id, Post.like_count, 1 if liked else -1)
    db.session.commit()
    db.session.refresh(post, ["like_count"])


def liked_among(user: User | None, posts: t.Iterable[Post]) -> set[int]:
    """Which of ``posts`` the user likes, in one query."""
    ids = [post.id for post in posts]
    if user is None or not ids:
        return set()
    query = sa.select(Like.post_id).where(
        Like.user_id == user.id, Like.post_id.in_(ids)
    )
    return set(db.session.scalars(query))


@dataclasses.dataclass(frozen=True)
class LikePage:
    posts: list[Post]
    #: Where the next page starts, or ``None`` on the last page.
    older: Cursor | None


def likes_of(user: User, per_page: int, before: Cursor | None = None) -> LikePage:
    """The public posts ``user`` liked, most recently liked first."""
    query = (
        sa.select(Post, Like.created)
        .options(*WITHOUT_TEXT)
        .join(Like, Like.post_id == Post.id)
        .where(
            Like.user_id == user.id,
            Post.is_public,
        )
        .order_by(Like.created.desc(), Like.post_id.desc())
        .limit(per_page + 1)
    )
    if before is not None:
        position = sa.tuple_(Like.created, Like.post_id)
        query = query.where(position < cursor_bound(before))
    rows = db.session.execute(query).unique().all()
    older = None
    if len(rows) > per_page:
        post, liked = rows[per_page - 1]
        older = Cursor(liked, post.id)
    return LikePage(posts=[post for post, _ in rows[:per_page]], older=older)


def comment_problem(body: str) -> str | None:
    """Why ``body`` may not be a comment, or ``None`` if it may."""
    if not body.strip():
        return "Comment is required."
    if len(normalize_text(body)) > COMMENT_MAX_LENGTH:
        return f"A comment must be at most {COMMENT_MAX_LENGTH:,} characters long."
    if "\x00" in body:
        return "A comment must not contain NUL characters."
    return None


#: The comments a reader sees: the counted ones, and their own held ones
#: (``viewer_id``), marked "Awaiting moderation".
_SHOWN = sa.or_(
    counted_comments(),
    sa.and_(
        Comment.state == HELD,
        Comment.withheld.is_(False),
        Comment.author_id == sa.bindparam("viewer_id"),
    ),
)
# Built once: every post page asks, and building it cost more than running it.
_FIRST_COMMENTS = (
    sa.select(Comment)
    .where(Comment.post_id == sa.bindparam("post_id"), _SHOWN)
    .order_by(Comment.created, Comment.id)
    .limit(sa.bindparam("limit"))
)


def comments_on(
    post: Post, per_page: int, after: int | None = None, viewer: User | None = None
) -> list[Comment]:
    """Up to ``per_page + 1`` of the post's comments that ``viewer`` may see,
    oldest first (one more than a page, to tell whether another page
    follows): the visible ones of accounts not suspended, and the viewer's
    own held ones.

    :param after: the id of the last comment of the previous page.
    """
    viewer_id = viewer.id if viewer is not None else None
    if after is None:
        found = db.session.scalars(
            _FIRST_COMMENTS,
            {"post_id": post.id, "limit": per_page + 1, "viewer_id": viewer_id},
        )
        return list(found.unique())
    query = (
        sa.select(Comment)
        .where(Comment.post_id == post.id, _SHOWN)
        .order_by(Comment.created, Comment.id)
        .limit(per_page + 1)
    )
    previous = db.session.get(Comment, after)
    if previous is None or previous.post_id != post.id:
        return []
    position = sa.tuple_(Comment.created, Comment.id)
    bound = sa.tuple_(
        sa.literal(previous.created, UTCDateTime), sa.literal(previous.id)
    )
    query = query.where(position > bound)
    return list(db.session.scalars(query, {"viewer_id": viewer_id}).unique())


def _check_comment(body: str) -> None:
    """:raise Invalid: ``body`` may not be a comment (keyed ``body``)."""
    Invalid.collect({"body": comment_problem(body)})


def add_comment(post: Post, author: User, body: str, *, post_link: str) -> Comment:
    """Add and commit a comment, or hold it for the moderators when a hold
    rule says so (``state == "held"``, ``hold_reason`` naming the rules).

    A visible comment is counted, and its event (:data:`COMMENT_ADDED`) is
    recorded with it: the post's writer is mailed from that
    (:func:`mail_writer_about_comment`). A held one is not counted and
    mails nobody but the moderators (once a day), until it is approved.

    :param post_link: the address of the post's comments, for the mail.
    :raise NotAllowed: the comment policy or the post's switch refuses
        ``author`` (:func:`comment_policy.comment_refusal`).
    :raise Invalid: ``body`` may not be a comment, or the post is not public
        (drafts take no comments); nothing is written.
    """
    _check_comment(body)
    if not post.is_public:
        raise Invalid.of("body", "Only a published post takes comments.")
    check_may_comment(author, post)
    text = normalize_text(body).strip()
    verdict = hold_verdict(author, post, text)
    comment = Comment(
        post_id=post.id,
        author=author,
        body=text,
        body_html=render_light(text),
        state=HELD if verdict.held else VISIBLE,
        hold_reason=verdict.reason,
    )
    place_comment(comment, post_link=post_link)
    db.session.commit()
    return comment


def place_comment(comment: Comment, *, post_link: str) -> None:
    """Add a new comment (its ``state`` decided, ``held`` or ``visible``):
    a visible one is counted and its event recorded (:func:`show_comment`),
    a held one tells the moderators; the caller commits."""
    db.session.add(comment)
    db.session.flush()
    if comment.state == HELD:
        change_count(comment.post_id, Post.comment_count, 0)
        note_waiting_for_moderators()
    else:
        show_comment(comment, post_link=post_link)


def show_comment(comment: Comment, *, post_link: str) -> None:
    """Count a comment that is now visible (new, or approved) and record its
    :data:`COMMENT_ADDED` event; the caller commits."""
    change_count(comment.post_id, Post.comment_count, 0 if comment.withheld else 1)
    record_event(
        COMMENT_ADDED,
        post_id=comment.post_id,
        user_id=comment.author_id,
        comment_id=comment.id,
        commenter=commenter_name(comment),
        post_link=post_link,
    )


def commenter_name(comment: Comment) -> str:
    """Who wrote ``comment``, as mail names them: a member's shown name; a
    fediverse author's name and handle; "deleted user" for an account gone."""
    if comment.author is not None:
        return comment.author.shown_name
    remote = comment.remote_actor
    if remote is not None:
        return f"{remote.shown_name} ({remote.handle})"
    return "deleted user"


def hide_comment(comment: Comment, state: str) -> None:
    """Move a comment out of sight (rejected, spam), uncounting it if it was
    counted; the caller commits."""
    counted = comment.state == VISIBLE and not comment.withheld
    comment.state = state
    change_count(comment.post_id, Post.comment_count, -1 if counted else 0)


def mail_writer_about_comment(event: Event) -> None:
    """Handle :data:`COMMENT_ADDED`: mail the post's writer about the comment,
    if it is still there, they have a confirmed address and did not turn
    comment mail off; the event line commits."""
    # What the mail needs, in one statement: handlers run for every comment.
    found = db.session.execute(
        sa.select(Comment.body, Post.title, User.username, User.email)
        .join(Post, Post.id == Comment.post_id)
        .join(User, User.id == Post.author_id)
        .where(
            Comment.id == event.payload["comment_id"],
            Comment.state == VISIBLE,
            # A fediverse reply has no local author, and is never the writer's.
            sa.or_(Comment.author_id.is_(None), User.id != Comment.author_id),
            User.notify_comments,
            User.email.is_not(None),
        )
    ).one_or_none()
    if found is None or found.email is None:
        return  # deleted since, the writer's own, or not to be mailed
    record_mail(
        found.email,
        "new_comment",
        username=found.username,
        commenter=event.payload["commenter"],
        title=found.title,
        comment=found.body,
        link=event.payload["post_link"],
    )


def import_comment(
    post: Post,
    author: User | None,
    body: str,
    *,
    created: dt.datetime,
    edited: dt.datetime | None,
) -> Comment | None:
    """Add and commit a comment as another blog kept it, unless the post has
    one by the same author at the same time with the same text (so importing
    twice adds nothing): rendered like any comment, and nobody is mailed.

    :raise Invalid: ``body`` may not be a comment; nothing is written.
    """
    _check_comment(body)
    text = normalize_text(body).strip()
    same = sa.select(Comment.id).where(
        Comment.post_id == post.id,
        Comment.created == sa.literal(created, UTCDateTime),
        Comment.body == text,
        Comment.author_id.is_(None)
        if author is None
        else Comment.author_id == author.id,
    )
    if db.session.scalar(same.limit(1)) is not None:
        return None
    comment = Comment(
        post_id=post.id,
        author=author,
        body=text,
        body_html=render_light(text),
        created=created,
        edited=edited,
    )
    db.session.add(comment)
    change_count(post.id, Post.comment_count, 1)
    db.session.commit()
    return comment


def edit_comment(comment: Comment, body: str) -> None:
    """Replace a comment's text, marked as edited; commit. The caller has
    checked that the one asking wrote the comment. A visible comment whose
    new text a hold rule holds waits for the moderators again.

    :raise Invalid: ``body`` may not be a comment; nothing is written.
    """
    _check_comment(body)
    comment.body = normalize_text(body).strip()
    comment.body_html = render_light(comment.body)
    comment.edited = utcnow()
    post = db.session.get(Post, comment.post_id)
    author = comment.author
    if comment.state == VISIBLE and post is not None and author is not None:
        verdict = hold_verdict(author, post, comment.body)
        if verdict.held:
            hide_comment(comment, HELD)
            comment.hold_reason = verdict.reason
            note_waiting_for_moderators()
    db.session.commit()


def set_comment_mail(user: User, wanted: bool) -> None:
    """Whether the user is mailed about comments on their posts; commit."""
    user.notify_comments = wanted
    db.session.commit()


def get_comment(comment_id: int) -> Comment | None:
    return db.session.get(Comment, comment_id)


def may_delete(user: User, comment: Comment, post: Post) -> bool:
    """A comment may be deleted by whoever wrote it and by the post's author."""
    return user.id in (comment.author_id, post.author_id)


def delete_comment(comment: Comment) -> None:
    post_id = comment.post_id
    counted = comment.state == VISIBLE and not comment.withheld
    db.session.delete(comment)
    change_count(post_id, Post.comment_count, -1 if counted else 0)
    db.session.commit()


def forget_user(user: User, *, keep_comments: bool) -> None:
    """Take back a departing user's likes, and keep their comments without an
    author or delete them, adjusting the counts. The caller commits."""
    liked = sa.select(Like.post_id).where(Like.user_id == user.id)
    db.session.execute(
        sa.update(Post)
        .where(Post.id.in_(liked))
        .values(like_count=Post.like_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(Like).where(Like.user_id == user.id))
    if keep_comments:
        db.session.execute(
            sa.update(Comment)
            .where(Comment.author_id == user.id)
            .values(author_id=None)
            .execution_options(synchronize_session=False)
        )
        return
    theirs = (
        sa.select(sa.func.count())
        .where(
            Comment.post_id == Post.id,
            Comment.author_id == user.id,
            counted_comments(),
        )
        .scalar_subquery()
    )
    commented = sa.select(Comment.post_id).where(Comment.author_id == user.id)
    db.session.execute(
        sa.update(Post)
        .where(Post.id.in_(commented))
        .values(comment_count=Post.comment_count - theirs)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(Comment)
        .where(Comment.author_id == user.id)
        .execution_options(synchronize_session=False)
    )
