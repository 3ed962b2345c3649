"""Mail through the outbox, against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.base.mail import record_mail
from flaskr.services.base.site import update_identity
from tests.conftest import SmtpServer

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def record(app, recipient="reader@example.org", commit=True):
    with app.app_context():
        record_mail(recipient, "test")
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def deliver(app):
    with app.app_context():
        return deliver_due_mail()


def outbox(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id))
        return rows.all()


def make_all_due(app):
    with app.app_context():
        db.session.execute(sa.update(OutboxMail).values(next_attempt=LONG_AGO))
        db.session.commit()


def test_a_recorded_mail_is_sent_with_both_parts(mail_app, smtp):
    record(mail_app)
    assert smtp.inbox.messages == [], "nothing is sent inside the transaction"
    assert deliver(mail_app) == 1
    [message] = smtp.inbox.messages
    assert message["To"] == "reader@example.org"
    assert message["From"] == "Flaskr <blog@flaskr.example>"
    assert message["Subject"] == "Flaskr can send you mail"
    assert message["Message-ID"].endswith("@flaskr.example>")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "at https://flaskr.example:" in text
    assert '<a href="https://flaskr.example">' in html
    [row] = outbox(mail_app)
    assert row.sent is not None and row.attempts == 1
    assert deliver(mail_app) == 0 and len(smtp.inbox.messages) == 1


def test_a_rolled_back_mail_is_never_sent(mail_app, smtp):
    record(mail_app, commit=False)
    assert deliver(mail_app) == 0
    assert outbox(mail_app) == [] and smtp.inbox.messages == []


def test_a_mail_waits_while_the_server_is_down_and_arrives_once(mail_app, smtp_port):
    record(mail_app)
    assert deliver(mail_app) == 0  # nothing listens on the port yet
    [row] = outbox(mail_app)
    assert row.sent is None and row.attempts == 1 and row.last_error
    assert row.next_attempt > dt.datetime.now(dt.UTC), "it backs off"
    assert deliver(mail_app) == 0, "not before its time"

    server = SmtpServer(smtp_port)
    server.start()
    try:
        make_all_due(mail_app)
        assert deliver(mail_app) == 1
        assert deliver(mail_app) == 0
        make_all_due(mail_app)
        assert deliver(mail_app) == 0
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()
    [row] = outbox(mail_app)
    assert row.sent is not None and row.attempts == 2 and row.last_error is None


def test_a_mail_is_given_up_after_its_attempts(make_app, smtp_port, caplog):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_MAX_ATTEMPTS=2)
    record(app)
    deliver(app)
    make_all_due(app)
    deliver(app)
    [row] = outbox(app)
    assert row.failed and row.sent is None and row.attempts == 2
    assert "gave up on mail" in caplog.text
    make_all_due(app)
    assert deliver(app) == 0 and outbox(app)[0].attempts == 2


def test_senders_at_once_send_each_mail_exactly_once(mail_app, smtp):
    for number in range(45):
        record(mail_app, f"reader{number}@example.org")
    sent = []
    start = threading.Barrier(3)

    def sender():
        start.wait()
        sent.append(deliver(mail_app))

    senders = [threading.Thread(target=sender) for _ in range(3)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    assert sum(sent) == 45
    ids = [message["Message-ID"] for message in smtp.inbox.messages]
    assert len(ids) == len(set(ids)) == 45


def test_without_a_server_mail_goes_to_the_log(make_app, caplog):
    app = make_app(SITE_URL="http://127.0.0.1:5000")
    caplog.set_level("INFO", logger="flaskr.mail")
    record(app)
    assert deliver(app) == 1
    assert "Subject: Flaskr can send you mail" in caplog.text
    assert "at http://127.0.0.1:5000:" in caplog.text
    assert outbox(app)[0].sent is not None


def test_a_mail_recorded_by_a_request_goes_after_the_response(mail_app, smtp):
    @mail_app.route("/test-mail")
    def test_mail():
        record_mail("reader@example.org", "test")
        db.session.commit()
        return "recorded"

    client = mail_app.test_client()
    response = client.get("/test-mail")
    assert response.get_data(as_text=True) == "recorded"
    response.close()  # the WSGI server closes it once the body is sent
    assert len(smtp.inbox.messages) == 1


def wait_for(condition, seconds=30.0):
    """Poll ``condition`` until it holds; the deadline allows for a loaded
    machine (CI runs two suites side by side)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_timer_retries_mail_without_any_request(make_app, smtp_port):
    """The issue's case: the SMTP server is down when a mail is recorded, and
    no request reaches Flask afterwards (readers get kept pages); each
    server's timer still sends it once the server is back."""
    app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, BACKGROUND_INTERVAL=0.1
    )
    record(app)
    work = app.extensions["flaskr.background"]
    assert work.start() and not work.start(), "one thread per process"
    try:
        wait_for(lambda: outbox(app)[0].attempts >= 1)
        assert outbox(app)[0].sent is None, "nothing listens yet"
        server = SmtpServer(smtp_port)
        server.start()
        try:
            make_all_due(app)  # its back-off has passed
            wait_for(lambda: len(server.inbox.messages) == 1)
            time.sleep(0.3)  # a few more rounds send nothing again
            assert len(server.inbox.messages) == 1
        finally:
            server.stop()
    finally:
        work.stop()
    assert outbox(app)[0].sent is not None


