"""Imports: Flaskr's own export (``services/exports.py``) into this site.

Each item — a writer, a picture, a post, a comment, a like, a follow — is
checked, then written and committed on its own: a bad item is reported with
its reason and leaves nothing behind. Importing the same file again changes
nothing: writers match by username, pictures by key, posts by slug and
writer, comments by post, writer, time and text, likes and follows by who.

Archives are read defensively: names that would leave the archive (absolute,
``..``, backslashes), more files or more bytes than the limits, members that
expand more than :data:`MAX_RATIO` times, a manifest whose SHA-256 sums do not
match, and YAML other than plain data (``yaml.safe_load``) are refused.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import posixpath
import re
import secrets
import typing as t
import zipfile

import yaml
from flask import current_app

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.accounts import profiles
from flaskr.services.accounts import users as accounts
from flaskr.services.base import images
from flaskr.services.base.errors import ServiceError
from flaskr.services.content import access
from flaskr.services.content import media
from flaskr.services.content import rules
from flaskr.services.content import writing
from flaskr.services.portability.exports import FORMAT
from flaskr.services.portability.exports import FORMAT_VERSION
from flaskr.services.social import follows
from flaskr.services.social import reactions

#: The most files an archive may hold.
MAX_FILES = 500_000
#: The most bytes its files may expand to, together.
MAX_TOTAL_BYTES = 4 * 1024**3
#: The most one file may expand to, and how many times its compressed size.
MAX_FILE_BYTES = 100 * 1024**2
MAX_RATIO = 200

_RELATIVE_PICTURE = re.compile(r"\.\./images/([A-Za-z0-9_-]{22})\.webp")


class ArchiveRefused(ServiceError):
    """A file that is not an archive Flaskr will read; the message says why."""


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


def _safe_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    parts = posixpath.normpath(name).split("/")
    return ".." not in parts and not re.match(r"^[A-Za-z]:", name)


def open_archive(stream: t.BinaryIO) -> zipfile.ZipFile:
    """The zip in ``stream``, once its names and sizes are found safe.

    :raise ArchiveRefused: not a zip, or one that breaks a rule above.
    """
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError):
        raise ArchiveRefused("This is not a zip file.") from None
    members = archive.infolist()
    if len(members) > MAX_FILES:
        raise ArchiveRefused(f"The archive holds more than {MAX_FILES:,} files.")
    total = 0
    for member in members:
        if not _safe_name(member.filename):
            raise ArchiveRefused(
                f"A file name leaves the archive: {member.filename!r}."
            )
        if member.file_size > MAX_FILE_BYTES or member.file_size > MAX_RATIO * max(
            member.compress_size, 1024
        ):
            raise ArchiveRefused(f"{member.filename} expands too much to be read.")
        total += member.file_size
    if total > MAX_TOTAL_BYTES:
        raise ArchiveRefused("The archive expands to more than its limit.")
    return archive


class _Export:
    """A Flaskr export, read file by file and checked against its manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except (KeyError, ValueError):
            raise ArchiveRefused("This is not a Flaskr export (no manifest).") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveRefused("This is not a Flaskr export.")
        if manifest.get("version") != FORMAT_VERSION:
            raise ArchiveRefused(
                f"This export is format version {manifest.get('version')};"
                f" this Flaskr reads version {FORMAT_VERSION}."
            )
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise ArchiveRefused("The export's manifest lists no files.")
        self.hashes: dict[str, str] = files

    def read(self, name: str) -> bytes:
        """:raise ArchiveRefused: the file is missing or not as the manifest says."""
        expected = self.hashes.get(name)
        try:
            data = self.archive.read(name)
        except KeyError:
            raise ArchiveRefused(f"{name} is missing from the export.") from None
        if expected is None or hashlib.sha256(data).hexdigest() != expected:
            raise ArchiveRefused(f"{name} is not the file the manifest describes.")
        return data

    def json_list(self, name: str) -> list[t.Any]:
        if name not in self.hashes:
            return []
        try:
            items = json.loads(self.read(name))
        except ValueError:
            raise ArchiveRefused(f"{name} is not JSON.") from None
        if not isinstance(items, list):
            raise ArchiveRefused(f"{name} is not a list.")
        return items

    def post_names(self) -> list[str]:
        return sorted(
            name
            for name in self.hashes
            if name.startswith("posts/") and name.endswith(".md")
        )

    #: Times in Flaskr's own export always carry their zone.
    naive_times_are_utc = False

    def profiles(self) -> list[t.Any]:
        return self.json_list("profiles.json")

    def pictures(self) -> list[t.Any]:
        return self.json_list("images.json")

    def post(self, name: str) -> tuple[dict[str, t.Any], str]:
        matter, body = parse_post(self.read(name))
        return matter, _RELATIVE_PICTURE.sub(
            lambda m: f"/media/{m.group(1)}.webp", body
        )

    def cover(self, name: str, matter: dict[str, t.Any]) -> bytes | None:
        image = matter.get("image")
        if not isinstance(image, str):
            return None
        return self.read(
            posixpath.normpath(posixpath.join(posixpath.dirname(name), image))
        )

    def comments(self) -> list[t.Any]:
        return self.json_list("comments.json")

    def likes(self) -> list[t.Any]:
        return self.json_list("likes.json")

    def follows(self) -> list[t.Any]:
        return self.json_list("follows.json")


