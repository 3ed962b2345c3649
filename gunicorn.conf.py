"""gunicorn settings for Flaskr: ``gunicorn 'flaskr:create_app()'`` reads this file
from the current folder (or pass ``-c gunicorn.conf.py``). Each setting can be
changed by the environment variable named beside it."""

import ctypes
import faulthandler
import functools
import gc
import multiprocessing
import os
import signal
import threading
import time
import typing

#: Where to listen. Put a reverse proxy (TLS, buffering of slow clients) in front.
bind = os.environ.get("FLASKR_BIND", "127.0.0.1:8000")

#: One worker per core, each with a few threads (gthread): chosen with the spike
#: through nginx (bench/README.md, "A spike through the front"). Each worker
#: keeps its own pages and renders them again after every write, so more
#: workers than cores cost more renders and only take turns on the cores;
#: threads keep a worker serving kept pages while one request waits on the
#: database or sends a mail after its response. WEB_CONCURRENCY (gunicorn's own
#: variable), FLASKR_WORKER_CLASS (``sync`` serves one request at a time per
#: worker) and FLASKR_THREADS override.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = os.environ.get("FLASKR_WORKER_CLASS", "gthread")
threads = int(os.environ.get("FLASKR_THREADS", 4))

#: A request taking longer than this is killed and its worker replaced.
timeout = int(os.environ.get("FLASKR_TIMEOUT", 30))

#: On SIGTERM, workers finish the requests they have for up to this long before
#: they are stopped: a deployment or a scale-in loses no request.
graceful_timeout = int(os.environ.get("FLASKR_GRACEFUL_TIMEOUT", 30))

#: Replace each worker after this many requests (plus jitter, so they do not
#: all restart at once); 0, the default, never does. Flaskr's memory does not
#: grow (its page cache has a fixed size), and each restart stalls the worker's
#: requests, which shows in the slowest requests' latency under load
#: (docs/performance.md has the figures).
max_requests = int(os.environ.get("FLASKR_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10

#: Keep-alive behind a proxy on the same network.
keepalive = 5

#: Flaskr logs each request itself, as a JSON line with its request id
#: (logger ``flaskr.access``), so gunicorn's access log is off; errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("FLASKR_LOG_LEVEL", "info")

#: Heartbeat files in memory, not on a disk that may stall.
_SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn recommends it for heartbeats)
worker_tmp_dir = _SHARED_MEMORY if os.path.isdir(_SHARED_MEMORY) else None

#: A worker hands the memory it freed back to the system once it has gone this
#: many seconds without a request, or without a password check while it keeps
#: serving pages (0 never does). glibc keeps freed memory for reuse: a login's
#: argon2 check allocates its working memory, which stays resident after it,
#: and releasing it after every login would cost each one page faults. Waiting until
#: logins stop keeps a stream of them fast and the worker small afterwards.
trim_memory_after = float(os.environ.get("FLASKR_TRIM_MEMORY_AFTER", 2))


class MemoryTrimmer:
    """Calls ``trim`` once ``after`` seconds have passed since the worker's last
    request (checked by a background thread), and once ``after`` seconds have
    passed since ``last_hash()``, the last argon2 run, checked after each request.
    Each moment is trimmed for once, and never while one of the worker's threads
    is serving a request."""

    def __init__(
        self,
        after: float,
        trim: typing.Callable[[], object],
        last_hash: typing.Callable[[], float | None] = lambda: None,
    ) -> None:
        self.after = after
        self.trim = trim
        self.last_hash = last_hash
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_request = time.monotonic()
        self._trimmed_idle = False
        self._trimmed_hash: float | None = None

    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._last_request = time.monotonic()
            self._trimmed_idle = False

    def trim_if_due(self) -> bool:
        """Trim if it is time; return whether it did."""
        last_hash = self.last_hash()
        with self._lock:
            now = time.monotonic()
            idle = not self._trimmed_idle and now - self._last_request >= self.after
            hashes_stopped = (
                last_hash is not None
                and last_hash != self._trimmed_hash
                and now - last_hash >= self.after
            )
            if self._in_flight or not (idle or hashes_stopped):
                return False
            self._trimmed_idle = True
            self._trimmed_hash = last_hash
        self.trim()
        return True

    def start(self) -> None:
        def watch() -> None:
            while True:
                time.sleep(self.after / 2)
                self.trim_if_due()

        threading.Thread(target=watch, name="memory-trimmer", daemon=True).start()


def _malloc_trim() -> typing.Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or ``None`` on a C library without it."""
    try:
        return functools.partial(ctypes.CDLL("libc.so.6").malloc_trim, 0)
    except (OSError, AttributeError):
        return None


def post_worker_init(worker: typing.Any) -> None:
    # The app is loaded: what it made lives as long as the worker, so the
    # garbage collector need not walk it again on every full collection
    # (logins measured faster, bench/README.md).
    gc.freeze()
    # ``kill -USR2 <worker pid>`` writes every thread's stack to the error log:
    # how to see what a stuck worker (or its timer thread) waits on. gunicorn
    # leaves USR2 at its default in workers, which would end the worker.
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    post_fork_work(worker)
    trim = _malloc_trim()
    if trim_memory_after > 0 and trim is not None:
        from flaskr.services.accounts.passwords import last_argon2_run

        worker.flaskr_trimmer = MemoryTrimmer(trim_memory_after, trim, last_argon2_run)
        worker.flaskr_trimmer.start()


def post_fork_work(worker: typing.Any) -> None:
    """Start the worker's timer for due mail, events and scheduled posts
    (``flaskr/plumbing/background.py``): after the fork, since a thread does
    not survive one, and before any request, since kept pages never reach
    Flask."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    if "flaskr.background" in extensions:
        extensions["flaskr.background"].start()


def pre_request(worker: typing.Any, request: typing.Any) -> None:
    if hasattr(worker, "flaskr_trimmer"):
        worker.flaskr_trimmer.request_started()


def post_request(
    worker: typing.Any, request: typing.Any, environ: typing.Any, response: typing.Any
) -> None:
    if hasattr(worker, "flaskr_trimmer"):
        worker.flaskr_trimmer.request_finished()
        worker.flaskr_trimmer.trim_if_due()
