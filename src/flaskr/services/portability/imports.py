"""Imports: Flaskr's own export (``exports.py``), or another engine's file
(``foreign.py``), into this site.

Each item — a writer, a picture, a post, a comment, a like, a follow — is
checked, then written and committed on its own by its use case (``create``,
``import_post``, ``import_comment``…, which check every field again): a bad
item is reported with its reason and leaves nothing behind. Importing the
same file again changes nothing: writers match by username, pictures by key,
posts by slug and writer, comments by post, writer, time and text, likes and
follows by who.

Files are read by ``archives.py``, defensively; every record in them is
untrusted (:data:`~flaskr.services.portability.format.Fields`) until checked
here, field by field.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import io
import secrets
import typing as t

from flask import current_app

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.base import images
from flaskr.services.base import roles
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.errors import ServiceError
from flaskr.services.base.security_log import log_event
from flaskr.services.content import access
from flaskr.services.content import media
from flaskr.services.content import rules
from flaskr.services.content import writing
from flaskr.services.portability.archives import ArchiveRefused as ArchiveRefused
from flaskr.services.portability.archives import flaskr_export as flaskr_export
from flaskr.services.portability.archives import FlaskrExport
from flaskr.services.portability.archives import open_archive
from flaskr.services.portability.archives import parse_time
from flaskr.services.portability.archives import Source
from flaskr.services.portability.foreign import MarkdownFolder
from flaskr.services.portability.format import Fields
from flaskr.services.social import follows
from flaskr.services.social import reactions

# ArchiveRefused and flaskr_export are re-exported: the command line and the
# account page read archives through this module.

#: What one item's work says it did.
Outcome = t.Literal["created", "updated", "skipped"]


@dataclasses.dataclass
class Report:
    """What an import did, per kind of item."""

    created: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    updated: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    skipped: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    #: ``(item, reason)`` for each item that could not be imported.
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        kinds = sorted({*self.created, *self.updated, *self.skipped})
        rows = [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated,"
            f" {self.skipped[kind]} skipped"
            for kind in kinds
        ]
        rows.append(f"failed: {len(self.failed)}")
        rows += [f"  {item}: {reason}" for item, reason in self.failed]
        return rows


def _record(item: object, what: str) -> Fields:
    """:raise ValueError: ``item`` is not a record (a JSON object)."""
    if not isinstance(item, dict):
        raise ValueError(f"not a {what}")
    return t.cast(Fields, item)


def _text(matter: Fields, field: str) -> str:
    value = matter.get(field) or ""
    if not isinstance(value, str):
        raise ValueError(f"{field} is not text")
    return value


def _label(item: object, field: str) -> str:
    """How the report names an item: by one of its fields."""
    return str(item.get(field)) if isinstance(item, dict) else repr(item)[:40]


def _tag_names(matter: Fields) -> list[str]:
    """The post's tags, split at commas as a typed list would be."""
    value = matter.get("tags") or []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("tags is not a list of text")
    return rules.parse_tags(", ".join(t.cast(list[str], value)))


def _limits() -> dict[str, int]:
    config = current_app.config
    return {
        "max_bytes": int(config["IMAGE_MAX_BYTES"]),
        "max_pixels": int(config["IMAGE_MAX_PIXELS"]),
    }


