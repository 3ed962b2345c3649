"""Federation delivery on two gunicorn servers sharing PostgreSQL: every
worker's timer sends due activities to a slow remote inbox, one server is
killed with SIGKILL in the middle, and every activity still arrives, each
once but for a POST the killed server had in flight (receivers dedupe by
activity id; docs/operations.md).

Run with ``./dev.sh multiserver`` (it needs PostgreSQL and Redis, as
``test_two_servers.py`` says), or alone on a database of its own:
``FLASKR_TEST_DATABASE_URL=... pytest -m multiserver tests/multiserver/<this file>``.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.fediverse import Received
from tests.fediverse import RemoteServer
from tests.helpers import free_port
from tests.multiserver.conftest import DATABASE
from tests.multiserver.conftest import REDIS
from tests.multiserver.conftest import ROOT
from tests.multiserver.conftest import unique
from tests.multiserver.conftest import wait_until_healthy

pytestmark = pytest.mark.multiserver

if t.TYPE_CHECKING:
    from flask import Flask

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
POSTS = 12
#: How long the remote inbox takes to answer each POST.
SLOW = 0.4


class SlowInboxes(RemoteServer):
    """A remote server whose inboxes record a POST, then answer after
    :data:`SLOW` seconds."""

    def _wsgi(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        if request.method != "POST" or not request.path.endswith("inbox"):
            return super()._wsgi(environ, start_response)
        body = request.get_data()
        with self._lock:
            self.received.append(
                Received("POST", request.path, dict(request.headers.items()), body)
            )
        time.sleep(SLOW)
        return Response(b"", status=202)(environ, start_response)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def inbox() -> t.Iterator[SlowInboxes]:
    with SlowInboxes() as server:
        yield server


@pytest.fixture(scope="module")
def federating_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[list[subprocess.Popen[bytes]]]:
    """Two gunicorn servers (two workers each) that federate with loopback
    peers; the test may kill one."""
    shared = {
        "FLASKR_BACKGROUND_INTERVAL": "0.5",
        "FLASKR_DATABASE_URL": DATABASE,
        "FLASKR_RATELIMIT_STORAGE_URI": REDIS,
        "FLASKR_RATELIMIT_KEY_PREFIX": secrets.token_hex(8),
        "FLASKR_SECRET_KEY": secrets.token_hex(32),
        "FLASKR_SITE_URL": "http://localhost",
        "FLASKR_FEDERATION_ALLOW_HTTP": "true",
        "FLASKR_FEDERATION_ALLOW_PRIVATE": "true",
        "WEB_CONCURRENCY": "2",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(2):
            env = {
                **os.environ,
                **shared,
                "FLASKR_INSTANCE_PATH": str(tmp_path_factory.mktemp(f"fed{number}")),
            }
            if number == 0:
                subprocess.run(  # noqa: S603
                    [
                        sys.executable,
                        "-m",
                        "flask",
                        "--app",
                        "flaskr",
                        "init-db",
                        "--yes",
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                )
            url = f"http://127.0.0.1:{free_port()}"
            conf = str(ROOT / "gunicorn.conf.py")
            process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "gunicorn", "-c", conf,
                    "--bind", url.removeprefix("http://"), "flaskr:create_app()",
                ],
                env=env,
                cwd=ROOT,
            )  # fmt: skip
            processes.append(process)
            wait_until_healthy(url, process)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(timeout=40)


@pytest.fixture(scope="module")
def recorder() -> t.Iterator[Flask]:
    """An app on the servers' database that writes, and never serves."""
    from flaskr import create_app
    from flaskr.db import db
    from tests.conftest import FEDERATION_TEST_CONFIG
    from tests.conftest import make_config

    app = create_app(make_config(DATABASE, **FEDERATION_TEST_CONFIG))
    yield app
    with app.app_context():
        db.engine.dispose()


