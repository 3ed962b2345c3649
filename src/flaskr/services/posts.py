"""Posts: lists of them, drafts, tags, the trash, and writing them.

Each list reads one index in order (see ``paging``): published posts by
``(published, id)``, an author's by ``(author_id, published, id)``, a tag's by
``post_tag (tag_id, published, post_id)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import re
import typing as t
import unicodedata

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import NOW
from flaskr.db import UTCDateTime
from flaskr.db import utcnow
from flaskr.models import BODY_MAX_LENGTH
from flaskr.models import HeldImage
from flaskr.models import MAX_TAGS_PER_POST
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.models import PostTag
from flaskr.models import SiteVersion
from flaskr.models import SLUG_MAX_LENGTH
from flaskr.models import SUMMARY_MAX_LENGTH
from flaskr.models import Tag
from flaskr.models import TAG_MAX_LENGTH
from flaskr.models import TITLE_MAX_LENGTH
from flaskr.models import User
from flaskr.services import held_images
from flaskr.services import images
from flaskr.services import markdown
from flaskr.services.errors import PostChanged
from flaskr.services.paging import Cursor
from flaskr.services.paging import PostList
from flaskr.services.paging import PostPage

#: Lists show excerpts: the source and the HTML (up to 100,000 characters each)
#: stay in the database. Feeds, which need the HTML, ask ``with_text``.
WITHOUT_TEXT = (defer(Post.body), defer(Post.body_html), defer(Post.body_text))


def _select_posts(with_text: bool) -> sa.Select[Post]:
    query = sa.select(Post)
    return query if with_text else query.options(*WITHOUT_TEXT)


def published_list(*, with_text: bool = False) -> PostList:
    """Every published post, with its author, tags and image."""
    return PostList(_select_posts(with_text), (Post.published, Post.id))


def list_by(author: User, *, with_text: bool = False) -> PostList:
    query = _select_posts(with_text).where(Post.author_id == author.id)
    return PostList(query, (Post.published, Post.id))


def list_tagged(tag: Tag, *, with_text: bool = False) -> PostList:
    query = (
        _select_posts(with_text)
        .join(PostTag, PostTag.post_id == Post.id)
        .where(PostTag.tag_id == tag.id)
    )
    return PostList(query, (PostTag.published, PostTag.post_id))


def published_posts(
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    """A page of published posts with their authors, tags and images."""
    return published_list(with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_by(
    author: User,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    return list_by(author, with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_tagged(
    tag: Tag,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    with_text: bool = False,
) -> PostPage:
    return list_tagged(tag, with_text=with_text).page(
        per_page, before=before, after=after
    )


def posts_with_ids(ids: t.Collection[int]) -> dict[int, Post]:
    """The posts with these ids that exist (with authors, tags and images,
    without their text), by id."""
    if not ids:
        return {}
    query = _select_posts(with_text=False).where(Post.id.in_(ids))
    return {post.id: post for post in db.session.scalars(query).unique()}


def drafts_of(author: User) -> list[Post]:
    """The author's drafts and scheduled posts, most recently written first."""
    query = (
        _select_posts(with_text=False)
        .where(
            Post.author_id == author.id,
            sa.or_(Post.published.is_(None), Post.published > NOW),
            Post.deleted.is_(None),
        )
        .order_by(sa.func.coalesce(Post.updated, Post.created).desc(), Post.id.desc())
    )
    return list(db.session.scalars(query).unique())


def trash_of(author: User) -> list[Post]:
    """The author's posts in the trash, most recently deleted first."""
    query = (
        _select_posts(with_text=False)
        .where(Post.author_id == author.id, Post.deleted.is_not(None))
        .order_by(Post.deleted.desc(), Post.id.desc())
    )
    return list(db.session.scalars(query).unique())


def _less_scheduled(kept: int | None, scheduled: sa.Select[t.Any]) -> int:
    return int(kept or 0) - int(db.session.scalar(scheduled) or 0)


