"""Exports: a writer's blog, or the whole site, as a zip that other tools can
read and Flaskr can import again (``services/imports.py``).

Format ``flaskr-export`` version 1::

    manifest.json        format, version, when, counts, a SHA-256 per file
    profiles.json        writers' profiles, never password hashes
    posts/<slug>.md      YAML front matter (title, slug, summary, author,
                         created, updated, state, published, tags, image),
                         then the Markdown as written
    images/<name>.webp   the re-encoded pictures: covers, and library pictures
                         the text points at by relative path
    images.json          each library picture's file, key and alt text
    avatars/<name>.webp  profile pictures
    comments.json        comments on the exported posts
    likes.json           likes of them
    follows.json         who follows whom among the exported writers
    subscribers.json     the site's export only: readers who follow the site
                         or its writers by mail, confirmed or not

The zip is written as it is read, one database batch at a time, into a
stream that the response (or the command) drains after every file, so the
memory an export takes does not grow with the blog.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
import typing as t
import zipfile

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import Avatar
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Image
from flaskr.models import Like
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.models.governance import VISIBLE
from flaskr.services.base.security_log import log_event
from flaskr.services.portability.format import AuditRecord
from flaskr.services.portability.format import CommentRecord
from flaskr.services.portability.format import FollowRecord
from flaskr.services.portability.format import FORMAT
from flaskr.services.portability.format import FORMAT_VERSION
from flaskr.services.portability.format import LikeRecord
from flaskr.services.portability.format import PictureRecord
from flaskr.services.portability.format import PostMatter
from flaskr.services.portability.format import ProfileRecord
from flaskr.services.portability.format import Record
from flaskr.services.portability.format import SubscriberRecord

#: Rows read from the database at a time.
BATCH = 500

_LIBRARY_ADDRESS = re.compile(r"/media/([A-Za-z0-9_-]{22})(?:/small)?\.webp")


def timestamp(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def post_state(post: Post) -> str:
    if post.published is None:
        return "draft"
    return "scheduled" if post.is_scheduled else "published"


def post_file(post: Post) -> str:
    return f"posts/{post.slug or f'post-{post.id}'}.md"


def cover_file(post: Post) -> str:
    return f"images/cover-{post.slug or post.id}.webp"


def library_file(key: str) -> str:
    return f"images/{key}.webp"


def relative_pictures(markdown: str) -> str:
    """The text with the site's library addresses made relative to a post
    file, so the export reads on its own."""
    return _LIBRARY_ADDRESS.sub(lambda m: f"../{library_file(m.group(1))}", markdown)


def front_matter(post: Post) -> PostMatter:
    matter: PostMatter = {
        "title": post.title,
        # Posts bulk-loaded without one (seed-demo) are named by their id.
        "slug": post.slug or f"post-{post.id}",
        "summary": post.summary,
        "author": post.author_name,
        "created": timestamp(post.created),
        "updated": timestamp(post.updated),
        "state": post_state(post),
        "published": timestamp(post.published),
        "tags": post.tag_names,
    }
    if post.image is not None:
        matter["image"] = f"../{cover_file(post)}"
        matter["image_alt"] = post.image.alt
    return matter


def post_markdown(post: Post) -> bytes:
    # Imported here: only exports write YAML, and a worker serving pages
    # never loads it.
    import yaml

    matter = yaml.safe_dump(front_matter(post), sort_keys=False, allow_unicode=True)
    return f"---\n{matter}---\n{relative_pictures(post.body)}".encode()


@dataclasses.dataclass(frozen=True)
class Scope:
    """What an export holds: one writer's blog, or every writer's."""

    #: ``None``: the whole site.
    writer_id: int | None = None

    def posts(self) -> sa.Select[Post]:
        query = sa.select(Post).where(Post.deleted.is_(None))
        if self.writer_id is not None:
            query = query.where(Post.author_id == self.writer_id)
        return query

    def users(self) -> sa.Select[User]:
        query = sa.select(User)
        if self.writer_id is not None:
            query = query.where(User.id == self.writer_id)
        return query

    def post_ids(self) -> sa.Select[int]:
        query = sa.select(Post.id).where(Post.deleted.is_(None))
        if self.writer_id is not None:
            query = query.where(Post.author_id == self.writer_id)
        return query


Chunks = t.Iterable[bytes]


_Row = t.TypeVar("_Row", Post, User, MediaImage, AuditEntry)
_Item = t.TypeVar("_Item", bound=Record)


def _in_batches(entity: type[_Row], query: sa.Select[_Row]) -> t.Iterator[_Row]:
    """The objects ``query`` selects, by id, read ``BATCH`` at a time from the
    last id seen, so no result stays open while files are written (and the
    session forgets objects nothing refers to any more)."""
    last = 0
    while True:
        page = query.where(entity.id > last).order_by(entity.id).limit(BATCH)
        rows = list(db.session.scalars(page).unique())
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _json_array(items: t.Iterable[Record]) -> Chunks:
    """A JSON array written an item at a time."""
    yield b"["
    for number, item in enumerate(items):
        yield (b",\n" if number else b"\n") + json.dumps(
            item, ensure_ascii=False
        ).encode()
    yield b"\n]\n"


def _profiles(scope: Scope) -> t.Iterator[ProfileRecord]:
    for user in _in_batches(User, scope.users()):
        yield {
            "username": user.username,
            "display_name": user.display_name,
            "bio": user.bio,
            "website": user.website,
            "created": timestamp(user.created),
            "avatar": f"avatars/{user.username}.webp" if user.avatar_id else None,
        }


def _id_batches(ids: sa.Select[int]) -> t.Iterator[list[int]]:
    """The ids ``ids`` selects (one id column), ``BATCH`` at a time, by keyset
    (no server-side cursor: PostgreSQL reads run outside a transaction)."""
    column = ids.selected_columns[0]
    last = 0
    while True:
        batch = list(
            db.session.scalars(ids.where(column > last).order_by(column).limit(BATCH))
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def _comments(scope: Scope) -> t.Iterator[CommentRecord]:
    slugs = _slugs_by_id(scope)
    for post_ids in _id_batches(scope.post_ids()):
        query = (
            sa.select(Comment)
            # Held, rejected and spam comments stay behind: the archive has
            # no state for them, and importing would show them to readers.
            .where(Comment.post_id.in_(post_ids), Comment.state == VISIBLE)
            .order_by(Comment.post_id, Comment.id)
        )
        for comment in db.session.scalars(query):
            record: CommentRecord = {
                "post": slugs[comment.post_id],
                "author": comment.author.username if comment.author else None,
                "body": comment.body,
                "created": timestamp(comment.created),
                "edited": timestamp(comment.edited),
            }
            if comment.remote_actor is not None:
                # A fediverse reply has no account here to name (an import
                # would make one): its handle goes beside it, for readers.
                record["remote_author"] = comment.remote_actor.handle
            yield record


def _likes(scope: Scope) -> t.Iterator[LikeRecord]:
    slugs = _slugs_by_id(scope)
    for post_ids in _id_batches(scope.post_ids()):
        query = (
            sa.select(Like.post_id, User.username, Like.created)
            .join(User, User.id == Like.user_id)
            .where(Like.post_id.in_(post_ids))
            .order_by(Like.post_id, Like.user_id)
        )
        for row in db.session.execute(query):
            yield {
                "post": slugs[row.post_id],
                "user": row.username,
                "created": timestamp(row.created),
            }


def _follows(scope: Scope) -> t.Iterator[FollowRecord]:
    follower, followed = sa.orm.aliased(User), sa.orm.aliased(User)
    for user_ids in _id_batches(sa.select(User.id)):
        query = (
            sa.select(follower.username, followed.username, Follow.created)
            .join(follower, follower.id == Follow.follower_id)
            .join(followed, followed.id == Follow.followed_id)
            .where(Follow.follower_id.in_(user_ids))
            .order_by(Follow.follower_id, Follow.followed_id)
        )
        if scope.writer_id is not None:
            query = query.where(
                sa.or_(
                    Follow.follower_id == scope.writer_id,
                    Follow.followed_id == scope.writer_id,
                )
            )
        for row in db.session.execute(query):
            yield {"follower": row[0], "followed": row[1], "created": timestamp(row[2])}


def _audit(scope: Scope) -> t.Iterator[AuditRecord]:
    """The audit log, oldest first: the site's export only (a writer's own
    download holds no moderators' decisions)."""
    if scope.writer_id is not None:
        return
    for entry in _in_batches(AuditEntry, sa.select(AuditEntry)):
        yield {
            "created": timestamp(entry.created),
            "actor": entry.actor_name,
            "action": entry.action,
            "subject": entry.subject_name,
            "post_id": entry.post_id,
            "comment_id": entry.comment_id,
            "detail": entry.detail,
        }


