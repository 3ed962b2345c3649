"""Other engines' exports as import sources (``imports.Source``): a folder or
zip of Jekyll or Hugo Markdown files, a Ghost JSON export, a WordPress WXR
file and a WriteFreely JSON export.

Each is read into Flaskr's items — writers, posts with front matter and
Markdown — and imported by the same :class:`imports.Importer`, so the same
rules, rendering, cleaning, report and idempotency apply (posts match by slug
and writer). HTML bodies (Ghost, WordPress) become Markdown with markdownify;
XML is parsed by defusedxml (no entities, no DTDs), YAML with ``safe_load``,
TOML with the standard library. Times without a zone are taken as UTC.
Pictures these files only link to (on the old site) are not fetched: their
links stay in the text.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import posixpath
import re
import tomllib
import typing as t
import zipfile
from pathlib import Path

from flaskr.db import utcnow
from flaskr.services.content.rules import slugify
from flaskr.services.portability.archives import ArchiveRefused
from flaskr.services.portability.archives import open_archive
from flaskr.services.portability.archives import parse_time
from flaskr.services.portability.archives import Source
from flaskr.services.portability.format import Fields
from flaskr.services.portability.format import PictureRecord
from flaskr.services.portability.format import PostMatter
from flaskr.services.portability.format import ProfileRecord

#: The largest JSON or XML file read whole.
MAX_DOCUMENT_BYTES = 200 * 1024**2

#: Another engine's JSON document (or part of one), walked with ``.get`` as
#: it is read: whatever it holds, only Flaskr's records come out of it, and
#: the importer checks those.
Json = dict[str, t.Any]


def html_to_markdown(html: str) -> str:
    from markdownify import markdownify

    return str(markdownify(html, heading_style="ATX", bullets="-")).strip() + "\n"


def _state(published: dt.datetime | None, draft: bool) -> str:
    if draft or published is None:
        return "draft"
    return "scheduled" if published > utcnow() else "published"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(value: object) -> dt.datetime | None:
    """A time as these formats write it, in UTC (without a zone: UTC)."""
    return parse_time(value, "a time", naive_is_utc=True)


def _tag_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\s]+", value) if part.strip()]
    if isinstance(value, list):
        return [str(tag) for tag in value if isinstance(tag, (str, int))]
    raise ValueError("tags are not a list")


class _ItemSource:
    """A source whose posts are read up front into Flaskr's items."""

    naive_times_are_utc = True

    def __init__(self) -> None:
        self._profiles: list[ProfileRecord] = []
        self._posts: dict[str, tuple[PostMatter, str]] = {}
        self._problems: dict[str, str] = {}

    def add_post(self, name: str, matter: PostMatter, body: str) -> None:
        while name in self._posts or name in self._problems:
            name += "+"
        self._posts[name] = (matter, body)

    def add_problem(self, name: str, problem: str) -> None:
        self._problems[name] = problem

    def profiles(self) -> list[object]:
        return list(self._profiles)

    def pictures(self) -> list[object]:
        return []

    def post_names(self) -> list[str]:
        return sorted([*self._posts, *self._problems])

    def post(self, name: str) -> tuple[Fields, str]:
        if name in self._problems:
            raise ValueError(self._problems[name])
        return self._posts[name]

    def cover(self, name: str, matter: Fields) -> bytes | None:
        return None

    def read(self, name: str) -> bytes:
        raise ArchiveRefused(f"{name} is not in this file.")

    def comments(self) -> list[object]:
        return []

    def likes(self) -> list[object]:
        return []

    def follows(self) -> list[object]:
        return []


_JEKYLL_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})-(.+)")
#: Front matter fields that name a post's cover picture.
_COVER_FIELDS = ("image", "cover", "featured_image", "feature_image")
_MARKDOWN_SUFFIXES = (".md", ".markdown")


def split_front_matter(text: str) -> tuple[Json, str]:
    """YAML (``---``) or TOML (``+++``) front matter, and the rest.

    :raise ValueError: no front matter, or not plain data.
    """
    # Imported here: only imports read YAML, and a worker serving pages never
    # loads it.
    import yaml

    text = text.lstrip("\ufeff")
    for fence, parse in (("---", yaml.safe_load), ("+++", tomllib.loads)):
        if text.startswith(fence + "\n"):
            end = text.find(f"\n{fence}\n", len(fence))
            if end < 0:
                raise ValueError("front matter is not closed")
            try:
                matter = parse(text[len(fence) + 1 : end])
            except (yaml.YAMLError, tomllib.TOMLDecodeError) as error:
                raise ValueError(f"front matter is not plain data: {error}") from None
            if not isinstance(matter, dict):
                raise ValueError("front matter is not a mapping")
            return matter, text[end + len(fence) + 2 :]
    raise ValueError("no front matter")


