"""Rendered pages kept in memory and served again while nothing they show changed.

A view marked with :func:`kept_per_visitor` has its page kept once it is asked for a
second time (one-off pages would push popular ones out), stamped with the site
version (``models.SiteVersion``) read *before* it was rendered. Database
triggers move that version in the same transaction as every write to public
content, so a kept page is served only while the data it was rendered from is
unchanged; after an edit on any server the next request renders afresh, on
every server, because they all read the same version.

Likes and comments move a second count instead, ``reactions``, and stamp the
posts they touched with it (migration 0022). A server that sees it move asks
once which posts were stamped since it last looked and drops only the pages
showing those posts' reactions: a view says which posts those are with
:func:`shows_reactions_of`. A page whose view did not say is dropped by every
reaction, as by every edit.

Pages are kept per visitor: visitors without a session cookie share one set,
and a session's pages are kept under its own row id, so nobody is ever served a
page rendered for someone else. A session's pages are served only while its row
says it is live, has no flashed message waiting and needs no "last seen" write;
otherwise Flask handles the request as usual.

Pages are also kept per ``Accept`` header, exactly as sent: an address may
answer a browser with HTML and a federated server (``application/activity+json``)
or an API client with JSON, and neither may be served the other's kept answer.
Browsers send the same header for every page they open, so this costs a few
copies of a page, not one per request. A view that answers by ``Accept`` says
so with ``Vary: Accept``, for the caches after ours; an answer that varies on
any header the key does not hold (``Vary: Accept-Language``, ``*``) is never
kept.

Kept pages are stored gzip-compressed (``kept_pages``): the same memory holds
several times more. With ``REDIS_URL`` set they are also kept in Redis
(``shared_pages``) for every worker of every server, behind this process's
memory; an entry from there is served only if it is exact by the same versions
(and, after likes and comments, by the same posts), whichever tier answers.

This is WSGI middleware in front of Flask, not a Flask extension, because a hit
must cost less than Flask itself does (bench/README.md): one statement (the
version, with the session row when there is a cookie), a dictionary look-up and
the access-log line. No library did this with per-session keys and a version
kept by the database, so it is written here.
"""

from __future__ import annotations

import collections
import enum
import json
import threading
import time
import typing as t

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuthSession
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.plumbing.kept_pages import KEPT_ATTRIBUTE
from flaskr.plumbing.kept_pages import KeptPage
from flaskr.plumbing.kept_pages import Shown
from flaskr.plumbing.kept_pages import SHOWN_KEY
from flaskr.plumbing.kept_pages import Stamp
from flaskr.plumbing.kept_pages import stored_form
from flaskr.plumbing.kept_pages import varies_only_on_the_key
from flaskr.plumbing.operations import log_access
from flaskr.plumbing.operations import request_id_for
from flaskr.plumbing.operations import REQUEST_ID_HEADER
from flaskr.plumbing.read_only import autocommit_engine
from flaskr.plumbing.shared_pages import SharedEntry
from flaskr.plumbing.shared_pages import SharedPages
from flaskr.schema import DATABASE_MADE_ANEW
from flaskr.services.accounts.sessions import is_expired
from flaskr.services.accounts.sessions import needs_touch
from flaskr.services.accounts.sessions import session_id_from_cookie
from flaskr.services.content.lifecycle import publish_due

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

#: Requests that ask for something other than the whole current page, or
#: whose answer depends on a header the key leaves out (CORS answers ``Origin``).
_PASS_THROUGH_HEADERS = (
    "HTTP_AUTHORIZATION",
    "HTTP_ORIGIN",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_RANGE",
)


class _Cookie(enum.Enum):
    #: A session cookie with a signature that is not this site's.
    FOREIGN = "foreign"


#: One page may use at most this share of the cache.
_LARGEST_SHARE = 8

#: Posts whose latest reaction stamp is remembered (see ``_catch_up``).
_REACTED_REMEMBERED = 100_000

