"""The event line: events recorded with their changes, and each handed once to
each handler that wants it, through failures, races and a killed process."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Event
from flaskr.models import EventDelivery
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.services.accounts import users
from flaskr.services.base import events
from flaskr.services.base.errors import Invalid
from flaskr.services.content import lifecycle
from flaskr.services.content import writing
from flaskr.services.event_handlers import HANDLERS
from flaskr.services.social import reactions
from tests.helpers import deliver
from tests.helpers import deliveries
from tests.helpers import event_handler
from tests.helpers import leave_a_mark
from tests.helpers import LONG_AGO
from tests.helpers import make_all_due
from tests.helpers import marks
from tests.helpers import record
from tests.helpers import recorded
from tests.helpers import schedule
from tests.helpers import user_named

ROOT = Path(__file__).parents[1]


# Which use cases record which events.


def test_writing_records_publication_and_updates_of_posts_out(app):
    with app.app_context():
        test = user_named("test")
        draft = writing.create_post(test, "Draft", "text", tags=[], publish=False)
        out = writing.create_post(test, "Out", "text", tags=[], publish=True)
        writing.update_post(
            draft.author, draft, "Draft", "more", tags=[]
        )  # still a draft
        writing.update_post(out.author, out, "Out", "more", tags=[])
        writing.update_post(draft.author, draft, "Draft", "more", tags=[], publish=True)
        ids = draft.id, out.id, test.id
    draft_id, out_id, test_id = ids
    assert recorded(app) == [
        (events.POST_PUBLISHED, out_id, test_id),
        (events.POST_UPDATED, out_id, test_id),
        (events.POST_PUBLISHED, draft_id, test_id),
    ]


def test_the_life_of_a_post_records_each_step(app):
    with app.app_context():
        post = db.session.get(Post, 1)
        lifecycle.unpublish(post.author, post)
        writing.update_post(post.author, post, "Again", "text", tags=[], publish=True)
        lifecycle.move_to_trash(post.author, post)
        lifecycle.restore(post.author, post)
        lifecycle.move_to_trash(post.author, post)
        lifecycle.delete_forever(post.author, post)
    kinds = [kind for kind, post_id, user_id in recorded(app)]
    assert kinds == [
        events.POST_UNPUBLISHED,
        events.POST_PUBLISHED,
        events.POST_TRASHED,
        events.POST_RESTORED,
        events.POST_TRASHED,
        events.POST_DELETED,
    ]
    assert {(post_id, user_id) for _, post_id, user_id in recorded(app)} == {(1, 1)}


def test_purging_the_trash_records_each_post_it_deletes(app):
    with app.app_context():
        post = db.session.get(Post, 1)
        lifecycle.move_to_trash(post.author, post)
        post.deleted = LONG_AGO
        db.session.commit()
        assert lifecycle.purge_trash() == 1
        assert lifecycle.purge_trash() == 0
    assert recorded(app) == [
        (events.POST_TRASHED, 1, 1),
        (events.POST_DELETED, 1, 1),
    ]


def test_accounts_record_renames_and_deletions(app):
    with app.app_context():
        test = user_named("test")
        users.rename(test, "tess", "test")
        with pytest.raises(Invalid):  # no change, no event
            users.rename(test, "tess", "test")
        users.delete_account(test, "test", keep_posts=False)
        other = user_named("other")
        users.delete_account(other, "other", keep_posts=True)
        [event] = db.session.scalars(
            sa.select(Event).filter_by(kind=events.ACCOUNT_RENAMED)
        )
        assert event.payload == {"old_username": "test", "new_username": "tess"}
    assert recorded(app) == [
        (events.ACCOUNT_RENAMED, None, 1),
        (events.POST_DELETED, 1, 1),
        (events.ACCOUNT_DELETED, None, 1),
        (events.ACCOUNT_DELETED, None, 2),
    ]


def test_a_change_rolled_back_leaves_no_event(app):
    with app.app_context():
        events.record_event(events.POST_UPDATED, post_id=1)
        db.session.rollback()
    assert recorded(app) == []
    assert deliver(app, event_handler("a", events.POST_UPDATED)) == 0


# Delivering: once per handler.


def test_each_handler_gets_each_event_of_its_kinds_once(app):
    published = record(app, events.POST_PUBLISHED, count=3)
    [trashed] = record(app, events.POST_TRASHED)
    first = event_handler("first", events.POST_PUBLISHED, events.POST_TRASHED)
    second = event_handler("second", events.POST_PUBLISHED)
    assert deliver(app, first, second) == 7
    assert deliver(app, first, second) == 0
    make_all_due(app)
    assert deliver(app, first, second) == 0, "done is done"
    expected = [f"first.{i}@example.org" for i in [*published, trashed]]
    expected += [f"second.{i}@example.org" for i in published]
    assert sorted(marks(app)) == sorted(expected)
    assert all(d.done is not None and d.attempts == 1 for d in deliveries(app))


def test_deliverers_at_once_run_each_handler_once_per_event(app):
    ids = record(app, count=45)
    handlers = (event_handler("first"), event_handler("second"))
    finished = []
    start = threading.Barrier(3)

    def deliverer():
        start.wait()
        finished.append(deliver(app, *handlers))

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(finished) == 90
    expected = [f"{h}.{i}@example.org" for h in ("first", "second") for i in ids]
    assert sorted(marks(app)) == sorted(expected)


def test_a_new_handler_starts_with_the_events_recorded_after_it(app):
    record(app)
    deliver(app, event_handler("first"))
    [later] = record(app)
    deliver(app, event_handler("first"), event_handler("second"))
    assert sorted(marks(app)) == [
        f"first.{later - 1}@example.org",
        f"first.{later}@example.org",
        f"second.{later}@example.org",
    ]


# Failures: retried, backing off, then given up.


class Flaky:
    """A handler that fails its first ``failures`` runs, after writing."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0

    def __call__(self, event: Event) -> None:
        self.runs += 1
        leave_a_mark("flaky", event)
        if self.runs <= self.failures:
            raise ConnectionError("the newsletter service is down")