def _subscribers(scope: Scope) -> t.Iterator[SubscriberRecord]:
    """Every subscriber with its confirmation state and what it follows: the
    site's export only (a writer's download holds no readers' addresses)."""
    if scope.writer_id is not None:
        return
    account = sa.orm.aliased(User)
    for ids in _id_batches(sa.select(Subscriber.id)):
        follows: dict[int, list[str | None]] = collections.defaultdict(list)
        followed = (
            sa.select(Subscription.subscriber_id, User.username)
            .outerjoin(User, User.id == Subscription.author_id)
            .where(Subscription.subscriber_id.in_(ids))
            .order_by(Subscription.subscriber_id, Subscription.id)
        )
        for subscriber_id, username in db.session.execute(followed):
            follows[subscriber_id].append(username)
        rows = db.session.execute(
            sa.select(Subscriber, account.username)
            .outerjoin(account, account.id == Subscriber.user_id)
            .where(Subscriber.id.in_(ids))
            .order_by(Subscriber.id)
        )
        for subscriber, username in rows:
            yield {
                "email": subscriber.email,
                "created": timestamp(subscriber.created),
                "confirmed": timestamp(subscriber.confirmed),
                "cadence": subscriber.cadence,
                "follows": follows[subscriber.id],
                "account": username,
            }


