"""Writing posts: creating, importing, updating and autosaving them, with a
revision kept of each version.

Each of :func:`create_post`, :func:`update_post`, :func:`autosave` and
:func:`import_post` is a whole use case: it checks every field itself
(:func:`check_post`) before it writes anything, raises one
:class:`~flaskr.services.base.errors.Invalid` naming each field's problems,
and commits all of its changes or none. The post form, the JSON API, the
importers and restoring a revision only translate their input to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import HeldImage
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.base import images
from flaskr.services.base import markdown
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import PostChanged
from flaskr.services.base.events import POST_PUBLISHED
from flaskr.services.base.events import POST_UPDATED
from flaskr.services.base.events import record_event
from flaskr.services.base.text import normalize_text
from flaskr.services.content import editorial
from flaskr.services.content import held_images
from flaskr.services.content import rules
from flaskr.services.content.lifecycle import note_publication
from flaskr.services.content.media import alt_problem
from flaskr.services.content.rules import free_slug
from flaskr.services.content.rules import slugify


def _remember_time_zone(user: User, zone: str | None) -> None:
    """Show the user's times in ``zone`` from now on (``None``: as before);
    the caller commits."""
    if zone is not None:
        user.time_zone = None if zone == "UTC" else zone


def _tags_named(names: list[str]) -> dict[str, Tag]:
    """The tags with these names, made where new, in two statements. Another
    request making the same tag at the same moment is not an error."""
    if not names:
        return {}
    db.session.execute(
        insert_for_dialect(Tag)
        .values([{"name": name} for name in names])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    tags = db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))
    return {tag.name: tag for tag in tags}


@dataclasses.dataclass(frozen=True)
class ImageChange:
    """What to do with a post's image when it is saved."""

    #: An image held for the writer, replacing any the post had; saving the
    #: post with it ends the hold.
    held: HeldImage | None = None
    #: The alt text of the new or the kept image.
    alt: str = ""
    remove: bool = False

    def problems(
        self, writer_id: int | None, post: Post | None
    ) -> dict[str, str | None]:
        """What is wrong with this change for the post (``None`` for a new
        one) of the writer ``writer_id``, by the post form's field names: the
        image kept or added needs its description (:func:`media.alt_problem`,
        the rule of every picture), and a held image must be the writer's."""
        keeps = self.held is not None or (
            post is not None and post.image is not None and not self.remove
        )
        theirs = self.held is None or self.held.user_id == writer_id
        return {
            "image_alt": alt_problem(self.alt) if keeps else None,
            "image_file": None if theirs else "That image is not yours to use.",
        }

    def apply(self, post: Post) -> None:
        if self.remove:
            post.image = None
        elif self.held is not None:
            images.attach(post, held_images.as_processed(self.held), self.alt)
            db.session.delete(self.held)
        elif post.image is not None:
            post.image.alt = self.alt