class Source(t.Protocol):
    """Where an import reads from: Flaskr's export, or another engine's file
    (``services/foreign.py``), as Flaskr's items."""

    naive_times_are_utc: bool

    def profiles(self) -> list[t.Any]: ...
    def pictures(self) -> list[t.Any]: ...
    def post_names(self) -> list[str]: ...
    def post(self, name: str) -> tuple[dict[str, t.Any], str]: ...
    def cover(self, name: str, matter: dict[str, t.Any]) -> bytes | None: ...
    def read(self, name: str) -> bytes: ...
    def comments(self) -> list[t.Any]: ...
    def likes(self) -> list[t.Any]: ...
    def follows(self) -> list[t.Any]: ...


def parse_time(
    value: t.Any, field: str, *, naive_is_utc: bool = False
) -> dt.datetime | None:
    """A time as exports write it — ISO 8601 with a "T" or a space, an offset
    with or without its colon, or YAML's own dates — in UTC; ``None`` for none
    (WordPress writes a draft's as zeros).

    :raise ValueError: ``value`` is not one (or has no zone, unless
        ``naive_is_utc``).
    """
    if value in (None, "", "0000-00-00 00:00:00"):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        text = re.sub(
            r"(\d\d:\d\d:\d\d(?:\.\d+)?) ?([+-]\d\d):?(\d\d)$", r"\1\2:\3", text
        )
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{field} is not a time: {value[:40]!r}") from None
    else:
        raise ValueError(f"{field} is not a time")
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise ValueError(f"{field} has no time zone")
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _text(matter: dict[str, t.Any], field: str) -> str:
    value = matter.get(field) or ""
    if not isinstance(value, str):
        raise ValueError(f"{field} is not text")
    return value


def parse_post(data: bytes) -> tuple[dict[str, t.Any], str]:
    """The front matter and Markdown of a post file.

    :raise ValueError: it has no front matter, or not plain YAML data.
    """
    text = data.decode("utf-8")
    if not text.startswith("---\n"):
        raise ValueError("no front matter")
    _, matter_text, body = text.split("---\n", 2)
    try:
        matter = yaml.safe_load(matter_text)
    except yaml.YAMLError as error:
        raise ValueError(f"front matter is not YAML: {error}") from None
    if not isinstance(matter, dict):
        raise ValueError("front matter is not a mapping")
    return matter, body