def _usernames(scope: Scope) -> dict[int | None, str]:
    """User ids to usernames, for the writers in ``scope``."""
    query = scope.users().with_only_columns(User.id, User.username)
    return {row.id: row.username for row in db.session.execute(query)}


def _slugs_by_id(scope: Scope) -> dict[int, str]:
    """Post ids to the names their files have: a few bytes per post."""
    query = sa.select(Post.id, Post.slug).where(Post.id.in_(scope.post_ids()))
    return {row.id: row.slug or f"post-{row.id}" for row in db.session.execute(query)}


def _library(scope: Scope) -> t.Iterator[MediaImage]:
    """The library's pictures, without their bytes (read one at a time)."""
    query = sa.select(MediaImage)
    if scope.writer_id is not None:
        query = query.where(MediaImage.user_id == scope.writer_id)
    return _in_batches(MediaImage, query)


class _Pipe(io.RawIOBase):
    """Where the zip is written: kept until drained into the response."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        # zipfile writes bytes-like objects only.
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclasses.dataclass
class _Writer:
    archive: zipfile.ZipFile
    pipe: _Pipe
    hashes: dict[str, str] = dataclasses.field(default_factory=dict)
    counts: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )

    def member(self, path: str, chunks: Chunks) -> t.Iterator[bytes]:
        digest = hashlib.sha256()
        with self.archive.open(path, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)
                digest.update(chunk)
                yield self.pipe.drain()
        self.hashes[path] = digest.hexdigest()
        yield self.pipe.drain()


def _counted(
    items: t.Iterator[_Item], counts: collections.Counter[str], name: str
) -> t.Iterator[_Item]:
    for item in items:
        counts[name] += 1
        yield item


def export_zip(
    scope: Scope, progress: t.Callable[[int], None] | None = None
) -> t.Iterator[bytes]:
    """The export of ``scope`` as pieces of a zip file, in order.

    :param progress: called with 1 after each post, for a progress bar.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, pipe)
        yield from writer.member(
            "profiles.json",
            _json_array(_counted(_profiles(scope), writer.counts, "profiles")),
        )
        for user_ids in _id_batches(scope.users().with_only_columns(User.id)):
            avatars = sa.select(User.username, User.avatar_id).where(
                User.id.in_(user_ids), User.avatar_id.is_not(None)
            )
            for username, avatar_id in db.session.execute(avatars).all():
                # One picture in memory at a time.
                avatar = sa.select(Avatar.large).where(Avatar.id == avatar_id)
                data = db.session.scalar(avatar) or b""
                yield from writer.member(f"avatars/{username}.webp", [data])
        for post in _in_batches(Post, scope.posts()):
            writer.counts["posts"] += 1
            yield from writer.member(post_file(post), [post_markdown(post)])
            if post.image is not None:
                display = db.session.scalar(
                    sa.select(Image.display).where(Image.id == post.image.id)
                )
                yield from writer.member(cover_file(post), [display or b""])
            if progress is not None:
                progress(1)
        pictures: list[PictureRecord] = []
        owners = _usernames(scope)
        for picture in _library(scope):
            writer.counts["images"] += 1
            pictures.append(
                {
                    "file": library_file(picture.key),
                    "key": picture.key,
                    "alt": picture.alt,
                    "owner": owners.get(picture.user_id),
                }
            )
            picture_bytes = sa.select(MediaImage.display).where(
                MediaImage.id == picture.id
            )
            data = db.session.scalar(picture_bytes) or b""
            yield from writer.member(library_file(picture.key), [data])
        yield from writer.member("images.json", _json_array(iter(pictures)))
        for name, items in (
            ("comments", _comments(scope)),
            ("likes", _likes(scope)),
            ("follows", _follows(scope)),
            *(
                (("audit", _audit(scope)), ("subscribers", _subscribers(scope)))
                if scope.writer_id is None
                else ()
            ),
        ):
            yield from writer.member(
                f"{name}.json", _json_array(_counted(items, writer.counts, name))
            )
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "exported": timestamp(utcnow()),
            "scope": "site" if scope.writer_id is None else "writer",
            "counts": dict(writer.counts),
            "files": writer.hashes,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1) + "\n")
    yield pipe.drain()


def export_own_blog(writer: User) -> t.Iterator[bytes]:
    """A writer's own download (posts, pictures, profile, and the comments
    and likes on their posts) as pieces of a zip, logged as a security event
    since it carries everything the account has written."""
    log_event("blog_exported", user_id=writer.id)
    return export_zip(Scope(writer_id=writer.id))


def post_total(scope: Scope) -> int:
    """How many posts an export of ``scope`` holds (for a progress bar)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(scope.post_ids().subquery())
        )
        or 0
    )