def _markdown_post(path: str, text: str) -> tuple[PostMatter, str | None, str]:
    """A Markdown file's post, the cover picture its front matter names (an
    address the folder looks up), and its text."""
    matter, body = split_front_matter(text)
    stem = posixpath.splitext(posixpath.basename(path))[0]
    dated = _JEKYLL_NAME.fullmatch(stem)
    if stem == "index":  # Hugo's page bundles: content/posts/<slug>/index.md
        stem = posixpath.basename(posixpath.dirname(path)) or stem
    published = _moment(matter.get("date")) or (
        _moment(dated.group(1)) if dated else None
    )
    draft = (
        matter.get("draft") is True
        or matter.get("published") is False
        or "/_drafts/" in f"/{path}"
    )
    title = matter.get("title") or ""
    slug = matter.get("slug") or slugify(dated.group(2) if dated else stem)
    tags = _tag_list(matter.get("tags")) + _tag_list(matter.get("categories"))
    summary = (
        matter.get("description") or matter.get("summary") or matter.get("excerpt")
    )
    updated = _moment(matter.get("lastmod") or matter.get("updated"))
    if published is None and not draft:
        raise ValueError("it has no date (front matter or file name)")
    created = published or updated or utcnow()
    cover = next(
        (matter[name] for name in _COVER_FIELDS if isinstance(matter.get(name), str)),
        None,
    )
    return (
        {
            "title": title,
            "slug": slug,
            "summary": summary or "",
            "author": None,
            "created": _iso(created),
            "updated": _iso(updated),
            "state": _state(published, draft),
            "published": _iso(published),
            "tags": list(dict.fromkeys(tags)),
        },
        cover,
        body,
    )


_PICTURE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<url>[^)\s]+)(?P<rest>[^)]*)\)")
_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def picture_key(path: str, data: bytes) -> str:
    """A library key for a picture in a folder of Markdown: the same for the
    same file, so a second import finds it."""
    digest = hashlib.sha256(path.encode() + b"\0" + data).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


class MarkdownFolder(_ItemSource):
    """Jekyll's ``_posts``/``_drafts`` or Hugo's ``content``: every Markdown
    file with front matter, in a folder or a zip, and the pictures they show
    from the same folder (``![alt](path)``, and a cover named by ``image``,
    ``cover`` or ``featured_image``), which become library pictures. Their
    writer is named by the import (``--writer``)."""

    def __init__(self, names: t.Iterable[str], read: t.Callable[[str], bytes]) -> None:
        super().__init__()
        self._all = set(names)
        self._read = read
        self._files: dict[str, bytes] = {}
        self._pictures: list[PictureRecord] = []
        self._covers: dict[str, str] = {}
        for path in sorted(self._all):
            if not path.lower().endswith(_MARKDOWN_SUFFIXES):
                continue
            try:
                matter, cover, body = _markdown_post(path, read(path).decode("utf-8"))
                body = _PICTURE.sub(functools.partial(self._picture, path), body)
                found = self._find(path, cover) if cover else None
                if found is not None:
                    self._covers[path] = found
            except (ValueError, UnicodeDecodeError) as error:
                self.add_problem(path, str(error))
            else:
                self.add_post(path, matter, body)

    def _find(self, post: str, url: str) -> str | None:
        """The file a post's picture address names in the folder, if any."""
        if re.match(r"^[a-z]+:", url) or not url.lower().endswith(_PICTURE_SUFFIXES):
            return None
        url = url.split("?")[0].split("#")[0]
        candidates = [
            posixpath.normpath(posixpath.join(posixpath.dirname(post), url)),
            url.lstrip("/"),
            "static/" + url.lstrip("/"),  # Hugo serves static/ at the root
        ]
        for candidate in candidates:
            if candidate in self._all and not candidate.startswith("../"):
                if candidate not in self._files:
                    self._files[candidate] = self._read(candidate)
                return candidate
        return None

    def _picture(self, post: str, match: re.Match[str]) -> str:
        found = self._find(post, match.group("url"))
        if found is None:
            return match.group(0)
        key = picture_key(found, self._files[found])
        alt = match.group("alt").strip() or posixpath.basename(found)
        if not any(picture["key"] == key for picture in self._pictures):
            self._pictures.append(
                {"file": found, "key": key, "alt": alt, "owner": None}
            )
        return f"![{match.group('alt')}](/media/{key}.webp{match.group('rest')})"

    def pictures(self) -> list[object]:
        return list(self._pictures)

    def read(self, name: str) -> bytes:
        if name not in self._files:
            raise ArchiveRefused(f"{name} is not in this folder.")
        return self._files[name]

    def cover(self, name: str, matter: Fields) -> bytes | None:
        found = self._covers.get(name)
        return None if found is None else self._files[found]

    @classmethod
    def from_path(cls, path: Path) -> MarkdownFolder:
        if path.is_dir():
            files = [
                file
                for file in sorted(path.rglob("*"))
                if file.is_file()
                and not file.is_symlink()
                and file.suffix.lower() in (*_MARKDOWN_SUFFIXES, *_PICTURE_SUFFIXES)
                and file.stat().st_size <= MAX_DOCUMENT_BYTES
            ]
            if len(files) > 100_000:
                raise ArchiveRefused("The folder holds more than 100,000 files.")
            return cls(
                (file.relative_to(path).as_posix() for file in files),
                lambda name: (path / name).read_bytes(),
            )
        with path.open("rb") as stream:
            return cls.from_archive(open_archive(stream))

    @classmethod
    def from_archive(cls, archive: zipfile.ZipFile) -> MarkdownFolder:
        """Read while the archive is open: every file the posts need is read
        here."""
        names = [
            member.filename for member in archive.infolist() if not member.is_dir()
        ]
        return cls(names, archive.read)


