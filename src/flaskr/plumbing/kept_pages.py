"""What views tell the page cache (:func:`kept_per_visitor`,
:func:`shows_reactions_of`), and a page it keeps: its body stored compressed
when that pays, and the two answers made from it (the kept bytes for clients
that accept gzip, the page decompressed for the rest). See ``page_cache``."""

from __future__ import annotations

import dataclasses
import functools
import time
import typing as t
import zlib

from flask import request
from werkzeug.http import parse_accept_header

from flaskr.plumbing.shared_pages import SharedEntry

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: The attribute :func:`kept_per_visitor` sets on a view function.
KEPT_ATTRIBUTE = "page_cache_kept_per_visitor"

#: Where a request's :class:`Shown` waits for the view (in the WSGI environ).
SHOWN_KEY = "flaskr.page_cache.shown"

View = t.Callable[..., t.Any]


def kept_per_visitor(view: View) -> View:
    """Let the page cache keep this view's page.

    Only for pages that show nothing but public content and the visitor's own
    session (their name, their CSRF token): the page is served again to the
    same visitor, with the same ``Accept`` header, until the site version
    moves. Responses that are not a 200, that set a cookie, or that vary on a
    request header other than the session cookie and ``Accept`` are never
    kept. A view answering by ``Accept`` adds it to ``Vary`` itself.
    """
    setattr(view, KEPT_ATTRIBUTE, True)
    return view


class Shown:
    """Whose reactions (likes, comments) one page shows: ``None`` until its
    view says, which means anyone's."""

    __slots__ = ("posts",)

    def __init__(self) -> None:
        self.posts: set[int] | None = None


def shows_reactions_of(post_ids: t.Iterable[int]) -> None:
    """Say that the page being rendered shows the likes and comments of these
    posts and no others' (call it again to add more; with none, it shows no
    one's), so a reaction elsewhere does not drop it from the page cache.

    Leave it uncalled where the page depends on reactions in another way (a
    list of the posts someone liked, an order by likes).
    """
    shown = request.environ.get(SHOWN_KEY)
    if shown is None:
        return  # not a kept page, or no page cache
    if shown.posts is None:
        shown.posts = set()
    shown.posts.update(post_ids)


#: Request headers a kept answer may vary on (its ``Vary``): the key holds the
#: session (all that kept views read of ``Cookie``) and ``Accept``, and requests
#: with the others pass through. An answer varying on another header is not kept.
_KEYED_HEADERS = frozenset({"cookie", "accept", "origin", "authorization"})

#: The versions a page was rendered at: ``(value, reactions)``.
Stamp = tuple[int, int]


#: Kept answers of these types are compressed (with ``+json`` and ``+xml``).
_COMPRESSED_TYPES = frozenset(
    {
        "text/html",
        "text/plain",
        "text/xml",
        "application/json",
        "application/xml",
    }
)
#: Smaller bodies gain nothing from compression.
_COMPRESS_FROM_BYTES = 256
#: zlib's window bits for the gzip format.
_GZIP = 16 + zlib.MAX_WBITS


@dataclasses.dataclass(frozen=True, slots=True)
class KeptPage:
    stamp: Stamp
    stored: float
    status: str
    #: The body as kept: gzip-compressed if ``compressed``.
    body: bytes
    compressed: bool
    #: The posts whose reactions it shows; ``None`` for anyone's.
    posts: frozenset[int] | None
    #: The headers to send with the body as it is kept, and with it decompressed.
    kept_headers: list[tuple[str, str]]
    plain_headers: list[tuple[str, str]]

    @classmethod
    def made(
        cls,
        stamp: Stamp,
        stored: float,
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        compressed: bool,
        posts: frozenset[int] | None,
    ) -> KeptPage:
        """The page with its two sets of headers worked out once from
        ``headers``, as rendered without the request id."""
        if not compressed:
            return cls(stamp, stored, status, body, False, posts, headers, headers)
        plain = _varying_on_encoding(headers)
        encoded = [
            (name, _weak_etag(value) if name.lower() == "etag" else value)
            for name, value in plain
            if name.lower() != "content-length"
        ]
        encoded += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
        return cls(stamp, stored, status, body, True, posts, encoded, plain)

    @classmethod
    def from_shared(
        cls,
        entry: SharedEntry,
        stamp: Stamp,
        max_age: float,
        reacted_after: t.Callable[[frozenset[int], int], bool],
    ) -> KeptPage | None:
        """The shared tier's ``entry`` as a page of a process's own, stamped
        ``stamp``, if nothing it shows changed since it was rendered (by
        ``reacted_after(posts, since)``, whether any of ``posts`` got a like or
        comment since); else ``None``."""
        value, reactions = stamp
        age = time.time() - entry.stored
        if entry.value != value or age > max_age:
            return None
        if entry.reactions < reactions:
            if entry.posts is None:
                return None  # it shows anyone's reactions, and some came
            if entry.posts and reacted_after(entry.posts, entry.reactions):
                return None
        return cls.made(
            stamp,
            time.monotonic() - max(0.0, age),
            entry.status,
            entry.headers,
            entry.body,
            compressed=entry.compressed,
            posts=entry.posts,
        )

    def answer(self, environ: WSGIEnvironment) -> tuple[list[tuple[str, str]], bytes]:
        """The headers and body for this request: the kept bytes if the client
        accepts them, the page decompressed otherwise."""
        if not self.compressed or _accepts_gzip(
            environ.get("HTTP_ACCEPT_ENCODING", "")
        ):
            return self.kept_headers, self.body
        return self.plain_headers, zlib.decompress(self.body, _GZIP)


def stored_form(headers: list[tuple[str, str]], body: bytes) -> tuple[bytes, bool]:
    """The body as it is kept (compressed if that pays), and whether it was."""
    if _compressible(headers, body):
        return _compressed(body), True
    return body, False


def _compressible(headers: list[tuple[str, str]], body: bytes) -> bool:
    """Whether a kept answer is worth storing compressed."""
    if len(body) < _COMPRESS_FROM_BYTES:
        return False
    media_type = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-encoding":
            return False
        if lowered == "content-type":
            media_type = value.split(";", 1)[0].strip().lower()
    return media_type in _COMPRESSED_TYPES or media_type.endswith(("+json", "+xml"))


def _compressed(body: bytes) -> bytes:
    """``body`` in the gzip format (no file name, no time: the same bytes on
    every server)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP)
    return compressor.compress(body) + compressor.flush()


def _varying_on_encoding(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with ``Accept-Encoding`` added to their ``Vary``."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            fields = [field.strip().lower() for field in value.split(",")]
            if "accept-encoding" in fields:
                return headers
            varied = [*headers]
            varied[index] = (name, f"{value}, Accept-Encoding")
            return varied
    return [*headers, ("Vary", "Accept-Encoding")]


def _weak_etag(value: str) -> str:
    """A compressed body is another representation: its tag is only weakly equal."""
    return value if value.startswith("W/") else f"W/{value}"


@functools.lru_cache(maxsize=64)
def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (browsers send one of
    a few, so the answers are remembered)."""
    return parse_accept_header(accept_encoding)["gzip"] > 0


def varies_only_on_the_key(headers: list[tuple[str, str]]) -> bool:
    """Whether every request header the answer's ``Vary`` names is one the
    cache keys on (or never serves from memory): :data:`_KEYED_HEADERS`."""
    varied = {
        field.strip().lower()
        for name, value in headers
        if name.lower() == "vary"
        for field in value.split(",")
        if field.strip()
    }
    return varied <= _KEYED_HEADERS
