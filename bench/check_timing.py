"""The apps as the benchmark serves them, each able to say where a login's time
went inside the worker while wrk was loading it: in the password check, and in
the app as a whole (the rest of a login's time is gunicorn's and the system's).

A check timed in the runner between rounds is not the check the logins made: on
a busy machine it was up to 10% faster than the same check in the worker, and
the bare login, which does nothing but the check, moved between +4% and +12%
from one run to the next. Timing it in the worker, in the same requests, leaves
only the rest of the request in the difference (the bare login's stays at ~5%:
gunicorn's and the system's part). Every app served here pays the same timers (two
clock reads per check and per POST) and the same path comparison per request.

``GET /_bench/check-time`` answers ``CHECKS CHECK_SECONDS POSTS APP_SECONDS``
for the checks and the POST requests since the last such request, and starts
counting again. ``GET /_bench/page-cache-hits`` answers how many requests
Flaskr's page cache answered since the worker started (0 without one): the
count of whichever worker took the request. With several workers, set
``BENCH_HITS_FOLDER`` (:data:`HITS_FOLDER`) to an empty folder: each worker of
Flaskr then keeps its count in a file there named after its process id, and
:func:`all_page_cache_hits` adds them up.
"""

from __future__ import annotations

import dataclasses
import functools
import mmap
import os
import time
import typing as t
from pathlib import Path

from flaskr.services.accounts.passwords import Passwords

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

PATH = "/_bench/check-time"
HITS_PATH = "/_bench/page-cache-hits"
#: The environment variable naming the folder of every worker's hits.
HITS_FOLDER = "BENCH_HITS_FOLDER"
_COUNT_BYTES = 8


@dataclasses.dataclass
class _Clock:
    """What this process measured since the last reading."""

    checks: int = 0
    check_seconds: float = 0.0
    posts: int = 0
    app_seconds: float = 0.0

    def read_and_reset(self) -> str:
        reading = " ".join(map(repr, dataclasses.astuple(self)))
        for field in dataclasses.fields(self):
            setattr(self, field.name, field.default)
        return reading


_clock = _Clock()


@functools.cache  # once per process
def _time_checks() -> None:
    untimed_verify = Passwords.verify

    @functools.wraps(untimed_verify)
    def timed_verify(
        self: Passwords, stored_hash: str, password: str
    ) -> tuple[bool, bool]:
        started = time.perf_counter()
        try:
            return untimed_verify(self, stored_hash, password)
        finally:
            _clock.check_seconds += time.perf_counter() - started
            _clock.checks += 1

    Passwords.verify = timed_verify  # type: ignore[method-assign]


def _timed(app: WSGIApplication) -> WSGIApplication:
    _time_checks()

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> t.Any:
        if environ["PATH_INFO"] in (PATH, HITS_PATH):
            if environ["PATH_INFO"] == PATH:
                body = _clock.read_and_reset().encode()
            else:  # Flask's app, wrapped by the page cache (if it is on)
                body = str(getattr(getattr(app, "wsgi_app", None), "hits", 0)).encode()
            start_response(
                "200 OK",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if environ["REQUEST_METHOD"] != "POST":
            return app(environ, start_response)
        # A login's answer is a short redirect: read it whole, inside the timer.
        started = time.perf_counter()
        response = app(environ, start_response)
        try:
            chunks = list(response)
        finally:
            getattr(response, "close", lambda: None)()
            _clock.app_seconds += time.perf_counter() - started
            _clock.posts += 1
        return chunks

    return serve


def _hits_kept_in(
    folder: Path, page_cache: t.Any, app: WSGIApplication
) -> WSGIApplication:
    """``app`` writing ``page_cache``'s hits to a file of ``folder`` (named
    after this process) after each request. The file is mapped into memory, so
    a write costs what setting eight bytes does, not a system call."""
    path = folder / str(os.getpid())
    path.write_bytes(bytes(_COUNT_BYTES))
    with path.open("r+b") as file:  # the mapping outlives the open file
        count = mmap.mmap(file.fileno(), _COUNT_BYTES)

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> t.Any:
        # The page cache counts a hit before it returns the page.
        response = app(environ, start_response)
        count[:] = page_cache.hits.to_bytes(_COUNT_BYTES, "little")
        return response

    return serve


def all_page_cache_hits(folder: Path) -> int:
    """How many requests the page caches of every worker that kept its count
    in ``folder`` answered (workers that have stopped included)."""
    return sum(int.from_bytes(path.read_bytes(), "little") for path in folder.iterdir())


def flaskr() -> WSGIApplication:
    """Flaskr, configured from the environment as ``create_app()`` is."""
    from flaskr import create_app

    app = create_app()
    served = _timed(app)
    folder = os.environ.get(HITS_FOLDER)
    page_cache = app.wsgi_app  # wrapped by the page cache if it is on
    if folder and hasattr(page_cache, "hits"):
        served = _hits_kept_in(Path(folder), page_cache, served)
    return served


def yardsticks() -> WSGIApplication:
    """The bare app and the two yardstick logins of ``hello.py``."""
    import hello

    return _timed(hello.app)