class SlugTakenError(Invalid):
    """Another post has the address asked for; nothing of the save is written."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            {
                "slug": [
                    f"Another post has the address {slug}. Choose another, or"
                    " leave it empty."
                ]
            }
        )
        self.slug = slug


def check_post(
    title: str,
    body: str,
    *,
    tags: list[str],
    summary: str = "",
    slug: str = "",
    schedule_at: dt.datetime | None = None,
    time_zone: str | None = None,
    extra: dict[str, str | None] | None = None,
) -> None:
    """Check every field of a post as a save would, writing nothing.

    :param extra: more problems found by the caller's use case (its image),
        reported with these.
    :raise Invalid: naming each field that breaks its rule (keys as the post
        form names its fields: ``title``, ``body``, ``tags``, ``summary``,
        ``slug``, ``publish_at``, ``time_zone``, ``image_alt``…).
    """
    Invalid.collect(
        {
            "title": rules.title_problem(title),
            "body": rules.body_problem(body),
            "tags": rules.tag_names_problem(tags),
            "summary": rules.summary_problem(summary),
            "slug": rules.slug_problem(slug),
            "publish_at": (
                None if schedule_at is None else rules.schedule_problem(schedule_at)
            ),
            "time_zone": (
                None
                if time_zone is None or time_zone in rules.time_zones()
                else "Choose a time zone from the list."
            ),
            **(extra or {}),
        }
    )


def _excerpt(summary: str, body_text: str) -> str:
    return markdown.shorten(summary or body_text)


def _made_from(slug: str, wanted: str) -> bool:
    """Whether ``slug`` is what :func:`free_slug` makes of ``wanted``."""
    return slug == wanted or re.fullmatch(re.escape(wanted) + r"-\d+", slug) is not None


def _write(
    post: Post, title: str, body: str, tags: list[str], summary: str, slug: str
) -> None:
    """Fill the post from what the writer sent; the caller commits.

    :raise SlugTakenError: ``slug`` is another post's.
    """
    # A draft's address follows its title until the writer sets one: a new
    # post autosaved from its first letters is not stuck with them.
    follows_title = (
        post.published is None
        and post.slug is not None
        and post.title is not None
        and _made_from(post.slug, slugify(post.title))
    )
    post.title = title
    post.body = normalize_text(body)
    post.body_html = markdown.render(post.body)
    post.body_text = markdown.plain_text(post.body)
    post.word_count = len(post.body_text.split())
    post.summary = " ".join(summary.split())
    post.excerpt = _excerpt(post.summary, post.body_text)
    if slug:
        if free_slug(db.session.connection(), slug, post.id) != slug:
            raise SlugTakenError(slug)
        post.slug = slug
    elif post.slug is None or follows_title:
        post.slug = free_slug(db.session.connection(), slugify(title), post.id)
    wanted = _tags_named(rules.tag_names(tags))
    kept = [link for link in post.tag_links if link.tag.name in wanted]
    kept_names = {link.tag.name for link in kept}
    added = [PostTag(tag=tag) for name, tag in wanted.items() if name not in kept_names]
    post.tag_links = kept + added
    for link in post.tag_links:
        link.published = post.published


def create_post(
    author: User,
    title: str,
    body: str,
    *,
    tags: list[str],
    publish: bool,
    image: ImageChange | None = None,
    summary: str = "",
    slug: str = "",
    schedule_at: dt.datetime | None = None,
    time_zone: str | None = None,
    mail_subscribers: bool = True,
) -> Post:
    """Create and commit a post, published now, at ``schedule_at`` (a time to
    come) or as a draft.

    :param tags: the tags' names as typed; each is normalized, and one
        without a letter or digit is dropped.
    :param slug: the address asked for; empty makes one from the title.
    :param time_zone: the zone the writer chose the schedule in, remembered
        for their next visit with the post.
    :param mail_subscribers: false keeps the post out of the newsletter
        (``services/social/newsletter.py``).
    :raise NotAllowed: ``author`` may not write (:mod:`.editorial`); a
        contributor's ``publish`` or ``schedule_at`` saves a draft submitted
        for review instead.
    :raise Invalid: a field breaks its rule (:func:`check_post`), or
        :class:`SlugTakenError`; nothing is saved.
    """
    editorial.check_may_write(author)
    image_problems = image.problems(author.id, None) if image is not None else {}
    check_post(
        title,
        body,
        tags=tags,
        summary=summary,
        slug=slug,
        schedule_at=schedule_at,
        time_zone=time_zone,
        extra=image_problems,
    )
    submitted = editorial.submits(author, publish or schedule_at is not None)
    if submitted:
        publish, schedule_at = False, None
    post = Post(author=author, published=utcnow() if publish else None)
    post.mail_subscribers = mail_subscribers
    post.review_requested = utcnow() if submitted else None
    if schedule_at is not None:
        post.published = schedule_at
        note_publication(schedule_at)
    with db.session.no_autoflush:
        _write_or_roll_back(post, title, body, tags, summary, slug)
    db.session.add(post)
    if image is not None:
        image.apply(post)
    _remember_time_zone(author, time_zone)
    _record_or_slug_taken(post, slug, by=author)
    if post.published is not None:
        _record_publication(post)
    _commit_or_slug_taken(slug)
    return post


def import_post(
    author: User,
    title: str,
    body: str,
    *,
    tags: list[str],
    summary: str,
    slug: str,
    created: dt.datetime,
    published: dt.datetime | None,
    updated: dt.datetime | None,
    cover: tuple[images.ProcessedImage, str] | None = None,
) -> Post:
    """Create and commit a post as another blog kept it: its dates, its state
    (a draft without ``published``, scheduled with one to come) and its cover
    picture (re-encoded, with its alt text); rendered and cleaned like any
    post.

    :raise Invalid: a field breaks its rule (:func:`check_post`; the cover's
        description as ``image_alt``), or :class:`SlugTakenError`; nothing
        is saved.
    """
    check_post(
        title,
        body,
        tags=tags,
        summary=summary,
        slug=slug,
        extra={"image_alt": alt_problem(cover[1]) if cover is not None else None},
    )
    post = Post(author=author, created=created, published=published, updated=updated)
    if published is not None and published > utcnow():
        note_publication(published)
    with db.session.no_autoflush:
        _write_or_roll_back(post, title, body, tags, summary, slug)
    db.session.add(post)
    if cover is not None:
        images.attach(post, *cover)
    _record_or_slug_taken(post, slug, created=updated or created)
    if published is not None and published > utcnow():
        # Only what comes out later is news; the rest came out long ago.
        _record_publication(post)
    _commit_or_slug_taken(slug)
    return post


def _record_publication(post: Post) -> None:
    """Record that the post comes out: now, or at its scheduled time (the
    event line drops it if by then it no longer does); the caller commits."""
    record_event(
        POST_PUBLISHED, post_id=post.id, user_id=post.author_id, due=post.published
    )


def _record_or_slug_taken(
    post: Post, slug: str, created: dt.datetime | None = None, by: User | None = None
) -> None:
    """Record the revision; its flushes meet a slug that a concurrent save
    took first."""
    try:
        _record_revision(post, created, by)
    except IntegrityError:
        db.session.rollback()
        raise SlugTakenError(slug) from None


def _record_revision(
    post: Post, created: dt.datetime | None = None, by: User | None = None
) -> None:
    """Keep the post as it is now as a revision saved ``by`` someone (its
    writer if ``None``), and forget those past ``REVISIONS_KEPT``; the caller
    commits."""
    db.session.flush()
    db.session.add(
        PostRevision(
            post_id=post.id,
            saved_by=by.id if by is not None else post.author_id,
            created=created or utcnow(),
            title=post.title,
            body=post.body,
            summary=post.summary,
            tags=", ".join(post.tag_names),
        )
    )
    db.session.flush()
    kept = (
        sa.select(PostRevision.id)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
        .limit(int(current_app.config["REVISIONS_KEPT"]))
    )
    db.session.execute(
        sa.delete(PostRevision)
        .where(PostRevision.post_id == post.id, PostRevision.id.not_in(kept))
        .execution_options(synchronize_session=False)
    )


def _has_revisions(post: Post) -> bool:
    query = sa.select(PostRevision.id).where(PostRevision.post_id == post.id)
    return db.session.scalar(query.limit(1)) is not None


def _write_or_roll_back(
    post: Post, title: str, body: str, tags: list[str], summary: str, slug: str
) -> None:
    try:
        _write(post, title, body, tags, summary, slug)
    except SlugTakenError:
        db.session.rollback()
        raise


def _commit_or_slug_taken(slug: str) -> None:
    """Commit; a slug taken by a save that raced this one is refused whole."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SlugTakenError(slug) from None