class GhostExport(_ItemSource):
    """Ghost's JSON export (Settings → Labs → Export): posts with their
    writers and tags; pages are left out."""

    def __init__(self, document: Json) -> None:
        super().__init__()
        data = _ghost_data(document)
        users = {
            user.get("id"): user
            for user in data.get("users", [])
            if isinstance(user, dict)
        }
        for user in users.values():
            self._profiles.append(
                {
                    "username": user.get("slug") or "",
                    "display_name": user.get("name") or "",
                    "bio": user.get("bio") or "",
                    "website": user.get("website") or "",
                    "created": user.get("created_at"),
                }
            )
        tags = {
            tag.get("id"): tag.get("name")
            for tag in data.get("tags", [])
            if isinstance(tag, dict)
        }
        post_tags: dict[object, list[str]] = {}
        for link in data.get("posts_tags", []):
            post_tags.setdefault(link.get("post_id"), []).append(
                tags.get(link.get("tag_id")) or ""
            )
        post_authors: dict[object, object] = {}
        for link in sorted(
            data.get("posts_authors", []), key=lambda x: x.get("sort_order") or 0
        ):
            post_authors.setdefault(link.get("post_id"), link.get("author_id"))
        for post in data.get("posts", []):
            if not isinstance(post, dict) or post.get("type", "post") != "post":
                continue
            name = f"ghost post {post.get('slug') or post.get('id')}"
            try:
                self.add_post(name, *_ghost_post(post, post_tags, post_authors, users))
            except ValueError as error:
                self.add_problem(name, str(error))


def _ghost_data(document: Json) -> Json:
    if isinstance(document.get("db"), list) and document["db"]:
        document = document["db"][0]
    data = document.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise ArchiveRefused("This is not a Ghost export (no posts in it).")
    return data


def _ghost_body(post: Json) -> str:
    """The Markdown a Ghost post was written in, if a Markdown card holds
    it; else its HTML as Markdown."""
    mobiledoc = post.get("mobiledoc")
    if isinstance(mobiledoc, str) and mobiledoc:
        try:
            cards = json.loads(mobiledoc).get("cards", [])
        except (ValueError, AttributeError):
            cards = []
        texts = [
            card[1].get("markdown")
            for card in cards
            if isinstance(card, list)
            and len(card) > 1
            and card[0] == "markdown"
            and isinstance(card[1], dict)
        ]
        if len(texts) == 1 and isinstance(texts[0], str) and len(cards) == 1:
            return texts[0]
    return html_to_markdown(post.get("html") or "")


def _ghost_post(
    post: Json,
    post_tags: dict[object, list[str]],
    post_authors: dict[object, object],
    users: dict[object, Json],
) -> tuple[PostMatter, str]:
    published = _moment(post.get("published_at"))
    status = post.get("status")
    author = users.get(post_authors.get(post.get("id")) or post.get("author_id"))
    return (
        {
            "title": post.get("title") or "",
            "slug": post.get("slug") or "",
            "summary": post.get("custom_excerpt") or "",
            "author": author.get("slug") if author else None,
            "created": _iso(_moment(post.get("created_at")) or published),
            "updated": _iso(_moment(post.get("updated_at"))),
            "state": _state(published, status not in ("published", "scheduled")),
            "published": _iso(published),
            "tags": post_tags.get(post.get("id"), []),
        },
        _ghost_body(post),
    )


_WXR = {
    "wp": "http://wordpress.org/export/1.2/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "dc": "http://purl.org/dc/elements/1.1/",
}


