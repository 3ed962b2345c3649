"""The event line on two gunicorn servers sharing PostgreSQL: every worker's
timer delivers events at once, with no request at all, and each event reaches
each handler once, also after a process that claimed some was killed with
SIGKILL in the middle of a handler.

Run with ``./dev.sh multiserver`` (it needs PostgreSQL and Redis, as
``test_two_servers.py`` says).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import typing as t

import pytest
import sqlalchemy as sa

from tests.multiserver.conftest import DATABASE
from tests.multiserver.conftest import PASSWORD
from tests.multiserver.conftest import ROOT
from tests.multiserver.conftest import unique

pytestmark = pytest.mark.multiserver

if t.TYPE_CHECKING:
    from flask import Flask

    from tests.conftest import SmtpServer

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def recorder() -> t.Iterator[Flask]:
    """An app on the servers' database that records, and never serves."""
    from flaskr import create_app
    from flaskr.db import db
    from tests.conftest import make_config

    app = create_app(make_config(DATABASE, MAIL_SERVER="127.0.0.1"))
    yield app
    with app.app_context():
        db.engine.dispose()


class Blog(t.NamedTuple):
    writer_address: str
    reader_id: int
    post_id: int


def a_blog(recorder: Flask) -> Blog:
    """A writer with a confirmed address, a reader and a post."""
    from flaskr.db import db
    from flaskr.services.accounts.users import register_user
    from flaskr.services.content.writing import create_post

    with recorder.app_context():
        writer = register_user(unique("writer"), PASSWORD)
        address = f"{writer.username}@example.org"
        writer.email = writer.email_key = address
        db.session.commit()
        reader = register_user(unique("reader"), PASSWORD)
        post = create_post(writer, unique("Events "), "text", tags=[], publish=True)
        return Blog(address, reader.id, post.id)