def public_post_count() -> int:
    """How many posts anyone may read: the count the database keeps (posts
    published or scheduled, outside the trash; migration 0021) less those
    still to come, an index range of the few scheduled posts."""
    kept = db.session.scalar(
        sa.select(SiteVersion.post_count).where(SiteVersion.id == 1)
    )
    scheduled = sa.select(sa.func.count()).where(
        Post.published > NOW, Post.deleted.is_(None)
    )
    return _less_scheduled(kept, scheduled)


def public_count_by(author: User) -> int:
    """How many of ``author``'s posts anyone may read (as :func:`public_post_count`)."""
    scheduled = sa.select(sa.func.count()).where(
        Post.author_id == author.id, Post.published > NOW, Post.deleted.is_(None)
    )
    return _less_scheduled(author.post_count, scheduled)


def public_count_tagged(tag: Tag) -> int:
    """How many posts tagged ``tag`` anyone may read (as :func:`public_post_count`)."""
    scheduled = (
        sa.select(sa.func.count())
        .select_from(PostTag)
        .join(Post, Post.id == PostTag.post_id)
        .where(
            PostTag.tag_id == tag.id, PostTag.published > NOW, Post.deleted.is_(None)
        )
    )
    return _less_scheduled(tag.post_count, scheduled)


#: Posts in each sitemap file (search engines accept up to 50,000).
SITEMAP_POSTS = 10_000


def highest_post_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(Post.id))) or 0


def published_in_id_range(start: int, stop: int) -> list[sa.Row[t.Any]]:
    """``(id, slug, published, updated)`` of published posts with ``start <=
    id < stop``, read along the primary key."""
    query = (
        sa.select(Post.id, Post.slug, Post.published, Post.updated)
        .where(
            Post.id >= start,
            Post.id < stop,
            Post.is_public,
        )
        .order_by(Post.id)
    )
    return list(db.session.execute(query))


def get_post(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


def _may_read(
    published: dt.datetime | None,
    deleted: dt.datetime | None,
    author_id: int | None,
    reader: User | None,
) -> bool:
    """Nobody reads a post in the trash; only its author reads a draft or a
    post whose time has not come."""
    if deleted is not None:
        return False
    return _is_out(published) or (reader is not None and reader.id == author_id)


def _is_out(published: dt.datetime | None) -> bool:
    return published is not None and published <= utcnow()


def get_readable_post(post_id: int, reader: User | None) -> Post | None:
    """The post, unless it is in the trash, or a draft ``reader`` did not write."""
    post = get_post(post_id)
    if post is None or not _may_read(
        post.published, post.deleted, post.author_id, reader
    ):
        return None
    return post


class Access(enum.Enum):
    """Who may read a post."""

    NOBODY = "nobody"  # (that is: not the one asking, or there is no such post)
    AUTHOR_ONLY = "author only"
    EVERYONE = "everyone"


def access_to_post(post_id: int, reader: User | None) -> Access:
    """Whether ``reader`` may read the post, and whether everyone may, found
    without loading the post.

    :return: ``NOBODY`` when ``reader`` may not (or there is no such post).
    """
    row = db.session.execute(
        sa.select(Post.published, Post.deleted, Post.author_id).where(
            Post.id == post_id
        )
    ).first()
    if row is None or not _may_read(*row, reader):
        return Access.NOBODY
    return Access.EVERYONE if _is_out(row.published) else Access.AUTHOR_ONLY


def find_tag(name: str) -> Tag | None:
    """The tag called ``name``, if a published post carries it.

    Tags only on drafts stay unknown, so a tag page cannot reveal a draft.
    """
    if normalize_tag(name) != name:
        return None  # no tag is stored so (and PostgreSQL refuses a NUL)
    query = (
        sa.select(Tag)
        .join(PostTag, PostTag.tag_id == Tag.id)
        .join(Post, Post.id == PostTag.post_id)
        .where(
            Tag.name == name,
            PostTag.published.is_not(None),
            PostTag.published <= NOW,
            Post.deleted.is_(None),
        )
        .limit(1)
    )
    return db.session.scalars(query).first()


#: Slugs no post may have: the JSON API's ``/api/articles/feed`` would hide
#: a post's ``/api/articles/<slug>``.
RESERVED_SLUGS = frozenset({"feed"})

#: Latin letters that carry no accent to drop, written as they are in
#: addresses made by hand ("Straße" is ``strasse``).
_LATIN_SPELLINGS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l",
     "þ": "th", "ı": "i", "ŋ": "n", "ħ": "h"}
)  # fmt: skip