def update_post(
    actor: User,
    post: Post,
    title: str,
    body: str,
    *,
    tags: list[str],
    publish: bool = False,
    image: ImageChange | None = None,
    opened_at: int | None = None,
    summary: str = "",
    slug: str = "",
    schedule_at: dt.datetime | None = None,
    to_draft: bool = False,
    unpublish: bool = False,
    time_zone: str | None = None,
    mail_subscribers: bool | None = None,
) -> None:
    """Save ``actor``'s changes to a post, all of them or none; ``publish``
    publishes a draft or a scheduled post, dated now.

    :raise NotAllowed: ``actor`` may not change the post
        (:func:`.editorial.check_may_edit`); a contributor's ``publish`` or
        ``schedule_at`` submits the draft for review instead.

    :param tags: as :func:`create_post`.
    :param schedule_at: publish a draft or a scheduled post at this time to
        come instead.
    :param to_draft: take a scheduled post off its schedule.
    :param unpublish: take a published post back to the drafts, off every
        public page, with this save.
    :param time_zone: as :func:`create_post`.
    :param mail_subscribers: as :func:`create_post`; ``None`` keeps the
        post's choice. Once the post is out its mail is sent: a change then
        is kept for nothing.
    :raise Invalid: a field breaks its rule (:func:`check_post`); nothing
        is saved.

    :param slug: a new address; empty keeps the post's.
    :raise SlugTakenError: another post has that address; nothing is saved.

    :param opened_at: the post's version the writer started from; ``None``
        saves over whatever version is there now (still as a whole).
    :raise PostChanged: the post was saved since ``opened_at`` (or, with
        ``None``, while this save ran); the session is rolled back.
    """
    editorial.check_may_edit(actor, post)
    image_problems = image.problems(actor.id, post) if image is not None else {}
    check_post(
        title,
        body,
        tags=tags,
        summary=summary,
        slug=slug,
        schedule_at=schedule_at,
        time_zone=time_zone,
        extra=image_problems,
    )
    _claim_version(post, post.version if opened_at is None else opened_at)
    if not _has_revisions(post):
        # Saved before revisions were kept: its state so far is the first.
        _record_revision(post, created=post.updated or post.published or post.created)
    now = utcnow()
    pending = post.is_pending
    if editorial.submits(actor, publish or schedule_at is not None) and pending:
        publish, schedule_at = False, None
        post.review_requested = post.review_requested or now
    was_out = not pending
    if schedule_at is not None and pending:
        post.published = schedule_at
        note_publication(schedule_at)
    elif publish and pending:
        post.published = now
    elif (to_draft and pending) or (unpublish and not post.is_draft):
        post.published = None
    else:
        post.updated = now
    _write_or_roll_back(post, title, body, tags, summary, slug)
    if mail_subscribers is not None:
        post.mail_subscribers = mail_subscribers
    if image is not None:
        image.apply(post)
    _remember_time_zone(actor, time_zone)
    _record_or_slug_taken(post, slug, by=actor)
    if was_out and post.published is None:
        editorial.note_unpublication_by(actor, post)
    if pending and post.published is not None:
        editorial.note_publication_by(actor, post)
        _record_publication(post)  # now, or (again) at its scheduled time
    elif not pending:
        record_event(POST_UPDATED, post_id=post.id, user_id=post.author_id)
    _commit_or_slug_taken(slug)


