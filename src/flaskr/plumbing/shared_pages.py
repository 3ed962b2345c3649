"""The page cache's second tier: kept pages in Redis, shared by every worker of
every server (``REDIS_URL``).

The in-process tier (``page_cache``) stays in front: a page it has is served
without asking Redis. On a miss there, one round trip to Redis brings the page
if any worker of any server kept it, and says whether anyone asked for it
lately (so a page asked for once anywhere is not kept, and a page asked for
once on each of two servers is). Whether a page found here is still exact is
decided by the in-process tier, from the site version it reads anyway: each
entry carries the versions it was rendered at and the posts whose reactions it
shows.

Entries are written by this site only: each is signed with a key derived from
``SECRET_KEY`` (a Redis shared with other programs cannot make this site serve
a page it did not render), and named by a keyed hash of the request's key, so
the names in Redis reveal no address or session. Every entry expires after
``PAGE_CACHE_MAX_AGE``.

A release is a namespace of its own: the prefix holds a hash of the package's
files, so servers running other code (in the middle of a deployment) never
serve each other's pages, and a new release starts empty.

When Redis fails (refused, timed out, gone), each look-up answers "not there"
and the in-process tier works alone: no request fails because of it. Redis is
tried again after ``_RETRY_AFTER`` seconds. The ``redis`` package is imported
only when a tier is made, so workers of a site without Redis never load it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import re
import struct
import threading
import time
import typing as t
from pathlib import Path

logger = logging.getLogger("flaskr.operations")

#: Seconds without asking Redis after it failed.
_RETRY_AFTER = 5.0

#: What an entry starts with: its format, then its signature.
_MAGIC = b"FP1"
_SIGNATURE_BYTES = 32
_HEADER_LENGTH = struct.Struct(">I")


@dataclasses.dataclass(frozen=True, slots=True)
class SharedEntry:
    """A kept page as the shared tier holds it."""

    #: The site version and reactions count it was rendered at.
    value: int
    reactions: int
    #: The posts whose reactions it shows; ``None`` for anyone's.
    posts: frozenset[int] | None
    #: When it was rendered (``time.time()``: shared between machines).
    stored: float
    status: str
    #: Its headers as rendered, and its body: gzip-compressed if ``compressed``.
    headers: list[tuple[str, str]]
    body: bytes
    compressed: bool


@functools.cache
def release_fingerprint() -> str:
    """A hash of every file of the installed package: the same on servers
    running the same release, different after any change to code, templates
    or static files."""
    package = Path(__file__).parents[1]  # flaskr/
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SharedPages:
    """The pages kept in one Redis for every server of this site (see the module)."""

    def __init__(
        self,
        url: str,
        *,
        secret_key: str,
        prefix: str,
        max_age: float,
        timeout: float,
    ) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._site_prefix = prefix
        self.prefix = f"{prefix}{release_fingerprint()}:"
        self.max_age = max(1, int(max_age))
        # Separate keys for naming entries and for signing them.
        self._naming_key = hashlib.blake2b(
            secret_key.encode(), person=b"flaskr-pagename", digest_size=32
        ).digest()
        self._signing_key = hashlib.blake2b(
            secret_key.encode(), person=b"flaskr-pagesign", digest_size=32
        ).digest()
        self._lock = threading.Lock()
        self._down_until = 0.0
        #: Entries served from Redis since the process started.
        self.hits = 0

    def name(self, key: tuple[t.Any, ...]) -> str:
        """The name under which the page for the cache's ``key`` is kept."""
        return hashlib.blake2b(
            repr(key).encode(), key=self._naming_key, digest_size=16
        ).hexdigest()

    @property
    def available(self) -> bool:
        """False for a while after Redis failed."""
        return time.monotonic() >= self._down_until

    def look_up(self, name: str) -> tuple[SharedEntry | None, bool] | None:
        """The entry kept under ``name`` if there is a valid one, and whether
        anyone asked for the page lately (recording that it was asked now);
        ``None`` if Redis cannot answer."""
        if not self.available:
            return None
        try:
            with self._redis.pipeline(transaction=False) as pipeline:
                pipeline.get(self.prefix + "page:" + name)
                pipeline.set(
                    self.prefix + "seen:" + name, b"", nx=True, ex=self.max_age
                )
                data, first_time = pipeline.execute()
        except self._errors as error:
            self._failed(error)
            return None
        entry = None if data is None else self._decode(name, data)
        return entry, not first_time

    def keep(self, name: str, entry: SharedEntry) -> None:
        """Keep ``entry`` under ``name`` for the longest a page is served."""
        if not self.available:
            return
        data = self._encode(name, entry)
        try:
            self._redis.set(self.prefix + "page:" + name, data, ex=self.max_age)
        except self._errors as error:
            self._failed(error)

    def forget_all(self) -> int:
        """Drop every page this site kept (of any release) and the memory of
        what was asked; return how many keys went. For a database made anew,
        whose versions count from the start again."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._site_prefix) + "*"
        dropped = 0
        names: list[bytes] = []
        try:
            for name in self._redis.scan_iter(match=pattern, count=500):
                names.append(name)
                if len(names) >= 500:
                    dropped += t.cast(int, self._redis.delete(*names))
                    names = []
            if names:
                dropped += t.cast(int, self._redis.delete(*names))
        except self._errors as error:
            logger.warning(
                "page cache: could not empty Redis (%s); pages of the old database"
                " may be served until they expire",
                error,
            )
        return dropped

    def _failed(self, error: Exception) -> None:
        with self._lock:
            if not self.available:
                return  # told already
            self._down_until = time.monotonic() + _RETRY_AFTER
        logger.warning(
            "page cache: Redis failed (%s); pages are kept in each process only"
            " for the next %.0f s",
            error,
            _RETRY_AFTER,
        )

    def _signature(self, name: str, signed: bytes) -> bytes:
        return hmac.digest(self._signing_key, name.encode() + signed, "sha256")

    def _encode(self, name: str, entry: SharedEntry) -> bytes:
        header = json.dumps(
            {
                "v": entry.value,
                "r": entry.reactions,
                "p": None if entry.posts is None else sorted(entry.posts),
                "t": entry.stored,
                "s": entry.status,
                "h": entry.headers,
                "z": entry.compressed,
            },
            separators=(",", ":"),
        ).encode()
        signed = _HEADER_LENGTH.pack(len(header)) + header + entry.body
        return _MAGIC + self._signature(name, signed) + signed

    def _decode(self, name: str, data: bytes) -> SharedEntry | None:
        """The entry in ``data``, or ``None`` if this site did not sign it for
        ``name``."""
        start = len(_MAGIC) + _SIGNATURE_BYTES
        if not data.startswith(_MAGIC) or len(data) < start + _HEADER_LENGTH.size:
            return None
        signed = data[start:]
        if not hmac.compare_digest(
            data[len(_MAGIC) : start], self._signature(name, signed)
        ):
            return None
        (length,) = _HEADER_LENGTH.unpack_from(signed)
        header = json.loads(signed[_HEADER_LENGTH.size : _HEADER_LENGTH.size + length])
        posts = header["p"]
        return SharedEntry(
            value=header["v"],
            reactions=header["r"],
            posts=None if posts is None else frozenset(posts),
            stored=header["t"],
            status=header["s"],
            headers=[(field, value) for field, value in header["h"]],
            body=signed[_HEADER_LENGTH.size + length :],
            compressed=header["z"],
        )