def _is_word_character(character: str) -> bool:
    """A letter, a mark on one, or a decimal digit, in any script."""
    category = unicodedata.category(character)
    return category[0] in "LM" or category == "Nd"


def _slug_words(text: str) -> list[str]:
    """The words of ``text`` as an address spells them: lower case; Latin
    letters without their accents ("Ça va" is ``ca va``); every other
    script's letters kept as they are, marks and all (Hebrew, Arabic,
    Cyrillic, Greek, Chinese…), composed (NFC)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept, after_latin = [], False
    for character in decomposed:
        if unicodedata.combining(character):
            if after_latin:
                continue  # an accent on a Latin letter
        else:
            after_latin = character.isascii()
        kept.append(character)
    spelled = unicodedata.normalize("NFC", "".join(kept).translate(_LATIN_SPELLINGS))
    words, word = [], []
    for character in spelled:
        if _is_word_character(character):
            word.append(character)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def slugify(title: str) -> str:
    """A readable address made from ``title``: "Café au lait!" is
    ``cafe-au-lait``, "Привет, мир" ``привет-мир`` (browsers show it so and
    send it percent-encoded); a title with no letters or digits gives
    ``post``."""
    words = _slug_words(title)
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > SLUG_MAX_LENGTH - 6:  # room for a "-12345" to tell apart
            break
        slug = longer
    return slug or (words[0][: SLUG_MAX_LENGTH - 6] if words else "post")


def free_slug(
    connection: sa.Connection, wanted: str, post_id: int | None = None
) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… whichever no other post has.

    :param post_id: the post the slug is for, whose own slug does not count.
    """
    table = Post.__table__.c
    query = sa.select(table.slug).where(
        sa.or_(
            table.slug == wanted,
            # Slugs that start with "wanted-", read from the index as a range.
            sa.and_(table.slug >= wanted + "-", table.slug < wanted + "."),
        )
    )
    if post_id is not None:
        query = query.where(table.id != post_id)
    taken = set(connection.execute(query).scalars()) | RESERVED_SLUGS
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}-{number}" in taken:
        number += 1
    return f"{wanted}-{number}"