def _label(item: t.Any, field: str) -> str:
    """How the report names an item: by one of its fields."""
    return str(item.get(field)) if isinstance(item, dict) else repr(item)[:40]


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

    def _item(self, kind: str, label: str, work: t.Callable[[], str]) -> None:
        """Do one item's ``work`` (which says "created" or "skipped"), and
        report it; on failure roll back what it wrote."""
        try:
            outcome = work()
        except (
            ValueError,
            ServiceError,
            images.ImageError,
            writing.SlugTakenError,
        ) as error:
            db.session.rollback()
            self.report.failed.append(
                (f"{kind} {label}", str(error) or type(error).__name__)
            )
            return
        getattr(self.report, outcome)[kind] += 1

    def _time(self, value: t.Any, field: str) -> dt.datetime | None:
        return parse_time(value, field, naive_is_utc=self.source.naive_times_are_utc)

    def user_for(self, username: t.Any) -> User:
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

    def _writer(self, profile: t.Any) -> str:
        if not isinstance(profile, dict):
            raise ValueError("not a profile")
        username = _text(profile, "username")
        existing = accounts.find_user(username)
        if existing is not None:
            self.users[username] = existing
            return "skipped"
        problem = accounts.username_problem(username)
        if problem:
            raise ValueError(problem)
        if self.dry_run:
            self.users[username] = User(username, "")
            return "created"
        # A password nobody knows: the writer sets one by "Forgot your password?".
        user = accounts.register_user(username, secrets.token_urlsafe(32))
        created = self._time(profile.get("created"), "created")
        if created is not None:
            user.created = created
        profiles.update_profile(
            user,
            display_name=_text(profile, "display_name"),
            bio=_text(profile, "bio"),
            website=_text(profile, "website"),
        )
        avatar = profile.get("avatar")
        if isinstance(avatar, str):
            processed = images.process_avatar(
                io.BytesIO(self.source.read(avatar)), **_limits()
            )
            profiles.set_avatar(user, processed)
        self.users[username] = user
        return "created"

    def _picture(self, picture: t.Any) -> str:
        if not isinstance(picture, dict):
            raise ValueError("not a picture")
        key, alt = _text(picture, "key"), _text(picture, "alt")
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", key):
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
            media.add_picture(owner, processed, alt, key=key)
        return "created"

    def _post(self, name: str) -> str:
        matter, body = self.source.post(name)
        title, summary = _text(matter, "title"), _text(matter, "summary")
        # A post without an address gets the one its title makes, so that a
        # second import finds it there.
        slug = _text(matter, "slug") or rules.slugify(title)
        author = self.user_for(matter.get("author"))
        tags_value = matter.get("tags") or []
        if not isinstance(tags_value, list) or not all(
            isinstance(tag, str) for tag in tags_value
        ):
            raise ValueError("tags is not a list of text")
        tag_text = ", ".join(tags_value)
        for problem in (
            rules.title_problem(title),
            rules.body_problem(body),
            rules.summary_problem(summary),
            rules.slug_problem(slug),
            rules.tags_problem(tag_text),
        ):
            if problem:
                raise ValueError(problem)
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
            tags=rules.parse_tags(tag_text),
            summary=summary,
            slug=slug,
            created=created,
            published=published,
            updated=self._time(matter.get("updated"), "updated"),
            cover=cover,
        )
        self.posts[post.slug or slug] = post.id
        return "created"

    def _post_named(self, slug: t.Any) -> Post:
        if not isinstance(slug, str) or slug not in self.posts:
            raise ValueError(f"its post {slug!r} was not imported")
        post_id = self.posts[slug]
        post = Post() if post_id is None else db.session.get(Post, post_id)
        if post is None:
            raise ValueError(f"its post {slug!r} is gone")
        return post

    def _comment(self, comment: t.Any) -> str:
        if not isinstance(comment, dict):
            raise ValueError("not a comment")
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

    def _like(self, like: t.Any) -> str:
        if not isinstance(like, dict):
            raise ValueError("not a like")
        post = self._post_named(like.get("post"))
        user = self.user_for(like.get("user"))
        if self.dry_run:
            return "created"
        before = post.like_count
        reactions.set_like(
            user, post, liked=True, at=self._time(like.get("created"), "created")
        )
        return "created" if post.like_count > before else "skipped"

    def _follow(self, row: t.Any) -> str:
        if not isinstance(row, dict):
            raise ValueError("not a follow")
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
        _Export(open_archive(stream)), dry_run=dry_run, writer=writer, progress=progress
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

    :raise ArchiveRefused: as :func:`open_archive`.
    """
    from flaskr.services.portability.foreign import MarkdownFolder

    source = flaskr_export(stream)
    if source is None:
        stream.seek(0)
        source = MarkdownFolder.from_archive(open_archive(stream))
    return import_from(source, writer=writer)


def flaskr_export(stream: t.BinaryIO) -> Source | None:
    """The Flaskr export in ``stream``, or ``None`` if it holds something
    else (a zip without Flaskr's manifest, or not a zip).

    :raise ArchiveRefused: a zip that breaks the archive rules, or a Flaskr
        export this version cannot read.
    """
    if not zipfile.is_zipfile(stream):
        return None
    stream.seek(0)
    archive = open_archive(stream)
    if "manifest.json" not in archive.namelist():
        return None
    return _Export(archive)
