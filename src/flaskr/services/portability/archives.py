"""Reading import sources: zip archives read defensively, Flaskr's own export
checked against its manifest, and the :class:`Source` every importer reads.

Names that would leave the archive (absolute, ``..``, backslashes), more files
or more bytes than the limits, members that expand more than
:data:`MAX_RATIO` times, a manifest whose SHA-256 sums do not match, and YAML
other than plain data (``yaml.safe_load``) are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import re
import typing as t
import zipfile

from flaskr.services.base.errors import ServiceError
from flaskr.services.portability.format import Fields
from flaskr.services.portability.format import FORMAT
from flaskr.services.portability.format import FORMAT_VERSION

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


class Source(t.Protocol):
    """Where an import reads from: Flaskr's export, or another engine's file
    (``foreign.py``), as Flaskr's items. Records are untrusted: the importer
    checks every field."""

    naive_times_are_utc: bool

    def profiles(self) -> list[object]: ...
    def pictures(self) -> list[object]: ...
    def post_names(self) -> list[str]: ...
    def post(self, name: str) -> tuple[Fields, str]: ...
    def cover(self, name: str, matter: Fields) -> bytes | None: ...
    def read(self, name: str) -> bytes: ...
    def comments(self) -> list[object]: ...
    def likes(self) -> list[object]: ...
    def follows(self) -> list[object]: ...


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


def parse_time(
    value: object, field: str, *, naive_is_utc: bool = False
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


def parse_post(data: bytes) -> tuple[Fields, str]:
    """The front matter and Markdown of a post file.

    :raise ValueError: it has no front matter, or not plain YAML data.
    """
    # Imported here: only imports and exports read YAML, and a worker
    # serving pages never loads it.
    import yaml

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
    return t.cast(Fields, matter), body


class FlaskrExport:
    """A Flaskr export, read file by file and checked against its manifest."""

    #: Times in Flaskr's own export always carry their zone.
    naive_times_are_utc = False

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
        if not isinstance(files, dict) or not all(
            isinstance(name, str) and isinstance(digest, str)
            for name, digest in files.items()
        ):
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

    def json_list(self, name: str) -> list[object]:
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

    def profiles(self) -> list[object]:
        return self.json_list("profiles.json")

    def pictures(self) -> list[object]:
        return self.json_list("images.json")

    def post(self, name: str) -> tuple[Fields, str]:
        matter, body = parse_post(self.read(name))
        return matter, _RELATIVE_PICTURE.sub(
            lambda m: f"/media/{m.group(1)}.webp", body
        )

    def cover(self, name: str, matter: Fields) -> bytes | None:
        image = matter.get("image")
        if not isinstance(image, str):
            return None
        return self.read(
            posixpath.normpath(posixpath.join(posixpath.dirname(name), image))
        )

    def comments(self) -> list[object]:
        return self.json_list("comments.json")

    def likes(self) -> list[object]:
        return self.json_list("likes.json")

    def follows(self) -> list[object]:
        return self.json_list("follows.json")


def flaskr_export(stream: t.BinaryIO) -> FlaskrExport | None:
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
    return FlaskrExport(archive)