def wait_until(condition: t.Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def comment_deliveries(recorder: Flask, post_id: int) -> list[t.Any]:
    from flaskr.db import db
    from flaskr.models import Event
    from flaskr.models import EventDelivery

    with recorder.app_context():
        rows = db.session.execute(
            sa.select(Event.id, EventDelivery.handler, EventDelivery.done)
            .add_columns(EventDelivery.attempts)
            .outerjoin(EventDelivery, EventDelivery.event_id == Event.id)
            .where(Event.kind == "comment.added", Event.post_id == post_id)
            .order_by(Event.id)
        ).all()
        db.session.rollback()
        return list(rows)


def mails_to(recorder: Flask, address: str) -> list[str]:
    """The outbox's mails to ``address``: their Message-IDs."""
    from flaskr.db import db
    from flaskr.models import OutboxMail

    with recorder.app_context():
        query = sa.select(OutboxMail.message_id).where(OutboxMail.recipient == address)
        found = list(db.session.scalars(query))
        db.session.rollback()
        return found


def arrived(server: SmtpServer, address: str) -> list[str]:
    return [m["Message-ID"] for m in server.inbox.messages if m["To"] == address]


def test_two_servers_handle_each_event_once_without_any_request(
    servers,  # noqa: F811 (the fixture)
    smtp,  # noqa: F811
    recorder,
):
    """Twenty comments recorded outside the servers: the four workers' timers
    dispatch and deliver them at once, and no request is made."""
    from flaskr.db import db
    from flaskr.models import Post
    from flaskr.models import User
    from flaskr.services.social.reactions import add_comment

    blog = a_blog(recorder)
    with recorder.app_context():
        post = db.session.get(Post, blog.post_id)
        reader = db.session.get(User, blog.reader_id)
        for number in range(20):
            add_comment(post, reader, f"Comment {number}", post_link="http://x/1")

    def all_done() -> bool:
        rows = comment_deliveries(recorder, blog.post_id)
        return len(rows) == 20 and all(row.done is not None for row in rows)

    wait_until(all_done)
    rows = comment_deliveries(recorder, blog.post_id)
    assert {(row.handler, row.attempts) for row in rows} == {("comment_mail", 1)}
    assert len({row.id for row in rows}) == 20, "one delivery per event"
    wait_until(lambda: len(arrived(smtp, blog.writer_address)) >= 20)
    time.sleep(1.5)  # three more rounds of every timer: nothing new
    assert len(mails_to(recorder, blog.writer_address)) == 20
    received = arrived(smtp, blog.writer_address)
    assert len(received) == len(set(received)) == 20


#: A deliverer like a server's worker that records the comments' events and
#: claims them in one go, then hangs inside the comment-mail handler, having
#: recorded its mail without committing it.
STUCK_DELIVERER = """
import sys, time
from pathlib import Path
from flaskr import create_app
from flaskr.db import db
from flaskr.services.base import events
from flaskr.services.social.reactions import mail_writer_about_comment
from tests.conftest import make_config

database, post_id, marker, *comment_ids = sys.argv[1:]

def stuck(event):
    mail_writer_about_comment(event)
    Path(marker).write_text(str(event.id))
    time.sleep(600)

app = create_app(make_config(database, MAIL_SERVER="127.0.0.1"))
with app.app_context():
    for comment_id in comment_ids:
        events.record_event(
            events.COMMENT_ADDED, post_id=int(post_id), comment_id=int(comment_id),
            commenter="reader", post_link="http://x/1",
        )
    handler = events.Handler("comment_mail", frozenset({events.COMMENT_ADDED}), stuck)
    # Dispatching commits the events with their deliveries, so the servers
    # can only take what this process has not claimed yet.
    events.deliver_due_events([handler])
"""


def test_events_claimed_by_a_killed_process_are_handled_once_by_the_servers(
    servers,  # noqa: F811 (the fixture)
    smtp,  # noqa: F811
    recorder,
    tmp_path,
):
    from flaskr.db import db
    from flaskr.models import EventDelivery
    from flaskr.models import Post
    from flaskr.models import User
    from flaskr.services.social.reactions import import_comment

    blog = a_blog(recorder)
    with recorder.app_context():
        post = db.session.get(Post, blog.post_id)
        reader = db.session.get(User, blog.reader_id)
        now = dt.datetime.now(dt.UTC)
        comments = [
            import_comment(post, reader, f"Comment {n}", created=now, edited=None)
            for n in range(30)
        ]
        comment_ids = [str(comment.id) for comment in comments if comment]
    marker = tmp_path / "stuck"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", STUCK_DELIVERER, DATABASE, str(blog.post_id)]
        + [str(marker), *comment_ids],
        cwd=ROOT,
    )
    try:
        wait_until(lambda: marker.exists() or process.poll() is not None, 60)
        assert process.poll() is None, "the deliverer exited"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    stuck_event = int(marker.read_text())

    # The servers deliver what the killed process had not claimed; its
    # claims hold until their lease ends.
    time.sleep(2)
    rows = {row.id: row for row in comment_deliveries(recorder, blog.post_id)}
    assert len(rows) == 30
    assert rows[stuck_event].done is None and rows[stuck_event].attempts == 1
    with recorder.app_context():
        db.session.execute(
            sa.update(EventDelivery)
            .where(EventDelivery.done.is_(None))
            .values(next_attempt=LONG_AGO)
        )
        db.session.commit()  # the leases ran out

    def all_done() -> bool:
        rows = comment_deliveries(recorder, blog.post_id)
        return all(row.done is not None for row in rows)

    wait_until(all_done)
    rows = {row.id: row for row in comment_deliveries(recorder, blog.post_id)}
    assert rows[stuck_event].attempts == 2
    assert len(mails_to(recorder, blog.writer_address)) == 30, "one mail per event"
    wait_until(lambda: len(arrived(smtp, blog.writer_address)) >= 30)
    time.sleep(1.5)
    received = arrived(smtp, blog.writer_address)
    assert len(received) == len(set(received)) == 30