def test_a_failing_handler_is_retried_later_and_its_writes_undone(app, caplog):
    [event_id] = record(app)
    flaky = event_handler("flaky", run=Flaky(failures=2))
    steady = event_handler("steady")
    assert deliver(app, flaky, steady) == 1
    failed, done = deliveries(app)
    assert (failed.handler, done.handler) == ("flaky", "steady")
    assert failed.done is None and failed.attempts == 1
    assert failed.last_error == "ConnectionError: the newsletter service is down"
    assert failed.next_attempt > dt.datetime.now(dt.UTC), "it backs off"
    assert "not handled by flaky (attempt 1)" in caplog.text
    assert deliver(app, flaky, steady) == 0, "not before its time"

    make_all_due(app)
    assert deliver(app, flaky, steady) == 0
    failed_again = deliveries(app)[0]
    waited = failed_again.next_attempt - dt.datetime.now(dt.UTC)
    assert waited > events.FIRST_RETRY, "the wait doubles"

    make_all_due(app)
    assert deliver(app, flaky, steady) == 1
    done_at_last = deliveries(app)[0]
    assert done_at_last.done is not None and done_at_last.attempts == 3
    assert done_at_last.last_error is None
    assert sorted(marks(app)) == [
        f"flaky.{event_id}@example.org",
        f"steady.{event_id}@example.org",
    ], "the failed runs' writes were rolled back"


def test_a_handler_is_given_up_after_its_attempts(app_with, caplog):
    app = app_with(EVENT_MAX_ATTEMPTS=2)
    record(app)
    broken = event_handler("broken", run=Flaky(failures=99))
    deliver(app, broken)
    make_all_due(app)
    deliver(app, broken)
    [delivery] = deliveries(app)
    assert delivery.failed and delivery.done is None and delivery.attempts == 2
    assert "gave up on event" in caplog.text
    make_all_due(app)
    assert deliver(app, broken) == 0 and deliveries(app)[0].attempts == 2
    assert marks(app) == []


# Scheduled posts: their publication happens when their time comes.


def test_a_scheduled_post_is_published_to_handlers_once_at_its_time(app):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    later = soon + dt.timedelta(hours=1)
    with app.app_context():
        kept = schedule("Kept", soon)
        writing.update_post(
            kept.author, kept, "Kept", "edited", tags=[], schedule_at=soon
        )
        moved = schedule("Moved", soon)
        writing.update_post(
            moved.author, moved, "Moved", "text", tags=[], schedule_at=later
        )
        dropped = schedule("Dropped", soon)
        writing.update_post(
            dropped.author, dropped, "Dropped", "text", tags=[], to_draft=True
        )
        trashed = schedule("Trashed", soon)
        lifecycle.move_to_trash(trashed.author, trashed)
        kept_id = kept.id
    watcher = event_handler("watcher")
    assert deliver(app, watcher) == 0, "nothing comes out yet"
    time.sleep(1.2)
    assert deliver(app, watcher) == 1
    assert deliver(app, watcher) == 0
    with app.app_context():
        [published] = db.session.scalars(
            sa.select(Event).where(Event.id.in_([d.event_id for d in deliveries(app)]))
        )
        assert published.post_id == kept_id
        assert published.due == soon
        waiting = db.session.scalar(
            sa.select(sa.func.count()).where(Event.dispatched.is_(False))
        )
        assert waiting == 1, "the post moved to later waits for its time"


# Comment mail: a handler of new comments.