@dataclasses.dataclass
class Importer:
    """Imports one export. ``writer``: every post goes to this writer instead
    of its own (the export's writers are then not created)."""

    source: Source
    dry_run: bool = False
    writer: User | None = None
    report: Report = dataclasses.field(default_factory=Report)
    #: Usernames in the export to users here.
    users: dict[str, User] = dataclasses.field(default_factory=dict)
    #: Slugs in the export to the ids of posts here (ids, not objects: an
    #: import's memory should not grow with the blog); ``None`` in a dry run.
    posts: dict[str, int | None] = dataclasses.field(default_factory=dict)

    def _item(self, kind: str, label: str, work: t.Callable[[], Outcome]) -> None:
        """Do one item's ``work``, and report it; on failure roll back what
        it wrote."""
        try:
            outcome = work()
        except (ValueError, ServiceError, images.ImageError) as error:
            db.session.rollback()
            self.report.failed.append(
                (f"{kind} {label}", str(error) or type(error).__name__)
            )
            return
        counter: collections.Counter[str] = getattr(self.report, outcome)
        counter[kind] += 1

    def _time(self, value: object, field: str) -> dt.datetime | None:
        return parse_time(value, field, naive_is_utc=self.source.naive_times_are_utc)

    def user_for(self, username: object) -> User:
        if self.writer is not None:
            return self.writer
        if username is None:
            raise ValueError("it names no writer: import it with --writer NAME")
        if not isinstance(username, str) or username not in self.users:
            raise ValueError(f"its writer {username!r} is not in the export")
        return self.users[username]

    def run(self, progress: t.Callable[[int], None] | None = None) -> Report:
        if self.writer is None:
            for profile in self.source.profiles():
                label = _label(profile, "username")
                self._item("writer", label, functools.partial(self._writer, profile))
        for picture in self.source.pictures():
            label = _label(picture, "key")
            self._item("picture", label, functools.partial(self._picture, picture))
        for name in self.source.post_names():
            self._item("post", name, functools.partial(self._post, name))
            if progress is not None:
                progress(1)
        if self.writer is None:
            # Given to one writer, the posts come without other people's
            # comments, likes and follows: nobody here speaks for them.
            for comment in self.source.comments():
                label = _label(comment, "post")
                self._item("comment", label, functools.partial(self._comment, comment))
            for like in self.source.likes():
                self._item(
                    "like", _label(like, "post"), functools.partial(self._like, like)
                )
            for row in self.source.follows():
                label = _label(row, "follower")
                self._item("follow", label, functools.partial(self._follow, row))
        if self.dry_run:
            db.session.rollback()
        return self.report

    def _writer(self, item: object) -> Outcome:
        profile = _record(item, "profile")
        username = _text(profile, "username")
        existing = directory.find_user(username)
        if existing is not None:
            self.users[username] = existing
            return "skipped"
        problem = directory.username_problem(username)
        if problem:
            raise ValueError(problem)
        # Everything that can refuse the writer is read before the first
        # write: a refused writer leaves no account behind.
        created = self._time(profile.get("created"), "created")
        display_name = _text(profile, "display_name")
        bio, website = _text(profile, "bio"), _text(profile, "website")
        avatar_file = profile.get("avatar")
        avatar = None
        if isinstance(avatar_file, str):
            avatar = images.process_avatar(
                io.BytesIO(self.source.read(avatar_file)), **_limits()
            )
        if self.dry_run:
            self.users[username] = User(username, "")
            return "created"
        # A password nobody knows: the writer sets one by "Forgot your password?".
        user = accounts.register_user(
            username,
            secrets.token_urlsafe(32),
            created=created,
            display_name=display_name,
            bio=bio,
            website=website,
            avatar=avatar,
        )
        self.users[username] = user
        return "created"

    def _picture(self, item: object) -> Outcome:
        picture = _record(item, "picture")
        key, alt = _text(picture, "key"), _text(picture, "alt")
        if not media.KEY_PATTERN.fullmatch(key):
            raise ValueError("its key is not one Flaskr makes")
        if media.find_picture(key) is not None:
            return "skipped"
        problem = media.alt_problem(alt)
        if problem:
            raise ValueError(problem)
        owner = self.user_for(picture.get("owner"))
        processed = images.process_upload(
            io.BytesIO(self.source.read(_text(picture, "file"))), **_limits()
        )
        if not self.dry_run:
            media.import_picture(owner, processed, alt, key=key)
        return "created"

    def _post(self, name: str) -> Outcome:
        matter, body = self.source.post(name)
        title, summary = _text(matter, "title"), _text(matter, "summary")
        # A post without an address gets the one its title makes, so that a
        # second import finds it there.
        slug = _text(matter, "slug") or rules.slugify(title)
        author = self.user_for(matter.get("author"))
        tags = _tag_names(matter)
        # The use case checks again; checked here too, a dry run and a post
        # already imported are judged by the same rules.
        writing.check_post(title, body, tags=tags, summary=summary, slug=slug)
        state = matter.get("state")
        published = self._time(matter.get("published"), "published")
        if state not in ("published", "draft", "scheduled"):
            raise ValueError(f"state {state!r} is not published, draft or scheduled")
        if state == "draft":
            published = None
        elif published is None:
            raise ValueError(f"a {state} post needs its published time")
        created = self._time(matter.get("created"), "created") or published
        if created is None:
            raise ValueError("it has no created time")
        existing_id = access.find_post_id(slug) if slug else None
        if existing_id is not None:
            existing = db.session.get(Post, existing_id)
            if existing is None or existing.author_id != author.id:
                raise ValueError(f"another writer's post has the address {slug}")
            self.posts[slug] = existing.id
            return "skipped"
        cover = None
        picture = self.source.cover(name, matter)
        if picture is not None:
            processed = images.process_upload(io.BytesIO(picture), **_limits())
            cover = (processed, _text(matter, "image_alt") or title)
        if self.dry_run:
            self.posts[slug] = None  # for its comments and likes
            return "created"
        post = writing.import_post(
            author,
            title,
            body,
            tags=tags,
            summary=summary,
            slug=slug,
            created=created,
            published=published,
            updated=self._time(matter.get("updated"), "updated"),
            cover=cover,
        )
        self.posts[post.slug or slug] = post.id
        return "created"

    def _post_named(self, slug: object) -> Post:
        if not isinstance(slug, str) or slug not in self.posts:
            raise ValueError(f"its post {slug!r} was not imported")
        post_id = self.posts[slug]
        post = Post() if post_id is None else db.session.get(Post, post_id)
        if post is None:
            raise ValueError(f"its post {slug!r} is gone")
        return post

    def _comment(self, item: object) -> Outcome:
        comment = _record(item, "comment")
        post = self._post_named(comment.get("post"))
        author_name = comment.get("author")
        author = None if author_name is None else self.user_for(author_name)
        body = _text(comment, "body")
        problem = reactions.comment_problem(body)
        if problem:
            raise ValueError(problem)
        created = self._time(comment.get("created"), "created")
        if created is None:
            raise ValueError("it has no created time")
        if self.dry_run:
            return "created"
        added = reactions.import_comment(
            post,
            author,
            body,
            created=created,
            edited=self._time(comment.get("edited"), "edited"),
        )
        return "created" if added is not None else "skipped"

    def _like(self, item: object) -> Outcome:
        like = _record(item, "like")
        post = self._post_named(like.get("post"))
        user = self.user_for(like.get("user"))
        if self.dry_run:
            return "created"
        before = post.like_count
        reactions.set_like(
            user, post, liked=True, at=self._time(like.get("created"), "created")
        )
        return "created" if post.like_count > before else "skipped"

    def _follow(self, item: object) -> Outcome:
        row = _record(item, "follow")
        follower = self.user_for(row.get("follower"))
        followed = self.user_for(row.get("followed"))
        if self.dry_run:
            return "created"
        changed = follows.follow(
            follower, followed, since=self._time(row.get("created"), "created")
        )
        return "created" if changed else "skipped"