def _claim_version(post: Post, opened_at: int) -> None:
    """Move the post's version on from ``opened_at``, first of the save's
    statements: it takes the row's write lock, so a concurrent save of the same
    version waits, then finds the version moved and is refused whole."""
    claimed = db.session.execute(
        sa.update(Post)
        .where(Post.id == post.id, Post.version == opened_at)
        .values(version=Post.version + 1)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(claimed) != 1:
        db.session.rollback()
        raise PostChanged()
    set_committed_value(post, "version", opened_at + 1)


def preview(body: str) -> str:
    """``body`` rendered as it would be saved."""
    return markdown.render(normalize_text(body))


#: A pause in saving this long ends an editing session.
EDITING_SESSION_GAP = dt.timedelta(minutes=30)


def autosave(
    actor: User,
    post: Post,
    title: str,
    body: str,
    *,
    tags: list[str],
    summary: str,
    opened_at: int,
) -> None:
    """Save a draft's text as its writer types.

    Autosaves collapse into one revision per editing session: the writer's
    next save keeps one of them all, and the first autosave of a new session
    (after :data:`EDITING_SESSION_GAP` without saves) first keeps what the
    last session left, if no save did.

    :raise NotAllowed: ``actor`` may not change the post.
    :raise Invalid: a field breaks its rule (:func:`check_post`), or the
        post is not a draft; nothing is saved.
    :raise PostChanged: saved elsewhere since ``opened_at``.
    """
    editorial.check_may_edit(actor, post)
    check_post(title, body, tags=tags, summary=summary)
    if not post.is_draft:
        raise Invalid.of("body", "Only drafts are saved as you type.")
    _claim_version(post, opened_at)
    now = utcnow()
    last = post.updated
    if last is not None and now - last > EDITING_SESSION_GAP:
        newest = db.session.scalar(
            sa.select(sa.func.max(PostRevision.created)).where(
                PostRevision.post_id == post.id
            )
        )
        if newest is None or newest < last:
            _record_revision(post, created=last, by=actor)
    post.updated = now
    _write_or_roll_back(post, title, body, tags, summary, slug="")
    db.session.commit()