def test_the_timer_starts_with_the_first_request_unless_turned_off(make_app):
    client = make_app(BACKGROUND_INTERVAL=30).test_client()
    work = client.application.extensions["flaskr.background"]
    client.get("/hello")
    try:
        assert not work.start(), "the request started it"
    finally:
        work.stop()
    idle = make_app()  # the tests' setting: 0
    idle.test_client().get("/hello")
    assert not idle.extensions["flaskr.background"].start()


def test_send_test_mail_command(mail_app, smtp, smtp_port):
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["send-test-mail", "admin@example.org"])
    assert result.exit_code == 0, result.output
    assert "Sent a test mail" in result.output
    assert smtp.inbox.messages[0]["To"] == "admin@example.org"

    smtp.stop()
    result = runner.invoke(args=["send-test-mail", "admin@example.org"])
    assert result.exit_code == 1 and "Not sent yet" in result.output
    result = runner.invoke(args=["send-test-mail", "not an address"])
    assert result.exit_code == 2


def test_send_mail_command_sends_what_is_due(mail_app, smtp):
    record(mail_app)
    result = mail_app.test_cli_runner().invoke(args=["send-mail"])
    assert "Sent 1 mail." in result.output
    assert len(smtp.inbox.messages) == 1


SITE_TITLE = "Ruth's Kitchen & Garden"
#: A post as the newsletter's mails get it (``newsletter._mail_post``).
NEWSLETTER_POST = {
    "title": "Bread",
    "writer": "ruth",
    "published": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
    "link": "https://flaskr.example/p/bread",
    "body_html": "<p>Flour &amp; water.</p>",
    "body_text": "Flour & water.",
    "excerpt": "Flour & water.",
}
#: Each mail template, with what its text needs.
MAIL_TEMPLATES = {
    "account_approved": {"username": "ruth"},
    "account_removed": {
        "username": "ruth",
        "reason": "Spam & <links>.",
        "trash_days": 30,
    },
    "account_suspended": {"username": "ruth", "reason": "Spam & <links>."},
    "address_in_use": {"forgot_link": "https://flaskr.example/auth/forgot"},
    "confirm_email": {"username": "ruth", "link": "https://x.example/c", "hours": 24},
    "confirm_subscription": {
        "link": "https://flaskr.example/subscribe/confirm/t?follow=2",
        "target": "sam",
    },
    "email_change_notice": {"username": "ruth"},
    "new_comment": {
        "username": "ruth",
        "commenter": "sam",
        "title": "Bread",
        "comment": "Lovely.",
        "link": "https://flaskr.example/p/bread",
    },
    "moderation_waiting": {"username": "ruth", "held": 2, "reports": 1},
    "new_post": {
        "post": NEWSLETTER_POST,
        "manage_link": "https://flaskr.example/subscribe/manage/t",
        "unsubscribe_link": "https://flaskr.example/subscribe/unsubscribe/t",
    },
    "digest": {
        "posts": [NEWSLETTER_POST],
        "more": 0,
        "manage_link": "https://flaskr.example/subscribe/manage/t",
        "unsubscribe_link": "https://flaskr.example/subscribe/unsubscribe/t",
    },
    "password_changed": {"username": "ruth"},
    "reset_password": {
        "username": "ruth",
        "link": "https://x.example/r",
        "minutes": 60,
    },
    "sign_in_security": {
        "username": "ruth",
        "what": "An authenticator app was added to your account.",
    },
    "test": {},
}


def name_site(app, title):
    with app.app_context():
        update_identity(title, "", "")


def test_every_mail_template_is_listed_here(app):
    folder = Path(app.root_path) / "templates" / "mail"
    assert {path.stem for path in folder.glob("*.txt")} == set(MAIL_TEMPLATES)


@pytest.mark.parametrize("template", sorted(MAIL_TEMPLATES))
def test_each_mail_names_the_site_by_its_title(mail_app, smtp, template):
    name_site(mail_app, SITE_TITLE)
    with mail_app.app_context():
        record_mail("ruth@example.org", template, **MAIL_TEMPLATES[template])
        db.session.commit()
    assert deliver(mail_app) == 1
    [message] = smtp.inbox.messages
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        SITE_TITLE,
        "blog@flaskr.example",
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert SITE_TITLE in text
    assert "Ruth&#39;s Kitchen &amp; Garden" in html
    if template not in ("new_comment", "new_post"):  # these name the post instead
        assert SITE_TITLE in message["Subject"]
    for part in (message["Subject"], text, html):
        assert "Flaskr" not in part


def test_a_sender_name_of_ones_own_is_kept(make_app, smtp, smtp_port):
    app = make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_FROM="Ruth at home <ruth@flaskr.example>",
    )
    name_site(app, SITE_TITLE)
    record(app)
    deliver(app)
    assert smtp.inbox.messages[0]["From"] == "Ruth at home <ruth@flaskr.example>"


def test_a_site_title_in_any_script_reaches_the_sender_name(mail_app, smtp):
    name_site(mail_app, "בלוג של רות")
    record(mail_app)
    deliver(mail_app)
    [message] = smtp.inbox.messages
    assert message["From"] == "בלוג של רות <blog@flaskr.example>"
    assert message["Subject"] == "בלוג של רות can send you mail"
