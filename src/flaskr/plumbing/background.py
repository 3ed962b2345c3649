"""Due work on a timer in every server process, whatever the traffic.

Each process that serves requests runs one daemon thread that, every
``BACKGROUND_INTERVAL`` seconds, moves the site version when a scheduled post's
time has come, hands due events to their handlers (new posts to their
subscribers among them), writes the weekly digests that are due and forgets
addresses that never confirmed (an hour apart at most), sends due mail, and
then delivers due activities to remote inboxes (``services/federation/delivery.py``).
Until it existed, retries waited for a response that reached Flask, so a
site whose readers were all served kept pages (``page_cache``) never retried
a mail.

The thread starts after gunicorn forks a worker (``post_worker_init`` in
``gunicorn.conf.py``), or with the first request that reaches Flask on other
servers; never in the process that forked, since a thread does not survive a
fork. Every step is safe in any number of processes at once, and each is also
a command for cron (``send-mail``, ``deliver-events``, ``send-digests``,
``deliver-federation``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import typing as t

import sqlalchemy as sa
from flask import Flask

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import SiteVersion
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.content.lifecycle import publish_due
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.federation.delivery import deliver_due as deliver_federation
from flaskr.services.social.newsletter import send_weekly_digests
from flaskr.services.social.subscriptions import purge_unconfirmed

logger = logging.getLogger("flaskr.background")

#: Where ``init_app`` keeps the app's :class:`BackgroundWork`.
EXTENSION = "flaskr.background"
#: Seconds between a process's looks for weekly digests that are due: a
#: digest waits a week anyway, and each look reads the subscribers.
DIGEST_CHECK_EVERY = 3600.0


def move_version_if_a_post_is_due() -> bool:
    """Move the site version if a scheduled post's time has come (one indexed
    read when none has); whether this call moved it."""
    due = db.session.scalar(
        sa.select(SiteVersion.next_publication).where(SiteVersion.id == 1)
    )
    db.session.rollback()  # end the read before writing on another connection
    if due is None or due > utcnow():
        return False
    with db.engine.connect() as connection:
        return publish_due(connection)


class BackgroundWork:
    """The timer thread of one app in one process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._started_in: int | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_digest_check = 0.0

    def start(self) -> bool:
        """Start this process's thread, unless it runs already or the interval
        is 0; whether this call started it."""
        if self._started_in == os.getpid():
            return False  # every request asks: the answer is nearly always this
        interval = float(self.app.config["BACKGROUND_INTERVAL"])
        if interval <= 0:
            return False
        with self._lock:
            if self._started_in == os.getpid():
                return False
            self._started_in = os.getpid()
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), name="flaskr-background", daemon=True
        )
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop the thread and wait for its current round to end (for tests:
        a round left running would hold a connection of an app that is gone)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.run_once()

    def run_once(self) -> None:
        """One round: each step in turn, a failing step logged and retried at
        the next round."""
        with self.app.app_context():
            # Events first: their handlers record mail that then goes out.
            for step in (move_version_if_a_post_is_due, deliver_due_events):
                self._run(step)
            if time.monotonic() >= self._next_digest_check:
                self._next_digest_check = time.monotonic() + DIGEST_CHECK_EVERY
                self._run(send_weekly_digests)
                self._run(purge_unconfirmed)
            self._run(deliver_due_mail)
            # Last: a slow remote inbox must not hold up the site's mail.
            self._run(deliver_federation)

    def _run(self, step: t.Callable[[], object]) -> None:
        try:
            step()
        except Exception:  # the thread must outlive a database that is away
            db.session.rollback()
            logger.exception("background step %s failed", step.__name__)


def init_app(app: Flask) -> None:
    work = BackgroundWork(app)
    app.extensions[EXTENSION] = work

    @app.before_request
    def start_background_work() -> None:
        work.start()