def wait_until(condition: t.Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def deliveries(recorder: Flask, signer: str) -> list[t.Any]:
    from flaskr.db import db
    from flaskr.models import FederationDelivery

    with recorder.app_context():
        rows = db.session.execute(
            sa.select(
                FederationDelivery.id,
                FederationDelivery.activity_id,
                FederationDelivery.inbox,
                FederationDelivery.next_attempt,
                FederationDelivery.attempts,
                FederationDelivery.done,
            ).where(FederationDelivery.signer == signer)
        ).all()
        db.session.rollback()
        return list(rows)


def test_every_activity_arrives_after_a_server_is_killed(
    federating_servers, inbox, recorder
):
    from flaskr.db import db
    from flaskr.models import FederationDelivery
    from flaskr.models import RemoteActor
    from flaskr.models import RemoteFollower
    from flaskr.services.accounts.users import register_user
    from flaskr.services.content.writing import create_post

    with recorder.app_context():
        writer = register_user(unique("writer"), "multi-server passphrase")
        for name, shared in (("ann", True), ("bob", True), ("cat", False)):
            remote = inbox.add_user(unique(name))
            actor = RemoteActor(
                uri=remote.uri,
                domain=inbox.base.removeprefix("http://"),
                inbox=remote.inbox,
                shared_inbox=f"{inbox.base}/inbox" if shared else None,
                username=remote.name,
                key_id=remote.key_id,
                public_key_pem=remote.public_pem,
            )
            db.session.add(actor)
            db.session.flush()
            db.session.add(
                RemoteFollower(
                    user_id=writer.id, actor_id=actor.id, follow_id=remote.uri + "#f"
                )
            )
        db.session.commit()
        signer = str(writer.id)
        for number in range(POSTS):
            create_post(writer, f"Post {number}", "text", tags=[], publish=True)
    expected = POSTS * 2  # the shared inbox once, cat's own inbox

    # Kill one server, workers and all, while POSTs are under way.
    wait_until(lambda: len(inbox.inbox_posts()) >= 4)
    victim = federating_servers[0]
    workers = children_of(victim.pid)
    for pid in [victim.pid, *workers]:
        os.kill(pid, signal.SIGKILL)
    victim.wait()

    # The live server sends what the dead one had not claimed; the dead
    # one's claims hold until their lease ends (made to end now, once the
    # live server has had nothing left to send for a while).
    quiet_since, last_done = time.monotonic(), -1
    deadline = time.monotonic() + 90
    while True:
        assert time.monotonic() < deadline, "timed out"
        rows = deliveries(recorder, signer)
        done = sum(row.done is not None for row in rows)
        now = dt.datetime.now(dt.UTC)
        claimed = all(row.next_attempt > now for row in rows if row.done is None)
        if done != last_done or len(rows) != expected or not claimed:
            quiet_since, last_done = time.monotonic(), done
        elif time.monotonic() - quiet_since > 4 * SLOW + 2:
            break
        time.sleep(0.2)
    dead_claims = {row.id for row in rows if row.done is None}
    assert dead_claims, "the killed server held claims"
    with recorder.app_context():
        db.session.execute(
            sa.update(FederationDelivery)
            .where(FederationDelivery.id.in_(dead_claims))
            .values(next_attempt=LONG_AGO)
        )
        db.session.commit()

    wait_until(lambda: all(r.done for r in deliveries(recorder, signer)))
    time.sleep(1.5)  # three more rounds of every timer: nothing new
    rows = deliveries(recorder, signer)
    arrivals = collections.Counter(
        (item.path, item.json()["id"]) for item in inbox.inbox_posts()
    )
    wanted = {(row.inbox.removeprefix(inbox.base), row.activity_id) for row in rows}
    assert set(arrivals) == wanted, "every activity reached every inbox"
    repeated = {pair for pair, count in arrivals.items() if count > 1}
    assert all(count <= 2 for count in arrivals.values())
    # Only a POST the killed server had in flight went again: at most one
    # per killed worker, and only of its claims.
    assert len(repeated) <= len(workers)
    in_dead_claims = {
        (row.inbox.removeprefix(inbox.base), row.activity_id)
        for row in rows
        if row.id in dead_claims
    }
    assert repeated <= in_dead_claims