def find_post_id(slug: str) -> int | None:
    """The id of the post whose address is ``slug``."""
    if slug_problem(slug) is not None or not slug:
        return None  # no post has it (and PostgreSQL refuses a NUL)
    return db.session.scalar(sa.select(Post.id).where(Post.slug == slug))


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` may not be a post's address, or ``None`` if it may (empty
    means: make one from the title)."""
    if not slug:
        return None
    if len(slug) > SLUG_MAX_LENGTH:
        return f"An address must be at most {SLUG_MAX_LENGTH} characters long."
    if "-".join(_slug_words(slug)) != slug:
        return (
            "An address may contain only lower-case letters (of any script;"
            " Latin ones without accents), digits and single hyphens between"
            " them."
        )
    if slug in RESERVED_SLUGS:
        return f"The address {slug} is reserved: choose another."
    return None


def summary_problem(summary: str) -> str | None:
    """Why ``summary`` may not be a post's summary, or ``None`` if it may."""
    if len(" ".join(summary.split())) > SUMMARY_MAX_LENGTH:
        return f"A summary must be at most {SUMMARY_MAX_LENGTH} characters long."
    if "\x00" in summary:
        return "A summary must not contain NUL characters."
    return None


#: How far ahead a post may be scheduled.
LONGEST_SCHEDULE = dt.timedelta(days=5 * 366)


class ScheduleProblem(ValueError):
    """A time a post cannot be scheduled at; the message says why."""


@functools.cache
def time_zones() -> list[str]:
    """The IANA time zones this machine knows, sorted, UTC first."""
    import zoneinfo

    return ["UTC", *sorted(zoneinfo.available_timezones() - {"UTC"})]


def schedule_time(local: str, zone: str) -> dt.datetime:
    """The moment ``local`` (``2026-12-24T18:00``, as a ``datetime-local``
    input sends it) is in ``zone``, in UTC.

    :raise ScheduleProblem: missing, malformed, unknown zone, past, or too far.
    """
    import zoneinfo

    if not local:
        raise ScheduleProblem("Choose the date and time to publish at.")
    if zone not in time_zones():
        raise ScheduleProblem("Choose a time zone from the list.")
    try:
        naive = dt.datetime.fromisoformat(local)
    except ValueError:
        raise ScheduleProblem("Enter a date and time like 2026-12-24T18:00.") from None
    if naive.tzinfo is not None:
        raise ScheduleProblem("Enter a date and time like 2026-12-24T18:00.")
    moment = naive.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(dt.UTC)
    now = utcnow()
    if moment <= now:
        raise ScheduleProblem("That time has passed: choose one to come.")
    if moment > now + LONGEST_SCHEDULE:
        raise ScheduleProblem("Choose a time within the next five years.")
    return moment


def remember_time_zone(user: User, zone: str) -> None:
    """Show the user's times in ``zone`` from now on; the caller commits."""
    user.time_zone = None if zone == "UTC" else zone


def normalize_text(text: str) -> str:
    """Line breaks as ``\\n``, however the browser sent them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_control_characters(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds a control character (C0 or DEL) other than
    those in ``allowed``: fields refuse them, and PostgreSQL refuses NUL."""
    return any(
        (ord(char) < 32 or ord(char) == 127) and char not in allowed for char in text
    )


def title_problem(title: str) -> str | None:
    """Why ``title`` may not be a post's title, or ``None`` if it may."""
    if not title:
        return "Title is required."
    if len(title) > TITLE_MAX_LENGTH:
        return f"Title must be at most {TITLE_MAX_LENGTH} characters long."
    if has_control_characters(title):
        return "Title must not contain control characters."
    return None


def body_problem(body: str) -> str | None:
    """Why ``body`` may not be a post's text, or ``None`` if it may."""
    if len(normalize_text(body)) > BODY_MAX_LENGTH:
        return f"Text must be at most {BODY_MAX_LENGTH:,} characters long."
    if "\x00" in body:
        return "Text must not contain NUL characters."
    return None


def normalize_tag(text: str) -> str:
    """A tag as stored: lower case letters and digits, words joined by hyphens."""
    words = re.findall(r"[^\W_]+", text.casefold())
    return "-".join(words)


def parse_tags(text: str) -> list[str]:
    """The distinct normalized tags in a comma-separated list, in order."""
    tags = (normalize_tag(part) for part in text.split(","))
    return list(dict.fromkeys(tag for tag in tags if tag))


def tags_problem(text: str) -> str | None:
    """Why the comma-separated ``text`` is not a valid list of tags, or ``None``."""
    tags = parse_tags(text)
    if len(tags) > MAX_TAGS_PER_POST:
        return f"A post can have at most {MAX_TAGS_PER_POST} tags."
    too_long = [tag for tag in tags if len(tag) > TAG_MAX_LENGTH]
    if too_long:
        return f"Each tag must be at most {TAG_MAX_LENGTH} characters long."
    return None


def typed_tags_problem(text: str) -> str | None:
    """As :func:`tags_problem`, for tags a writer typed in the post form: a
    tag that would be dropped (no letter or digit in it) is named, not lost
    without a word. Imports and the API keep dropping such tags."""
    unusable = [
        part.strip()
        for part in text.split(",")
        if part.strip() and not normalize_tag(part)
    ]
    if unusable:
        return (
            f"“{unusable[0]}” has no letters or digits, so it cannot be a tag."
            " Take it out or add a word."
        )
    return tags_problem(text)


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

    def apply(self, post: Post) -> None:
        if self.remove:
            post.image = None
        elif self.held is not None:
            images.attach(post, held_images.as_processed(self.held), self.alt)
            db.session.delete(self.held)
        elif post.image is not None:
            post.image.alt = self.alt


def render_all_again(batch: int = 500) -> t.Iterator[int]:
    """Render every post's Markdown again (after the renderer learned
    something new), a batch per transaction; yield how many were done."""
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Post.id, Post.body, Post.summary)
            .where(Post.id > last_id)
            .order_by(Post.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        changes = []
        for row in rows:
            text = markdown.plain_text(row.body)
            changes.append(
                {
                    "post_id": row.id,
                    "body_html": markdown.render(row.body),
                    "body_text": text,
                    "excerpt": _excerpt(row.summary, text),
                    "word_count": len(text.split()),
                }
            )
        db.session.execute(_RENDERED, changes)
        db.session.commit()
        last_id = rows[-1].id
        yield len(rows)


#: A Core statement, run once per batch with a row of values per post.
_POSTS = t.cast(sa.Table, Post.__table__)
_RENDERED = (
    sa.update(_POSTS)
    .where(_POSTS.c.id == sa.bindparam("post_id"))
    .values(
        body_html=sa.bindparam("body_html"),
        body_text=sa.bindparam("body_text"),
        excerpt=sa.bindparam("excerpt"),
        word_count=sa.bindparam("word_count"),
    )
)


class SlugTakenError(Exception):
    """Another post has the address asked for."""


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
    wanted = _tags_named(tags)
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
) -> Post:
    """Create and commit a post, published now, at ``schedule_at`` (a time to
    come) or as a draft; the caller has checked the title, body, tags,
    summary, slug and image.

    :param slug: the address asked for; empty makes one from the title.
    :raise SlugTakenError: another post has that address; nothing is saved.
    """
    post = Post(author=author, published=utcnow() if publish else None)
    if schedule_at is not None:
        post.published = schedule_at
        _note_publication(schedule_at)
    with db.session.no_autoflush:
        _write_or_roll_back(post, title, body, tags, summary, slug)
    db.session.add(post)
    if image is not None:
        image.apply(post)
    _record_or_slug_taken(post, slug)
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
    post. The caller has checked the fields.

    :raise SlugTakenError: another post has that address; nothing is saved.
    """
    post = Post(author=author, created=created, published=published, updated=updated)
    if published is not None and published > utcnow():
        _note_publication(published)
    with db.session.no_autoflush:
        _write_or_roll_back(post, title, body, tags, summary, slug)
    db.session.add(post)
    if cover is not None:
        images.attach(post, *cover)
    _record_or_slug_taken(post, slug, created=updated or created)
    _commit_or_slug_taken(slug)
    return post


def _record_or_slug_taken(
    post: Post, slug: str, created: dt.datetime | None = None
) -> None:
    """Record the revision; its flushes meet a slug that a concurrent save
    took first."""
    try:
        _record_revision(post, created)
    except IntegrityError:
        db.session.rollback()
        raise SlugTakenError(slug) from None


def _record_revision(post: Post, created: dt.datetime | None = None) -> None:
    """Keep the post as it is now as a revision, and forget those past
    ``REVISIONS_KEPT``; the caller commits."""
    db.session.flush()
    db.session.add(
        PostRevision(
            post_id=post.id,
            saved_by=post.author_id,
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
) -> None:
    """Save changes to a post, all of them or none; ``publish`` publishes a
    draft or a scheduled post, dated now.

    :param schedule_at: publish a draft or a scheduled post at this time to
        come (checked by the caller) instead.
    :param to_draft: take a scheduled post off its schedule.

    :param slug: a new address; empty keeps the post's.
    :raise SlugTakenError: another post has that address; nothing is saved.

    :param opened_at: the post's version the writer started from; ``None``
        saves over whatever version is there now (still as a whole).
    :raise PostChanged: the post was saved since ``opened_at`` (or, with
        ``None``, while this save ran); the session is rolled back.
    """
    _claim_version(post, post.version if opened_at is None else opened_at)
    if not _has_revisions(post):
        # Saved before revisions were kept: its state so far is the first.
        _record_revision(post, created=post.updated or post.published or post.created)
    now = utcnow()
    pending = post.is_pending
    if schedule_at is not None and pending:
        post.published = schedule_at
        _note_publication(schedule_at)
    elif publish and pending:
        post.published = now
    elif to_draft and pending:
        post.published = None
    else:
        post.updated = now
    _write_or_roll_back(post, title, body, tags, summary, slug)
    if image is not None:
        image.apply(post)
    _record_or_slug_taken(post, slug)
    _commit_or_slug_taken(slug)


def _note_publication(at: dt.datetime) -> None:
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


#: Words a minute, for reading times (a common figure for screen reading).
READING_SPEED = 230


@dataclasses.dataclass(frozen=True)
class ReadingStats:
    words: int
    minutes: int


def reading_minutes(words: int) -> int:
    """Minutes a reader takes for ``words`` words: at least one."""
    return max(1, round(words / READING_SPEED))


def reading_stats(body: str) -> ReadingStats:
    """How many words a reader reads in ``body``, and in how many minutes
    (at least one)."""
    words = len(markdown.plain_text(normalize_text(body)).split())
    return ReadingStats(words, reading_minutes(words))


#: A pause in saving this long ends an editing session.
EDITING_SESSION_GAP = dt.timedelta(minutes=30)


def autosave(
    post: Post, title: str, body: str, *, tags: list[str], summary: str, opened_at: int
) -> None:
    """Save a draft's text as its writer types (checked by the caller).

    Autosaves collapse into one revision per editing session: the writer's
    next save keeps one of them all, and the first autosave of a new session
    (after :data:`EDITING_SESSION_GAP` without saves) first keeps what the
    last session left, if no save did.

    :raise PostChanged: saved elsewhere since ``opened_at``.
    """
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
            _record_revision(post, created=last)
    post.updated = now
    _write_or_roll_back(post, title, body, tags, summary, slug="")
    db.session.commit()


def trash_lifetime() -> dt.timedelta:
    """How long a post waits in the trash (``TRASH_DAYS``)."""
    return dt.timedelta(days=current_app.config["TRASH_DAYS"])


def unpublish(post: Post) -> None:
    """Take a published post back to the drafts, off every public page at
    once; publishing it again dates it anew. An edit form opened before is
    refused on save (the version moves), so it cannot publish it again."""
    post.published = None
    for link in post.tag_links:
        link.published = None
    post.version += 1
    db.session.commit()


def move_to_trash(post: Post) -> None:
    """Take the post off every page at once; it can be restored for
    :func:`trash_lifetime`. Purges what has been in the trash longer."""
    post.deleted = utcnow()
    delete_old_trash()
    db.session.commit()


def restore(post: Post) -> None:
    """Bring a post back from the trash, as it was."""
    post.deleted = None
    db.session.commit()


def delete_forever(post: Post) -> None:
    """Delete a post with its tags, image, likes and comments."""
    db.session.delete(post)
    db.session.commit()


def delete_old_trash() -> int:
    """Delete the posts that have been in the trash longer than
    :func:`trash_lifetime`; return how many.

    The database deletes their tags, images, likes and comments with them.
    The caller commits.
    """
    cutoff = utcnow() - trash_lifetime()
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