def import_export(
    stream: t.BinaryIO,
    *,
    dry_run: bool = False,
    writer: User | None = None,
    progress: t.Callable[[int], None] | None = None,
) -> Report:
    """Import a Flaskr export; see the module.

    :param dry_run: check every item and report, but write nothing.
    :param writer: give every post to this writer.
    :raise ArchiveRefused: the file as a whole cannot be read.
    """
    return import_from(
        FlaskrExport(open_archive(stream)),
        dry_run=dry_run,
        writer=writer,
        progress=progress,
    )


def import_from(
    source: Source,
    *,
    dry_run: bool = False,
    writer: User | None = None,
    progress: t.Callable[[int], None] | None = None,
) -> Report:
    """Import what ``source`` holds; as :func:`import_export`."""
    return Importer(source, dry_run=dry_run, writer=writer).run(progress)


def import_own_zip(stream: t.BinaryIO, writer: User) -> Report:
    """Import a writer's own zip (a Flaskr export, or Markdown files with
    front matter) as theirs: posts and pictures only, since the other people
    in it are not theirs to speak for.

    :raise NotAllowed: ``writer`` may not publish (readers, contributors,
        whose posts an editor publishes, and accounts that are not active).
    :raise ArchiveRefused: as :func:`open_archive`.
    """
    if not roles.may_publish(writer):
        raise NotAllowed("Only writers who publish their own posts import a blog.")
    source: Source | None = flaskr_export(stream)
    if source is None:
        stream.seek(0)
        source = MarkdownFolder.from_archive(open_archive(stream))
    report = import_from(source, writer=writer)
    log_event("blog_imported", user_id=writer.id, posts=report.created["post"])
    return report
