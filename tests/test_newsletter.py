"""New posts by mail to subscribers, against a real SMTP server (aiosmtpd):
once per post per subscriber, through batches, crashes and races; never a
draft; the one-click unsubscribe headers; the weekly digest; the send rate."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import sqlalchemy as sa
import time_machine

from flaskr.db import db
from flaskr.models import EventDelivery
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import PostMailing
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models.governance import SUSPENDED
from flaskr.models.subscribers import WEEKLY
from flaskr.services.base import mail
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.content import writing
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.social import newsletter
from flaskr.services.social import subscriber_links
from flaskr.services.social import subscriptions
from tests.conftest import add_test_data
from tests.conftest import AuthActions
from tests.helpers import add_user
from tests.helpers import LONG_AGO
from tests.helpers import user_named
from tests.helpers import write_in_editor

SITE = None  # a subscription to the whole site


@pytest.fixture
def news_app(make_app, smtp_port, password_hashes):
    app = make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_FROM="Flaskr <blog@flaskr.example>",
        SITE_URL="https://flaskr.example",
        MAIL_TIMEOUT=5,
        NEWSLETTER_BATCH=2,
    )
    with app.app_context():
        add_test_data(password_hashes)
    return app


def subscribe(address, *targets, confirmed=True, cadence="each", user_id=None):
    """A subscriber as the subscribe pages leave one (rows written directly)."""
    subscriber = Subscriber(
        email=address,
        email_key=address.lower(),
        link_key=subscriber_links.new_link_key(),
        confirmed=LONG_AGO if confirmed else None,
        cadence=cadence,
        user_id=user_id,
    )
    db.session.add(subscriber)
    db.session.flush()
    for target in targets:
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=target))
    db.session.commit()
    return subscriber


def publish(title="News", body="Hello **readers**.", *, writer="test", **fields):
    fields.setdefault("publish", True)
    return writing.create_post(user_named(writer), title, body, tags=[], **fields)


def run_line(app):
    """What the background ticker does: handle events, then send mail."""
    with app.app_context():
        deliver_due_events()
        return deliver_due_mail()


def recipients(smtp):
    return sorted(message["To"] for message in smtp.inbox.messages)


def ids_of(name):
    return db.session.scalar(sa.select(sa.func.count()).select_from(name))


def test_each_subscriber_of_the_writer_or_the_site_gets_one_mail(news_app, smtp):
    with news_app.app_context():
        test, other = user_named("test").id, user_named("other").id
        subscribe("site@example.org", SITE)
        subscribe("writer@example.org", test)
        subscribe("both@example.org", test, SITE)
        subscribe("other-writer@example.org", other)
        subscribe("unconfirmed@example.org", SITE, confirmed=False)
        post_id = publish().id
    assert smtp.inbox.messages == [], "nothing is sent inside the request"
    assert run_line(news_app) == 3
    assert recipients(smtp) == [
        "both@example.org",
        "site@example.org",
        "writer@example.org",
    ]
    with news_app.app_context():
        ledger = db.session.scalars(sa.select(PostMailing)).all()
        assert {row.post_id for row in ledger} == {post_id}
        assert all(row.mail_id is not None for row in ledger) and len(ledger) == 3
    assert run_line(news_app) == 0 and len(smtp.inbox.messages) == 3


def test_the_mail_reads_well_and_leaves_in_one_click(news_app, smtp):
    with news_app.app_context():
        subscriber_id = subscribe("reader@example.org", SITE).id
        body = "Read [this](/p/other) and [that](https://elsewhere.example/x).\n"
        publish("A title", body, slug="a-title")
    run_line(news_app)
    [message] = smtp.inbox.messages
    assert message["Subject"] == "A title"
    assert message["From"] == "Flaskr <blog@flaskr.example>"
    leave = message["List-Unsubscribe"]
    assert leave.startswith("<https://flaskr.example/subscribe/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = leave.removeprefix("<https://flaskr.example/subscribe/unsubscribe/")[:-1]
    with news_app.app_context():
        found = subscriber_links.subscriber_for(token, subscriber_links.UNSUBSCRIBE)
        assert found is not None and found.id == subscriber_id
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<style" not in html and 'style="' in html, "CSS is inlined"
    assert 'href="https://flaskr.example/p/other"' in html, "addresses absolute"
    assert 'href="https://elsewhere.example/x"' in html, "links as written"
    assert 'href="https://flaskr.example/p/a-title"' in html
    assert leave[1:-1] in html and leave[1:-1] in text, "a visible unsubscribe link"
    assert "https://flaskr.example/subscribe/manage/" in html
    assert "https://flaskr.example/subscribe/manage/" in text
    assert "<img" not in html, "no tracking picture"
    assert (
        "Read [this](/p/other)" in text and "https://flaskr.example/p/a-title" in text
    )


def test_pictures_are_addressed_on_the_site(news_app, smtp):
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
        publish("Pictures", "![A cat](/images/12.webp)\n")
    run_line(news_app)
    html = smtp.inbox.messages[0].get_body(("html",)).get_content()
    assert 'src="https://flaskr.example/images/12.webp"' in html
    assert 'alt="A cat"' in html


def test_drafts_edits_and_posts_kept_out_of_the_mail_are_never_sent(news_app, smtp):
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
        draft = publish("Draft", publish=False)
        quiet = publish("Quiet")
        quiet.mail_subscribers = False
        db.session.commit()
    # the flag is read when the fan-out runs, after the commit above
    assert run_line(news_app) == 0
    with news_app.app_context():
        post = publish("Out")
        writing.update_post(post.author, post, "Out", "edited", tags=[])
        writing.update_post(post.author, post, "Out", "edited", tags=[], unpublish=True)
        writing.update_post(post.author, post, "Out", "again", tags=[], publish=True)
        draft = db.session.get(Post, draft.id)
        writing.update_post(draft.author, draft, "Draft", "still a draft", tags=[])
    assert run_line(news_app) == 1, "published twice, mailed once"
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Out"]


def test_a_post_taken_back_before_its_turn_is_not_mailed(news_app, smtp):
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
        post = publish("Oops")
        writing.update_post(post.author, post, "Oops", "x", tags=[], unpublish=True)
    assert run_line(news_app) == 0 and smtp.inbox.messages == []


def test_a_scheduled_post_is_mailed_only_once_it_is_out(news_app, smtp):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
        publish("Later", publish=False, schedule_at=soon)
    assert run_line(news_app) == 0
    with time_machine.travel(soon + dt.timedelta(minutes=1)):
        assert run_line(news_app) == 1
        assert run_line(news_app) == 0
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Later"]


def test_withdrawn_accounts_neither_send_nor_get_mail(news_app, smtp):
    with news_app.app_context():
        other = user_named("other")
        subscribe("member@example.org", SITE, user_id=other.id)
        subscribe("reader@example.org", SITE)
        other.state = SUSPENDED
        db.session.commit()
        publish()
        add_user("quiet", role="author")
        publish("Withheld", writer="quiet")
        # suspended after publishing, before the fan-out's turn
        user_named("quiet").state = SUSPENDED
        db.session.commit()
    assert run_line(news_app) == 1
    assert recipients(smtp) == ["reader@example.org"]


def test_a_fan_out_that_fails_half_way_resumes_without_repeating(
    news_app, smtp, monkeypatch
):
    with news_app.app_context():
        for n in range(5):
            subscribe(f"r{n}@example.org", SITE)
        publish()
    calls = {"n": 0}
    real = newsletter._mail_batch

    def dies_in_the_second_batch(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        real(*args)

    monkeypatch.setattr(newsletter, "_mail_batch", dies_in_the_second_batch)
    with news_app.app_context():
        assert deliver_due_events() == 1  # the federation handler's run only
        assert ids_of(PostMailing) == 2, "the first batch (NEWSLETTER_BATCH) stayed"
        db.session.execute(sa.update(EventDelivery).values(next_attempt=LONG_AGO))
        db.session.commit()
        assert deliver_due_events() == 1
        assert ids_of(PostMailing) == 5 and ids_of(OutboxMail) == 5
        deliver_due_mail()
    assert recipients(smtp) == [f"r{n}@example.org" for n in range(5)]


def test_two_fan_outs_at_once_write_each_mail_once(news_app, smtp):
    with news_app.app_context():
        for n in range(6):
            subscribe(f"r{n}@example.org", SITE)
        publish()
        [event] = db.session.scalars(sa.select(newsletter.Event))
        event_id = event.id

    def fan_out():
        with news_app.app_context():
            newsletter.mail_subscribers_about_post(
                db.session.get(newsletter.Event, event_id)
            )
            db.session.commit()

    workers = [threading.Thread(target=fan_out) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with news_app.app_context():
        assert ids_of(OutboxMail) == 6
        deliver_due_mail()
    assert recipients(smtp) == [f"r{n}@example.org" for n in range(6)]


def test_weekly_readers_get_one_digest_a_week(news_app, smtp):
    now = dt.datetime.now(dt.UTC)
    with news_app.app_context():
        subscribe("weekly@example.org", SITE, cadence=WEEKLY)
        subscribe("each@example.org", SITE)
        publish("First")
        publish("Second")
    assert run_line(news_app) == 2
    assert recipients(smtp) == ["each@example.org", "each@example.org"]
    with news_app.app_context():
        # confirmed long ago: its first week is over
        assert newsletter.send_weekly_digests() == 1
        assert newsletter.send_weekly_digests() == 0, "once a week"
        deliver_due_mail()
    digest = smtp.inbox.messages[-1]
    assert digest["To"] == "weekly@example.org"
    assert digest["Subject"] == "Flaskr: 2 new posts this week"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = digest.get_body(("plain",)).get_content()
    assert text.index("Second") < text.index("First")
    with news_app.app_context():
        publish("Third")
    run_line(news_app)
    with news_app.app_context():
        assert newsletter.send_weekly_digests() == 0, "the week is not over"
    later = now + dt.timedelta(days=7, minutes=1)
    with time_machine.travel(later), news_app.app_context():
        assert newsletter.send_weekly_digests() == 1
        deliver_due_mail()
    assert smtp.inbox.messages[-1]["Subject"] == "Flaskr: 1 new post this week"
    assert recipients(smtp).count("weekly@example.org") == 2


def test_the_sender_keeps_to_its_rate(news_app, smtp):
    news_app.config["MAIL_SEND_RATE"] = 20
    with news_app.app_context():
        for n in range(6):
            subscribe(f"r{n}@example.org", SITE)
        publish()
        deliver_due_events()
        started = time.monotonic()
        assert deliver_due_mail() == 6
        assert time.monotonic() - started >= 5 / 20


def test_the_editor_keeps_a_post_out_of_the_mail_when_asked(news_app, smtp):
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
    client = news_app.test_client()
    AuthActions(client).login()
    assert "Do not mail this post to subscribers" in client.get("/create").text
    write_in_editor(client, title="Quiet", no_mail="y")
    write_in_editor(client, title="Loud")
    write_in_editor(client, title="Draft first", action="draft", no_mail="y")
    with news_app.app_context():
        draft = db.session.scalars(sa.select(Post).filter_by(title="Draft first")).one()
        assert draft.mail_subscribers is False
        draft_id = draft.id
    page = client.get(f"/{draft_id}/update").text
    assert re.search(r'<input[^>]* checked [^>]*name="no_mail"', page)
    # published with the box now cleared: it is mailed
    write_in_editor(client, f"/{draft_id}/update", title="Draft first")
    assert run_line(news_app) == 2
    assert sorted(m["Subject"] for m in smtp.inbox.messages) == ["Draft first", "Loud"]
    assert "no_mail" not in client.get(f"/{draft_id}/update").text, "out: too late"


def test_digests_are_written_by_the_timer_an_hour_apart_and_by_cron(news_app, smtp):
    with news_app.app_context():
        subscribe("weekly@example.org", SITE, cadence=WEEKLY)
        publish("First")
    work = news_app.extensions["flaskr.background"]
    work.run_once()
    assert recipients(smtp) == ["weekly@example.org"], "the timer wrote a digest"
    with news_app.app_context():
        db.session.execute(sa.update(Subscriber).values(last_digest=LONG_AGO))
        db.session.commit()
        publish("Second")
    work.run_once()
    assert len(smtp.inbox.messages) == 1, "the timer looks again in an hour"
    result = news_app.test_cli_runner().invoke(args=["send-digests"])
    assert result.output == (
        "Wrote 1 digest, forgot 0 unconfirmed addresses, sent 1 mail.\n"
    )
    assert smtp.inbox.messages[-1]["Subject"] == "Flaskr: 1 new post this week"


def test_the_api_may_keep_an_article_out_of_the_mail(news_app, smtp):
    with news_app.app_context():
        subscribe("reader@example.org", SITE)
    client = news_app.test_client()
    user = {
        "username": "ada",
        "email": "ada@example.org",
        "password": "a long passphrase",
    }
    token = client.post("/api/users", json={"user": user}).json["user"]["token"]
    headers = {"Authorization": f"Token {token}"}

    def write(title, **fields):
        article = {"title": title, "description": "", "body": "Text", **fields}
        return client.post("/api/articles", headers=headers, json={"article": article})

    assert write("Quiet", mailSubscribers=False).status_code == 201
    assert write("Loud").status_code == 201
    refused = write("Odd", mailSubscribers="no")
    assert refused.status_code == 422
    assert "mailSubscribers must be true or false." in str(refused.json["errors"])
    draft = write("Later", published=False, mailSubscribers=False).json["article"]
    changed = client.put(
        f"/api/articles/{draft['slug']}",
        headers=headers,
        json={"article": {"published": True, "mailSubscribers": True}},
    )
    assert changed.status_code == 200
    run_line(news_app)
    mailed = [
        m["Subject"] for m in smtp.inbox.messages if m["To"] == "reader@example.org"
    ]
    assert sorted(mailed) == ["Later", "Loud"]


def test_a_slow_sender_claims_only_what_it_sends_within_half_a_lease(news_app):
    with news_app.app_context():
        for n in range(5):
            subscribe(f"r{n}@example.org", SITE)
        publish()
        deliver_due_events()
        pace = mail._Pace(0.05)
        assert pace.claim_size() == 3, "60 s of a 120 s lease"
        assert len(mail._claim(pace.claim_size())) == 3
        assert len(mail._claim(pace.claim_size())) == 2, "the rest, for another"
        assert mail._claim(pace.claim_size()) == []


def test_switching_to_each_post_sends_what_waited_for_the_digest(news_app, smtp):
    with news_app.app_context():
        reader = subscribe("weekly@example.org", SITE, cadence=WEEKLY)
        reader.last_digest = dt.datetime.now(dt.UTC)  # its week has just begun
        db.session.commit()
        publish("Gathered")
    run_line(news_app)
    assert recipients(smtp) == []
    with news_app.app_context():
        reader = db.session.get(Subscriber, reader.id)
        assert subscriptions.save_preferences(
            reader, site=True, writer_ids=[], cadence="each"
        )
        deliver_due_mail()
        publish("Next")
    run_line(news_app)
    assert [m["Subject"] for m in smtp.inbox.messages] == [
        "Flaskr: 1 new post this week",
        "Next",
    ]


def test_addresses_that_never_confirmed_are_forgotten_after_a_week(news_app):
    with news_app.app_context():
        subscribe("old@example.org", SITE, confirmed=False)
        kept = subscribe("kept@example.org", SITE)
        link = subscriber_links.token(
            db.session.scalars(
                sa.select(Subscriber).filter_by(email="old@example.org")
            ).one(),
            subscriber_links.CONFIRM,
        )
        assert subscriptions.purge_unconfirmed() == 0, "a new address waits"
    later = dt.datetime.now(dt.UTC) + subscriptions.UNCONFIRMED_KEPT
    with time_machine.travel(later + dt.timedelta(minutes=1)), news_app.app_context():
        assert subscriptions.purge_unconfirmed() == 1
        emails = set(db.session.scalars(sa.select(Subscriber.email)))
        assert emails == {kept.email}
        assert subscriber_links.subscriber_for(link, subscriber_links.CONFIRM) is None