class WordPressExport(_ItemSource):
    """WordPress's WXR file (Tools → Export): posts (not pages or
    attachments) with their writers, categories and tags. Comments are left
    out: their writers are visitors without accounts here."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        from defusedxml import ElementTree
        from defusedxml.common import DefusedXmlException

        try:
            root = ElementTree.fromstring(data, forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException) as error:
            raise ArchiveRefused(f"This is not a WordPress export: {error}") from None
        channel = root.find("channel")
        if channel is None:
            raise ArchiveRefused("This is not a WordPress export (no channel).")
        for author in channel.findall("wp:author", _WXR):
            self._profiles.append(
                {
                    "username": author.findtext("wp:author_login", "", _WXR),
                    "display_name": author.findtext("wp:author_display_name", "", _WXR),
                }
            )
        for item in channel.findall("item"):
            if item.findtext("wp:post_type", "", _WXR) != "post":
                continue
            status = item.findtext("wp:status", "", _WXR)
            if status == "trash":
                continue
            slug = item.findtext("wp:post_name", "", _WXR) or ""
            name = f"wordpress post {slug or item.findtext('wp:post_id', '', _WXR)}"
            try:
                published = _moment(item.findtext("wp:post_date_gmt", "", _WXR))
                tags = [
                    (category.text or "").strip()
                    for category in item.findall("category")
                    if category.get("domain") in ("post_tag", "category")
                    and (category.text or "").strip() != "Uncategorized"
                ]
                matter: PostMatter = {
                    "title": item.findtext("title", "") or "",
                    "slug": slug,
                    "summary": html_to_markdown(
                        item.findtext("excerpt:encoded", "", _WXR)
                    ).strip(),
                    "author": item.findtext("dc:creator", "", _WXR),
                    "created": _iso(
                        published
                        or _moment(item.findtext("wp:post_modified_gmt", "", _WXR))
                    ),
                    "updated": _iso(
                        _moment(item.findtext("wp:post_modified_gmt", "", _WXR))
                    ),
                    "state": _state(published, status not in ("publish", "future")),
                    "published": _iso(published),
                    "tags": list(dict.fromkeys(tags)),
                }
                if matter.get("created") is None:
                    matter["created"] = _iso(utcnow())
                body = html_to_markdown(item.findtext("content:encoded", "", _WXR))
            except ValueError as error:
                self.add_problem(name, str(error))
            else:
                self.add_post(name, matter, body)


class WriteFreelyExport(_ItemSource):
    """WriteFreely's JSON export (Settings → Export): its blogs' posts come
    out published with their slugs and dates, posts outside a blog as drafts."""

    def __init__(self, document: Json) -> None:
        super().__init__()
        username = document.get("username")
        if not isinstance(username, str):
            raise ArchiveRefused("This is not a WriteFreely export (no username).")
        self._profiles.append(
            {"username": username, "created": document.get("created")}
        )
        collections = document.get("collections") or []
        drafts = document.get("posts") or []
        for collection in collections:
            for post in (
                collection.get("posts") or [] if isinstance(collection, dict) else []
            ):
                self._add(post, username, draft=False)
        for post in drafts:
            self._add(post, username, draft=True)

    def _add(self, post: object, username: str, *, draft: bool) -> None:
        if not isinstance(post, dict):
            return
        name = f"writefreely post {post.get('slug') or post.get('id')}"
        try:
            body = post.get("body") or ""
            title = post.get("title") or _first_line(body)
            created = _moment(post.get("created"))
            matter: PostMatter = {
                "title": title,
                "slug": post.get("slug") or slugify(title),
                "summary": "",
                "author": username,
                "created": _iso(created),
                "updated": _iso(_moment(post.get("updated"))),
                "state": _state(created, draft),
                "published": _iso(None if draft else created),
                "tags": _tag_list(post.get("tags")),
            }
        except ValueError as error:
            self.add_problem(name, str(error))
        else:
            self.add_post(name, matter, body)


def _first_line(body: str) -> str:
    """An untitled post's title: its first line, without Markdown marks."""
    for line in body.splitlines():
        words = re.sub(r"[#*_>`\[\]]", "", line).strip()
        if words:
            return words[:100]
    return "Untitled"


def open_source(path: Path) -> Source:
    """The import source ``path`` holds, found by its contents: a Flaskr
    export, a folder or zip of Markdown, or a Ghost, WordPress or WriteFreely
    export. (Flaskr's own export is opened by the caller.)

    :raise ArchiveRefused: none of these.
    """
    if path.is_dir() or zipfile.is_zipfile(path):
        return MarkdownFolder.from_path(path)
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ArchiveRefused("The file is larger than an import reads.")
    data = path.read_bytes()
    head = data[:2000].lstrip()
    if head.startswith(b"<"):
        return WordPressExport(data)
    try:
        document = json.loads(data)
    except ValueError:
        raise ArchiveRefused("This is not a file Flaskr imports.") from None
    if not isinstance(document, dict):
        raise ArchiveRefused("This is not a file Flaskr imports.")
    if "username" in document and ("collections" in document or "posts" in document):
        return WriteFreelyExport(document)
    return GhostExport(document)
