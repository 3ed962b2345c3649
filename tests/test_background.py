"""The cost and the timing of the event line: what a request pays for it,
deliveries after the response and on each server's timer, and the indexes the
timer's looks read (tests/test_events.py has the line's guarantees)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Event
from flaskr.models import EventDelivery
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.plumbing import background
from flaskr.plumbing.background import move_version_if_a_post_is_due
from flaskr.services.base import events
from flaskr.services.base.mail import record_mail
from flaskr.services.social import reactions
from tests.conftest import assert_reads_index_in_order
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.helpers import comment
from tests.helpers import deliver
from tests.helpers import deliveries
from tests.helpers import event_handler
from tests.helpers import logged_in
from tests.helpers import record
from tests.helpers import recorded
from tests.helpers import schedule
from tests.helpers import user_named


@pytest.mark.parametrize("commit_by", ["request", "timer"])
def test_events_are_delivered_after_the_response_or_by_the_timer(
    app_with, smtp, smtp_port, commit_by
):
    app = app_with(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        BACKGROUND_INTERVAL=0.1 if commit_by == "timer" else 0,
    )
    with app.app_context():
        writer = user_named("test")
        writer.email = writer.email_key = "writer@example.org"
        db.session.commit()
    if commit_by == "request":
        comment(logged_in(app, "other"), "After the response").close()
        assert len(smtp.inbox.messages) == 1
        return
    with app.app_context():
        reactions.add_comment(
            db.session.get(Post, 1), user_named("other"), "By the timer", post_link="x"
        )
    work = app.extensions["flaskr.background"]
    work.start()
    try:
        deadline = time.monotonic() + 10
        while not smtp.inbox.messages:
            assert time.monotonic() < deadline, "the timer never delivered it"
            time.sleep(0.05)
    finally:
        work.stop()
    assert "By the timer" in smtp.inbox.messages[0].get_body(("plain",)).get_content()


def test_with_the_timer_on_a_response_leaves_events_to_it(app_with, smtp, smtp_port):
    """Where a timer runs, a comment's response hands over no event (the
    timer does, in batches), while mail a request records still goes out
    after its response."""
    app = app_with(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, BACKGROUND_INTERVAL=60)
    app.extensions["flaskr.background"].start = lambda: False  # its round by hand
    with app.app_context():
        writer = user_named("test")
        writer.email = writer.email_key = "writer@example.org"
        db.session.commit()
    comment(logged_in(app, "other"), "For the timer").close()
    assert smtp.inbox.messages == []
    assert deliveries(app) == []  # not even dispatched
    app.extensions["flaskr.background"].run_once()
    [mail] = smtp.inbox.messages
    assert "For the timer" in mail.get_body(("plain",)).get_content()
    with app.app_context():
        user = user_named("other")
        user.email = user.email_key = "other@example.org"
        db.session.commit()
    client = app.test_client()
    token = csrf_token_from(client, "/auth/forgot")
    client.post(
        "/auth/forgot", data={"login": "other@example.org", "csrf_token": token}
    ).close()
    assert len(smtp.inbox.messages) == 2  # the reset mail, after its response


# The request path stays cheap.


def event_statements(statements) -> list[str]:
    return [sql for sql, _ in statements if re.search(r"\bevent(_delivery)?\b", sql)]


def test_publishing_costs_the_request_one_insert(app, author):
    with recorded_statements(app) as statements:
        response = author.post(
            "/create",
            data={
                "title": "Out now",
                "body": "text",
                "csrf_token": csrf_token_from(author, "/create"),
            },
        )
        assert response.status_code == 302
        [insert] = event_statements(statements)
        assert insert.startswith("INSERT INTO event ")
        response.close()
    # The newsletter wants publications: with no timer in the tests, the
    # response's end hands it over, after the client has its answer.
    assert len(event_statements(statements)) > 1
    assert recorded(app)[-1][0] == events.POST_PUBLISHED
    with app.app_context():
        done = {
            delivery.handler: delivery.done is not None
            for delivery in db.session.scalars(sa.select(EventDelivery))
        }
        assert done == {"newsletter": True, "federation": True}


def test_reading_pages_never_touches_the_event_tables(app, author):
    with recorded_statements(app) as statements:
        for path in ("/", "/1", "/auth/account", "/hello"):
            author.get(path).close()
    assert event_statements(statements) == []


# The timer's round.


def site_version(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(SiteVersion.value))


def test_the_timer_moves_the_site_version_when_a_post_comes_out(app):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    with app.app_context():
        schedule("Soon", soon)
    work = app.extensions["flaskr.background"]
    before = site_version(app)
    work.run_once()
    assert site_version(app) == before, "not yet"
    time.sleep(1.2)
    with app.app_context():
        assert move_version_if_a_post_is_due() is True
        assert move_version_if_a_post_is_due() is False, "once"
    assert site_version(app) == before + 1


def test_a_failing_step_leaves_the_next_ones_to_run(app, monkeypatch, caplog):
    def broken() -> int:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("database away"))

    monkeypatch.setattr(background, "move_version_if_a_post_is_due", broken)
    monkeypatch.setattr(background, "deliver_due_events", broken)
    [event_id] = record(app)
    with app.app_context():
        record_mail("reader@example.org", "test")
        db.session.commit()
    app.extensions["flaskr.background"].run_once()
    assert "background step broken failed" in caplog.text
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMail.sent)) is not None
        assert db.session.get(Event, event_id).dispatched is False


@pytest.mark.parametrize(
    ("table", "index"),
    [("event", "ix_event_due"), ("event_delivery", "ix_event_delivery_due")],
)
def test_the_timers_looks_read_the_partial_indexes(app, table, index):
    """An idle round reads only the few rows still to do, in order, however
    many events were handled before."""
    [event_id] = record(app)
    deliver(app, event_handler("first"))
    with recorded_statements(app) as statements:
        deliver(app, event_handler("first"))
    reads = re.compile(rf"FROM {table}\b(?!_)")
    [(statement, parameters)] = [
        (sql, values)
        for sql, values in statements
        if reads.search(sql) and "ORDER BY" in sql
    ]
    assert_reads_index_in_order(app, statement, parameters, index)