def test_comment_mail_is_recorded_once_by_its_handler(app):
    with app.app_context():
        writer = user_named("test")
        writer.email = writer.email_key = "writer@example.org"
        db.session.commit()
        post = db.session.get(Post, 1)
        reactions.add_comment(
            post, user_named("other"), "Nice", post_link="https://x.example/1"
        )
        reactions.add_comment(post, writer, "Thanks", post_link="https://x")
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0
        assert events.deliver_due_events(HANDLERS) == 2
        assert events.deliver_due_events(HANDLERS) == 0
        [mail] = db.session.scalars(sa.select(OutboxMail))
        assert mail.recipient == "writer@example.org"
        assert mail.subject == "other commented on “test title”"
        assert "Nice" in mail.text_body and "https://x.example/1" in mail.text_body


def test_no_comment_mail_for_a_comment_deleted_before_its_turn(app):
    with app.app_context():
        writer = user_named("test")
        writer.email = writer.email_key = "writer@example.org"
        db.session.commit()
        comment = reactions.add_comment(
            db.session.get(Post, 1), user_named("other"), "Oops", post_link="x"
        )
        reactions.delete_comment(db.session.get(Comment, comment.id))
        assert events.deliver_due_events(HANDLERS) == 1
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0


def test_deliver_events_command(app):
    with app.app_context():
        writer = user_named("test")
        writer.email = writer.email_key = "writer@example.org"
        db.session.commit()
        reactions.add_comment(
            db.session.get(Post, 1), user_named("other"), "Hi", post_link="x"
        )
    result = app.test_cli_runner().invoke(args=["deliver-events"])
    assert result.output == "Handled 1 event, sent 1 mail.\n"


# A process killed with SIGKILL in the middle of a handler.

KILLED_WORKER = """
import sys, time
from pathlib import Path
from flaskr import create_app
from flaskr.services.base import events
from tests.conftest import make_config
from tests.helpers import event_handler, leave_a_mark

def stuck(event):
    leave_a_mark("slow", event)  # written, never committed
    Path(sys.argv[2]).write_text(str(event.id))
    time.sleep(600)

app = create_app(make_config(sys.argv[1]))
with app.app_context():
    events.deliver_due_events([event_handler("slow", run=stuck)])
"""


def test_a_handler_killed_mid_run_is_run_again_once_after_its_lease(
    app, database_url, tmp_path
):
    [event_id] = record(app)
    started = tmp_path / "started"
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", KILLED_WORKER, database_url, str(started)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never started"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL

    slow = event_handler("slow")
    [claimed] = deliveries(app)
    assert claimed.attempts == 1 and claimed.done is None
    assert deliver(app, slow) == 0, "its lease holds"
    with app.app_context():
        db.session.execute(sa.update(EventDelivery).values(next_attempt=LONG_AGO))
        db.session.commit()  # the lease ran out
    assert deliver(app, slow) == 1
    assert deliver(app, slow) == 0
    [delivery] = deliveries(app)
    assert delivery.done is not None and delivery.attempts == 2
    assert marks(app) == [f"slow.{event_id}@example.org"]


def test_a_run_that_outlived_its_lease_does_not_count_twice(app):
    [event_id] = record(app)
    second_run_done = threading.Event()
    first_run_started = threading.Event()

    def slow_first(event: Event) -> None:
        leave_a_mark("slow", event)
        first_run_started.set()
        assert second_run_done.wait(10)

    def takeover() -> None:
        first_run_started.wait(10)
        make_all_due(app)  # the first run's lease ran out
        deliver(app, event_handler("slow"))
        second_run_done.set()

    thread = threading.Thread(target=takeover)
    thread.start()
    assert deliver(app, event_handler("slow", run=slow_first)) == 0
    thread.join()
    assert marks(app) == [f"slow.{event_id}@example.org"]
    [delivery] = deliveries(app)
    assert delivery.done is not None and delivery.attempts == 2


def test_purging_deletes_only_old_events_every_handler_is_done_with(app):
    done_old, failed_old, done_new = record(app, count=3)
    [waiting_old] = record(app, events.POST_UPDATED)  # no handler took it yet
    deliver(app, event_handler("first", run=Flaky(failures=0)))
    with app.app_context():
        db.session.execute(
            sa.update(EventDelivery)
            .where(EventDelivery.event_id == failed_old)
            .values(done=None, failed=True)
        )
        db.session.execute(
            sa.update(Event)
            .where(Event.id.in_([done_old, failed_old, waiting_old]))
            .values(created=LONG_AGO)
        )
        db.session.execute(
            sa.update(Event).where(Event.id == waiting_old).values(dispatched=False)
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-events"])
    assert result.output == "Deleted 1 handled event.\n"
    with app.app_context():
        left = db.session.scalars(sa.select(Event.id).order_by(Event.id)).all()
        assert left == [failed_old, done_new, waiting_old]
        assert done_old not in {d.event_id for d in deliveries(app)}
