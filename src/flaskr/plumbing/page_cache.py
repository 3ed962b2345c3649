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

This is WSGI middleware in front of Flask, not a Flask extension, because a hit
must cost less than Flask itself does (bench/README.md): one statement (the
version, with the session row when there is a cookie), a dictionary look-up and
the access-log line. No library did this with per-session keys and a version
kept by the database, so it is written here.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import threading
import time
import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuthSession
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.plumbing.operations import log_access
from flaskr.plumbing.operations import request_id_for
from flaskr.plumbing.operations import REQUEST_ID_HEADER
from flaskr.plumbing.read_only import autocommit_engine
from flaskr.services.accounts.sessions import is_expired
from flaskr.services.accounts.sessions import needs_touch
from flaskr.services.accounts.sessions import session_id_from_cookie
from flaskr.services.content.lifecycle import publish_due

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

#: The attribute :func:`kept_per_visitor` sets on a view function.
_KEPT_ATTRIBUTE = "page_cache_kept_per_visitor"

#: Where a request's :class:`_Shown` waits for the view (in the WSGI environ).
_SHOWN_KEY = "flaskr.page_cache.shown"

#: Requests that ask for something other than the whole current page, or
#: whose answer depends on a header the key leaves out (CORS answers ``Origin``).
_PASS_THROUGH_HEADERS = (
    "HTTP_AUTHORIZATION",
    "HTTP_ORIGIN",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_RANGE",
)


#: Request headers a kept answer may vary on (its ``Vary``): the key holds the
#: session (all that kept views read of ``Cookie``) and ``Accept``, and requests
#: with the others pass through. An answer varying on another header is not kept.
_KEYED_HEADERS = frozenset({"cookie", "accept", "origin", "authorization"})


class _Cookie(enum.Enum):
    #: A session cookie with a signature that is not this site's.
    FOREIGN = "foreign"


#: One page may use at most this share of the cache.
_LARGEST_SHARE = 8

#: How many recently rendered pages are remembered (as hashes of their keys)
#: per this many bytes of cache, to keep only pages asked for twice.
_SEEN_PER_BYTES = 2048

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
    setattr(view, _KEPT_ATTRIBUTE, True)
    return view


class _Shown:
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
    shown = request.environ.get(_SHOWN_KEY)
    if shown is None:
        return  # not a kept page, or no page cache
    if shown.posts is None:
        shown.posts = set()
    shown.posts.update(post_ids)


#: The versions a page was rendered at: ``(value, reactions)``.
_Stamp = tuple[int, int]


@dataclasses.dataclass(frozen=True, slots=True)
class _Page:
    stamp: _Stamp
    stored: float
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    #: The posts whose reactions it shows; ``None`` for anyone's.
    posts: frozenset[int] | None


#: (session row id or None, scheme, host, path, query string, Accept or None)
_Key = tuple[str | None, str, str, str, str, str | None]


class _Visitor(t.NamedTuple):
    """What the state read found: the versions, and the session's user if any."""

    stamp: _Stamp
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
        self._pages: collections.OrderedDict[_Key, _Page] = collections.OrderedDict()
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
        #: Requests answered from memory since the process started.
        self.hits = 0
        self._lock = threading.Lock()
        self._version_query = sa.select(
            SiteVersion.value, SiteVersion.reactions, SiteVersion.next_publication
        ).where(SiteVersion.id == 1)
        self._reacted_query = sa.select(Post.id).where(
            Post.reactions_version > sa.bindparam("since")
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
        # Other pages cost no statement of ours, and neither does a page asked
        # for the first time lately: it can be neither served from here nor
        # kept, so the version is not needed.
        if key not in self._pages and (
            not self._is_kept(environ) or not self._asked_before(key)
        ):
            return self.wsgi_app(environ, start_response)
        visitor = self._read_visitor(session_id)
        if visitor is None:
            return self.wsgi_app(environ, start_response)
        page = self._find(key)
        if page is not None:
            return self._serve(page, environ, start_response, started, visitor)
        return self._render_and_keep(key, visitor.stamp, environ, start_response)

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
        return getattr(view, _KEPT_ATTRIBUTE, False)

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

    def _catch_up(self, stamp: _Stamp) -> None:
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
            reacted = connection.scalars(self._reacted_query, {"since": since}).all()
        with self._lock:
            if value != self._version:
                return  # another request saw an edit and dropped everything
            stale = set(self._pages_of_anyone)
            for post_id in reacted:
                stale.update(self._pages_of_post.get(post_id, ()))
            for key in stale:
                self._drop(key)
            self._reactions = max(self._reactions, reactions)

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

    def _find(self, key: _Key) -> _Page | None:
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
        page: _Page,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
        visitor: _Visitor,
    ) -> list[bytes]:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response(page.status, [*page.headers, (REQUEST_ID_HEADER, request_id)])
        log_access(
            request_id=request_id,
            method="GET",
            path=environ.get("PATH_INFO", ""),
            status=int(page.status[:3]),
            started=started,
            address=environ.get("REMOTE_ADDR"),
            user_id=visitor.user_id,
            size=len(page.body),
            cached=True,
        )
        return [page.body]

    def _render_and_keep(
        self,
        key: _Key,
        stamp: _Stamp,
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> t.Iterable[bytes]:
        sent: list[tuple[str, list[tuple[str, str]]]] = []

        def remember_start(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            sent.append((status, headers))
            return start_response(status, headers, exc_info)

        shown = environ[_SHOWN_KEY] = _Shown()
        body = self.wsgi_app(environ, remember_start)
        if not sent:
            return body
        status, headers = sent[-1]
        if (
            not status.startswith("200")
            or any(name.lower() == "set-cookie" for name, _ in headers)
            or not _varies_only_on_the_key(headers)
            or not self._asked_before(key)
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
        page = _Page(stamp, time.monotonic(), status, kept_headers, content, posts)
        self._keep(key, page)
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

    def _keep(self, key: _Key, page: _Page) -> None:
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

    def _forget_all(self, stamp: _Stamp) -> None:
        """Every kept page is from before an edit: free them at once (the
        caller holds the lock)."""
        self._pages.clear()
        self._pages_of_post.clear()
        self._pages_of_anyone.clear()
        self._bytes = 0
        self._version, self._reactions = stamp

    def __len__(self) -> int:
        return len(self._pages)


def _varies_only_on_the_key(headers: list[tuple[str, str]]) -> bool:
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


def init_app(app: Flask) -> None:
    """Put the page cache in front of ``app`` (unless ``PAGE_CACHE_BYTES`` is 0).

    Call it before anything else wraps ``app.wsgi_app`` (``ProxyFix``), so the
    host and scheme in its keys are the ones the proxy reported.
    """
    if app.config["PAGE_CACHE_BYTES"] > 0:
        # Wrapping wsgi_app is Flask's documented way to add WSGI middleware.
        app.wsgi_app = PageCache(app, app.wsgi_app)  # type: ignore[method-assign]
