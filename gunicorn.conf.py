"""gunicorn settings for Flaskr: ``gunicorn 'flaskr:create_app()'`` reads this file
from the current folder (or pass ``-c gunicorn.conf.py``). Each setting can be
changed by the environment variable named beside it."""

import multiprocessing
import os

#: Where to listen. Put a reverse proxy (TLS, buffering of slow clients) in front.
bind = os.environ.get("FLASKR_BIND", "127.0.0.1:8000")

#: Sync workers: each handles one request at a time. gunicorn's rule of thumb is
#: two per core plus one; WEB_CONCURRENCY (gunicorn's own variable) overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

#: A request taking longer than this is killed and its worker replaced.
timeout = int(os.environ.get("FLASKR_TIMEOUT", 30))

#: On SIGTERM, workers finish the requests they have for up to this long before
#: they are stopped: a deployment or a scale-in loses no request.
graceful_timeout = int(os.environ.get("FLASKR_GRACEFUL_TIMEOUT", 30))

#: Replace each worker after this many requests (plus jitter, so they do not
#: all restart at once); 0, the default, never does. Flaskr's memory does not
#: grow (its page cache has a fixed size), and each restart stalls the worker's
#: requests for up to half a second: with it at 10,000, p99 latency was 500 ms
#: instead of 1.3 ms under load (bench/README.md).
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