#: How many recently rendered pages are remembered (as hashes of their keys)
#: per this many bytes of cache, to keep only pages asked for twice.
_SEEN_PER_BYTES = 1024

#: (session row id or None, scheme, host, path, query string, Accept or None)
_Key = tuple[str | None, str, str, str, str, str | None]


class _Visitor(t.NamedTuple):
    """What the state read found: the versions, and the session's user if any."""

    stamp: Stamp
    user_id: int | None


class PageCache:
    """WSGI middleware serving the pages of :func:`kept_per_visitor` views from
    memory (see the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.max_bytes = int(app.config["PAGE_CACHE_BYTES"])
        self.max_age = app.config["PAGE_CACHE_MAX_AGE"].total_seconds()
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        # On PostgreSQL a hit's one read makes one round trip, not three.
        with app.app_context():
            self.engine = autocommit_engine(app) or db.engine
        self._pages: collections.OrderedDict[_Key, KeptPage] = collections.OrderedDict()
        # The pages showing each post's reactions, and those showing anyone's.
        self._pages_of_post: dict[int, set[_Key]] = {}
        self._pages_of_anyone: set[_Key] = set()
        self._bytes = 0
        # Hashes of the keys of pages rendered lately, oldest first.
        self._seen: dict[int, None] = {}
        self._max_seen = max(64, self.max_bytes // _SEEN_PER_BYTES)
        # What the kept pages are exact for: site_version's two counts.
        self._version = -1
        self._reactions = -1
        # Each post stamped by a like or comment since ``_reacted_since`` (at
        # this version), with its stamp: what decides whether a page from
        # the shared tier, rendered at an older count, is still exact.
        self._reacted: dict[int, int] = {}
        self._reacted_since = -1
        #: Requests answered from either tier since the process started.
        self.hits = 0
        self._lock = threading.Lock()
        self._version_query = sa.select(
            SiteVersion.value, SiteVersion.reactions, SiteVersion.next_publication
        ).where(SiteVersion.id == 1)
        self._reacted_query = sa.select(Post.id, Post.reactions_version).where(
            Post.reactions_version > sa.bindparam("since")
        )
        self._any_reacted_query = (
            sa.select(Post.id)
            .where(
                Post.id.in_(sa.bindparam("ids", expanding=True)),
                Post.reactions_version > sa.bindparam("since"),
            )
            .limit(1)
        )
        #: The second tier, in Redis, when ``REDIS_URL`` is set.
        self.shared: SharedPages | None = None
        if app.config["REDIS_URL"]:
            self.shared = SharedPages(
                app.config["REDIS_URL"],
                secret_key=app.config["SECRET_KEY"],
                prefix=app.config["PAGE_CACHE_REDIS_PREFIX"],
                max_age=self.max_age,
                timeout=float(app.config["PAGE_CACHE_REDIS_TIMEOUT"]),
            )
        self._session_query = (
            sa.select(
                SiteVersion.value,
                SiteVersion.reactions,
                SiteVersion.next_publication,
                AuthSession.user_id,
                AuthSession.created,
                AuthSession.last_seen,
                AuthSession.data,
            )
            .outerjoin(AuthSession, AuthSession.id == sa.bindparam("session_id"))
            .where(SiteVersion.id == 1)
        )

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or any(
            name in environ for name in _PASS_THROUGH_HEADERS
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        session_id = self._session_id(environ)
        if session_id is _Cookie.FOREIGN:
            return self.wsgi_app(environ, start_response)
        key: _Key = (
            session_id,
            environ["wsgi.url_scheme"],
            t.cast(str, environ.get("HTTP_HOST", environ["SERVER_NAME"])),
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT"),
        )
        if key in self._pages:
            visitor = self._read_visitor(session_id)
            if visitor is None:
                return self.wsgi_app(environ, start_response)
            page = self._find(key)
            if page is not None:
                return self._serve(page, environ, start_response, started, visitor)
            # Dropped as stale: another server may have rendered it since.
            return self._from_second_tier(
                key, visitor, environ, start_response, started
            )
        # Other pages cost no statement of ours.
        if not self._is_kept(environ):
            return self.wsgi_app(environ, start_response)
        if self.shared is not None and self.shared.available:
            return self._from_second_tier(key, None, environ, start_response, started)
        # Neither does a page asked for the first time lately: it can be
        # neither served from here nor kept, so the version is not needed.
        if not self._asked_before(key):
            return self.wsgi_app(environ, start_response)
        visitor = self._read_visitor(session_id)
        if visitor is None:
            return self.wsgi_app(environ, start_response)
        page = self._find(key)  # kept by another thread meanwhile
        if page is not None:
            return self._serve(page, environ, start_response, started, visitor)
        return self._render_and_keep(key, visitor.stamp, environ, start_response)

    def _from_second_tier(
        self,
        key: _Key,
        visitor: _Visitor | None,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
    ) -> t.Iterable[bytes]:
        """Serve the page from Redis if a worker of any server kept it and it is
        still exact; else render it, and keep it if it was asked for lately.
        ``visitor`` is ``None`` if the version was not read yet: a page nobody
        asked for lately is then rendered without reading it."""
        name = None
        found = None
        if self.shared is not None:
            name = self.shared.name(key)
            found = self.shared.look_up(name)
        if found is None:  # no Redis, or it failed: this process alone
            entry, asked = None, self._asked_before(key)
        else:
            entry, asked = found
            self._asked_before(key)  # so an outage later keeps what was asked
        if visitor is None:
            if entry is None and not asked:
                return self.wsgi_app(environ, start_response)
            visitor = self._read_visitor(key[0])
            if visitor is None:
                return self.wsgi_app(environ, start_response)
        if entry is not None:
            page = KeptPage.from_shared(
                entry, visitor.stamp, self.max_age, self._reacted_after
            )
            if page is not None:
                assert self.shared is not None  # an entry came from it
                self.shared.hits += 1
                with self._lock:
                    self.hits += 1
                self._keep(key, page)
                return self._serve(page, environ, start_response, started, visitor)
        if not asked:
            return self.wsgi_app(environ, start_response)
        return self._render_and_keep(key, visitor.stamp, environ, start_response, name)

    def _reacted_after(self, posts: frozenset[int], since: int) -> bool:
        """Whether any of ``posts`` got a like or comment counted after ``since``
        (this request caught up with the versions first)."""
        with self._lock:
            if since >= self._reacted_since:
                return any(self._reacted.get(post, -1) > since for post in posts)
        # Older than what this process has seen: ask the database.
        with self.engine.connect() as connection:
            found = connection.execute(
                self._any_reacted_query, {"ids": sorted(posts), "since": since}
            ).first()
        return found is not None

    def _session_id(self, environ: WSGIEnvironment) -> str | _Cookie | None:
        """The session row id the cookie names, ``None`` without a session
        cookie, or ``_Cookie.FOREIGN`` if this site did not sign it."""
        if "HTTP_COOKIE" not in environ:
            return None
        cookie = parse_cookie(environ).get(self.cookie_name)
        if cookie is None:
            return None
        session_id = session_id_from_cookie(self.app, cookie)
        return _Cookie.FOREIGN if session_id is None else session_id

    def _is_kept(self, environ: WSGIEnvironment) -> bool:
        """Whether the URL leads to a :func:`kept_per_visitor` view."""
        adapter = self.app.url_map.bind_to_environ(
            environ, server_name=self.app.config["SERVER_NAME"]
        )
        try:
            endpoint, _ = adapter.match()
        except HTTPException:  # 404, 405, and redirects to the canonical URL
            return False
        view = self.app.view_functions.get(endpoint)
        return getattr(view, KEPT_ATTRIBUTE, False)

    def _read_visitor(self, session_id: str | None) -> _Visitor | None:
        """The site version and the visitor's session, in one statement; ``None``
        if this request must go to Flask."""
        # The version's row, with the session's columns when there is one.
        row: t.Any
        try:
            with self.engine.connect() as connection:
                if session_id is None:
                    row = connection.execute(self._version_query).first()
                else:
                    row = connection.execute(
                        self._session_query, {"session_id": session_id}
                    ).first()
            if row is None:
                return None
            due = row.next_publication
            if due is not None and due <= utcnow():
                # A scheduled post's time has come: kept pages do not show
                # it. Move the version for every server (in a transaction of
                # its own); this request is rendered afresh.
                with self.engine.connect() as writer:
                    publish_due(writer)
                return None
            stamp = (row.value, row.reactions)
            self._catch_up(stamp)
        except SQLAlchemyError:
            return None  # Flask shows the error page, or recovers.
        if session_id is None:
            return _Visitor(stamp, None)
        if row.created is None or not self._session_is_quiet(row):
            return None
        return _Visitor(stamp, row.user_id)

    def _catch_up(self, stamp: Stamp) -> None:
        """Drop the pages that the changes up to ``stamp`` make stale: all of
        them after an edit, those showing the reacted posts' reactions after
        likes and comments only."""
        value, reactions = stamp
        with self._lock:
            since = self._reactions
            if value != self._version:
                self._forget_all(stamp)
                return
        if reactions <= since:
            return
        # Every post stamped after ``since``, including any stamped after this
        # request's read: dropping a few pages more is exact too.
        with self.engine.connect() as connection:
            reacted = connection.execute(self._reacted_query, {"since": since}).all()
        with self._lock:
            if value != self._version:
                return  # another request saw an edit and dropped everything
            stale = set(self._pages_of_anyone)
            for post_id, stamped in reacted:
                stale.update(self._pages_of_post.get(post_id, ()))
                self._reacted[post_id] = max(stamped, self._reacted.get(post_id, -1))
            for key in stale:
                self._drop(key)
            self._reactions = max(self._reactions, reactions)
            if len(self._reacted) > _REACTED_REMEMBERED:
                # Older pages of the shared tier are checked in the database.
                self._reacted.clear()
                self._reacted_since = self._reactions

    def _session_is_quiet(self, row: sa.Row[t.Any]) -> bool:
        """Whether serving a kept page leaves nothing undone for this session:
        it is live, needs no "last seen" write and has no message waiting."""
        config = self.app.config
        now = utcnow()
        if is_expired(
            config,
            created=row.created,
            last_seen=row.last_seen,
            logged_in=row.user_id is not None,
            now=now,
        ):
            return False
        if needs_touch(config, last_seen=row.last_seen, now=now):
            return False
        return "_flashes" not in json.loads(row.data)

    def _find(self, key: _Key) -> KeptPage | None:
        """The kept page for ``key``, if it is young enough (the caller caught
        up with the versions first, which dropped the stale ones)."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            age = time.monotonic() - page.stored
            if age > self.max_age:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def _serve(
        self,
        page: KeptPage,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
        visitor: _Visitor,
    ) -> list[bytes]:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        headers, body = page.answer(environ)
        start_response(page.status, [*headers, (REQUEST_ID_HEADER, request_id)])
        log_access(
            request_id=request_id,
            method="GET",
            path=environ.get("PATH_INFO", ""),
            status=int(page.status[:3]),
            started=started,
            address=environ.get("REMOTE_ADDR"),
            user_id=visitor.user_id,
            size=len(body),
            cached=True,
        )
        return [body]

    def _render_and_keep(
        self,
        key: _Key,
        stamp: Stamp,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        name: str | None = None,
    ) -> t.Iterable[bytes]:
        """Let Flask render the page, and keep it in this process (and under
        ``name`` in the shared tier, if given) if it may be kept."""
        sent: list[tuple[str, list[tuple[str, str]]]] = []

        def remember_start(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            sent.append((status, headers))
            return start_response(status, headers, exc_info)

        shown = environ[SHOWN_KEY] = Shown()
        body = self.wsgi_app(environ, remember_start)
        if not sent:
            return body
        status, headers = sent[-1]
        if (
            not status.startswith("200")
            or any(name.lower() == "set-cookie" for name, _ in headers)
            or not varies_only_on_the_key(headers)
        ):
            return body
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        kept_headers = [
            (name, value) for name, value in headers if name != REQUEST_ID_HEADER
        ]
        posts = None if shown.posts is None else frozenset(shown.posts)
        stored, compressed = stored_form(kept_headers, content)
        page = KeptPage.made(
            stamp,
            time.monotonic(),
            status,
            kept_headers,
            stored,
            compressed=compressed,
            posts=posts,
        )
        self._keep(key, page)
        if name is not None and self.shared is not None and stamp[0] == self._version:
            entry = SharedEntry(
                value=stamp[0],
                reactions=stamp[1],
                posts=posts,
                stored=time.time(),
                status=status,
                headers=kept_headers,
                body=stored,
                compressed=compressed,
            )
            self.shared.keep(name, entry)
        return [content]

    def _asked_before(self, key: _Key) -> bool:
        """Whether ``key``'s page was rendered lately (and remember it was now).

        Only such pages are kept: a page asked for once (a crawler walking
        every list, a search nobody repeats) would push popular ones out. The
        memory of what was asked outlives site versions, so after a change a
        popular page is kept again at its first request.
        """
        marker = hash(key)
        with self._lock:
            asked = marker in self._seen
            self._seen.pop(marker, None)  # and put it back as the newest
            self._seen[marker] = None
            while len(self._seen) > self._max_seen:
                del self._seen[next(iter(self._seen))]
        return asked

    def _keep(self, key: _Key, page: KeptPage) -> None:
        size = len(page.body)
        if size * _LARGEST_SHARE > self.max_bytes:
            return
        with self._lock:
            if page.stamp != (self._version, self._reactions):
                return  # The site changed while this page was rendered.
            self._drop(key)
            self._pages[key] = page
            if page.posts is None:
                self._pages_of_anyone.add(key)
            else:
                for post_id in page.posts:
                    self._pages_of_post.setdefault(post_id, set()).add(key)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: _Key) -> None:
        """Forget one page (the caller holds the lock)."""
        page = self._pages.pop(key, None)
        if page is None:
            return
        self._bytes -= len(page.body)
        if page.posts is None:
            self._pages_of_anyone.discard(key)
            return
        for post_id in page.posts:
            keys = self._pages_of_post[post_id]
            keys.discard(key)
            if not keys:
                del self._pages_of_post[post_id]

    def _forget_all(self, stamp: Stamp) -> None:
        """Every kept page is from before an edit: free them at once (the
        caller holds the lock)."""
        self._pages.clear()
        self._pages_of_post.clear()
        self._pages_of_anyone.clear()
        self._bytes = 0
        self._version, self._reactions = stamp
        self._reacted.clear()
        self._reacted_since = self._reactions

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask) -> None:
    """Put the page cache in front of ``app`` (unless ``PAGE_CACHE_BYTES`` is 0).

    Call it before anything else wraps ``app.wsgi_app`` (``ProxyFix``), so the
    host and scheme in its keys are the ones the proxy reported.
    """
    if app.config["PAGE_CACHE_BYTES"] > 0:
        cache = PageCache(app, app.wsgi_app)
        # Wrapping wsgi_app is Flask's documented way to add WSGI middleware.
        app.wsgi_app = cache  # type: ignore[method-assign]
        if cache.shared is not None:
            forgets = app.extensions.setdefault(DATABASE_MADE_ANEW, [])
            forgets.append(cache.shared.forget_all)
