"""Following by e-mail: the form, double opt-in, one-click leaving, the
preferences page and the limits, with mail read from a real SMTP server
(aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import AuthSession
from flaskr.models import OutboxMail
from flaskr.models import PostMailing
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.models.subscribers import WEEKLY
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.base.mail import record_mail
from flaskr.services.social import subscriber_links
from flaskr.services.social import subscriptions
from flaskr.web import bot_check
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.helpers import logged_in
from tests.helpers import make_admin

SITE_URL = "https://flaskr.example"
LINK = re.compile(
    r"https://flaskr\.example(/subscribe/[a-z]+/[A-Za-z0-9_.-]+(?:\?follow=\w+)?)"
)
SENT = b"Check your inbox"


@pytest.fixture
def site(app_with, smtp_port):
    return app_with(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_FROM="Flaskr <blog@flaskr.example>",
        SITE_URL=SITE_URL,
    )


def ask(client, address, to="site", **fields):
    """Send the follow form as a visitor's page has it (no CSRF token)."""
    with client.application.app_context():
        stamp = bot_check.form_started_stamp(bot_check.SUBSCRIBE)
    data = {
        "subscribe-email": address,
        "subscribe-to": to,
        "subscribe-homepage": "",
        "subscribe-form_started": stamp,
        **fields,
    }
    response = client.post("/subscribe", data=data)
    response.close()  # mail goes out once the response is sent
    return response


def links_to(smtp, address):
    found = []
    for message in smtp.inbox.messages:
        if message["To"] == address:
            found += LINK.findall(message.get_body(("plain",)).get_content())
    return found


def subscriber_row(app, address):
    with app.app_context():
        row = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == address.lower())
        )
        if row is None:
            return None
        follows = sorted(
            db.session.scalars(
                sa.select(Subscription.author_id).where(
                    Subscription.subscriber_id == row.id
                )
            ),
            key=lambda value: -1 if value is None else value,
        )
        return {"confirmed": row.confirmed is not None, "follows": follows, "row": row}


def session_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession))


def confirm(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token_from(client, path)
    return client.post(path, data={"csrf_token": token})


def user_id(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == name))


def give_email(app, name, address):
    with app.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.username == name)
            .values(email=address, email_key=address.lower())
        )
        db.session.commit()


def confirmed_subscriber(app, address, author_id=None):
    with app.app_context():
        subscriber = Subscriber(
            email=address,
            email_key=address.lower(),
            link_key=subscriber_links.new_link_key(),
            confirmed=utcnow(),
        )
        db.session.add(subscriber)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=author_id))
        db.session.commit()
        return subscriber.id


def link_for(app, subscriber_id, purpose):
    with app.app_context():
        subscriber = db.session.get(Subscriber, subscriber_id)
        return subscriber_links.link(subscriber, purpose).removeprefix(SITE_URL)


def test_a_visitor_follows_the_site_after_confirming(site, smtp):
    client = site.test_client()
    response = ask(client, "Reader@Example.org")
    assert response.status_code == 200
    assert SENT in response.data and b"Reader@Example.org" in response.data
    assert "Set-Cookie" not in response.headers, "the form makes no session"
    assert session_count(site) == 0
    [message] = smtp.inbox.messages
    assert message["Subject"] == "Confirm: new posts of Flaskr by e-mail"
    assert message["From"] == "Flaskr <blog@flaskr.example>"
    [path] = links_to(smtp, "Reader@example.org")
    assert path.endswith("?follow=site")
    assert subscriber_row(site, "reader@example.org")["confirmed"] is False
    assert subscriber_row(site, "reader@example.org")["follows"] == []

    # Opening the link (a mail scanner does) changes nothing: it shows a button.
    page = client.get(path)
    assert b"Confirm your subscription" in page.data
    assert subscriber_row(site, "reader@example.org")["confirmed"] is False

    done = confirm(client, path)
    assert done.status_code == 302
    assert done.headers["Location"].startswith("/subscribe/manage/")
    assert subscriber_row(site, "reader@example.org") | {"row": None} == {
        "confirmed": True,
        "follows": [None],
        "row": None,
    }
    preferences = client.get(done.headers["Location"])
    assert b"new posts of Flaskr will be mailed to Reader@example.org" in (
        preferences.data
    )
    # Opened again, the link says so; only one mail went out all along.
    assert b"You are subscribed" in client.get(path).data
    assert subscriber_row(site, "reader@example.org")["follows"] == [None]
    assert len(smtp.inbox.messages) == 1


def test_a_writer_is_followed_from_their_page_and_a_post(site, smtp):
    client = site.test_client()
    test_id = user_id(site, "test")
    for page in ("/u/test", "/1"):
        html = client.get(page, follow_redirects=True).get_data(as_text=True)
        assert f'name="subscribe-to" type="hidden" value="{test_id}"' in html, page
        assert "csrf_token" not in html, page
    ask(client, "fan@example.org", to=str(test_id))
    [path] = links_to(smtp, "fan@example.org")
    assert path.endswith(f"?follow={test_id}")
    assert b"new posts of <bdi>test</bdi>" in client.get(path).data
    confirm(client, path)
    assert subscriber_row(site, "fan@example.org")["follows"] == [test_id]


def test_the_home_and_subscribe_pages_follow_the_site(site):
    client = site.test_client()
    for page in ("/", "/subscribe"):
        html = client.get(page).get_data(as_text=True)
        assert 'name="subscribe-to" type="hidden" value="site"' in html, page
        assert 'name="subscribe-homepage"' in html and "subscribe-form_started" in html
    assert session_count(site) == 0


def test_the_answer_is_the_same_whether_or_not_the_address_follows(site, smtp):
    confirmed_subscriber(site, "known@example.org")
    client = site.test_client()
    known = ask(client, "known@example.org")
    unknown = ask(client, "unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.data.replace(b"known@", b"X@") == unknown.data.replace(
        b"unknown@", b"X@"
    )
    # Each got the same one mail, and asking added nothing yet.
    assert len(links_to(smtp, "known@example.org")) == 1
    assert len(links_to(smtp, "unknown@example.org")) == 1
    subjects = {message["Subject"] for message in smtp.inbox.messages}
    assert len(subjects) == 1


def test_the_answer_takes_the_same_work_either_way(site, smtp):
    """The look-up and the mail come after the response: what runs before it
    is the same for a known and an unknown address."""
    confirmed_subscriber(site, "known@example.org")
    client = site.test_client()
    with site.app_context():
        stamp = bot_check.form_started_stamp(bot_check.SUBSCRIBE)
    runs = []
    for address in ("known@example.org", "unknown@example.org"):
        data = {
            "subscribe-email": address,
            "subscribe-to": "site",
            "subscribe-form_started": stamp,
        }
        with recorded_statements(site) as statements:
            response = client.post("/subscribe", data=data)
        runs.append([sql for sql, _ in statements])
        assert response.status_code == 200
        response.close()
    assert runs[0] == runs[1]
    assert not any("subscriber" in sql for sql in runs[0])
    assert len(smtp.inbox.messages) == 2


def test_asking_in_a_strangers_name_adds_nothing_to_their_list(site, smtp):
    subscriber_id = confirmed_subscriber(site, "victim@example.org")
    client = site.test_client()
    ask(client, "victim@example.org", to=str(user_id(site, "test")))
    assert subscriber_row(site, "victim@example.org")["follows"] == [None]
    # The owner of the address may still add the writer with the link.
    [path] = links_to(smtp, "victim@example.org")
    confirm(client, path)
    assert subscriber_row(site, "victim@example.org")["follows"] == [
        None,
        user_id(site, "test"),
    ]
    assert subscriber_row(site, "victim@example.org")["row"].id == subscriber_id


def test_a_confirmed_link_for_what_is_followed_says_so(site, smtp):
    confirmed_subscriber(site, "again@example.org")
    client = site.test_client()
    ask(client, "again@example.org")
    [path] = links_to(smtp, "again@example.org")
    page = client.get(path)
    assert b"You are subscribed" in page.data and b"Confirm</button>" not in page.data


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", b"Enter your e-mail address."),
        ("not an address", b"An email address must have an @-sign."),
        ("a@" + "b" * 330 + ".org", b"at most 320 characters"),
    ],
)
def test_a_bad_address_is_refused_beside_the_field(site, smtp, address, message):
    response = ask(site.test_client(), address)
    assert response.status_code == 422
    assert message in response.data
    assert b'aria-invalid="true"' in response.data
    assert smtp.inbox.messages == []
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("to", ["nobody", "999", "-1", "9" * 30, ""])
def test_a_target_that_is_nobody_is_a_400(site, smtp, to):
    response = ask(site.test_client(), "reader@example.org", to=to)
    assert response.status_code == 400
    assert smtp.inbox.messages == []


def test_a_reader_cannot_be_followed(site, smtp):
    with site.app_context():
        db.session.execute(
            sa.update(User).where(User.username == "other").values(role="reader")
        )
        db.session.commit()
    client = site.test_client()
    assert b"subscribe-to" not in client.get("/u/other").data
    response = ask(client, "reader@example.org", to=str(user_id(site, "other")))
    assert response.status_code == 400


def test_the_honeypot_and_a_fast_form_are_refused(
    app_with, smtp_port, smtp, security_events
):
    app = app_with(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        SITE_URL=SITE_URL,
        SUBSCRIBE_MIN_FILL_SECONDS=2,
    )
    client = app.test_client()
    trapped = ask(client, "a@example.org", **{"subscribe-homepage": "https://spam"})
    too_fast = ask(client, "a@example.org")
    unstamped = ask(client, "a@example.org", **{"subscribe-form_started": ""})
    with app.app_context():
        register_stamp = bot_check.form_started_stamp(bot_check.REGISTER)
    other_form = ask(
        client, "a@example.org", **{"subscribe-form_started": register_stamp}
    )
    for response in (trapped, too_fast, unstamped, other_form):
        assert response.status_code == 400
        assert b"Please check the form and send it again." in response.data
    assert smtp.inbox.messages == []
    reasons = [
        event["reason"]
        for event in security_events
        if event["event"] == "subscription_refused"
    ]
    assert reasons == ["honeypot", "too_fast", "no_timestamp", "forged_timestamp"]


def test_a_form_from_another_site_is_refused(site, smtp):
    client = site.test_client()
    with site.app_context():
        stamp = bot_check.form_started_stamp(bot_check.SUBSCRIBE)
    response = client.post(
        "/subscribe",
        data={
            "subscribe-email": "victim@example.org",
            "subscribe-to": "site",
            "subscribe-form_started": stamp,
        },
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert smtp.inbox.messages == []


def test_limits_per_address_and_per_client(app_with, smtp_port, smtp):
    app = app_with(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        SITE_URL=SITE_URL,
        RATELIMIT_ENABLED=True,
        SUBSCRIBE_ADDRESS_LIMITS="2 per hour",
        SUBSCRIBE_LIMITS="5 per minute",
    )
    client = app.test_client()
    # Refused forms do not count against the address.
    assert ask(client, "not an address").status_code == 422
    assert ask(client, "target@example.org").status_code == 200
    assert ask(client, "TARGET@example.org").status_code == 200
    # Another spelling of the same address is the same address.
    limited = ask(client, "Target@Example.ORG")
    assert limited.status_code == 429
    # Both mails went to the address as first typed.
    assert len(links_to(smtp, "target@example.org")) == 2
    assert len(smtp.inbox.messages) == 2
    # Another address may still be asked for, until the client's own limit.
    assert ask(client, "someone@example.org").status_code == 200
    assert ask(client, "else@example.org").status_code == 429


def test_a_logged_in_reader_follows_with_one_button(site, smtp):
    give_email(site, "other", "other@example.org")
    client = logged_in(site, "other")
    html = client.get("/u/test").get_data(as_text=True)
    assert "other@example.org" in html
    assert 'action="/subscribe/account"' in html
    token = csrf_token_from(client, "/u/test")
    test_id = user_id(site, "test")
    response = client.post(
        "/subscribe/account",
        data={"csrf_token": token, "to": str(test_id), "next": "/u/test"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/u/test"
    row = subscriber_row(site, "other@example.org")
    assert row["confirmed"] and row["follows"] == [test_id]
    assert row["row"].user_id == user_id(site, "other")
    assert b"will be mailed to other@example.org" in client.get("/u/test").data
    with site.app_context():
        deliver_due_mail()
    assert smtp.inbox.messages == [], "no confirmation needed: the account proved it"
    # Without the session's token nothing happens.
    refused = client.post("/subscribe/account", data={"to": "site"})
    assert refused.status_code == 400
    assert subscriber_row(site, "other@example.org")["follows"] == [test_id]


def test_a_visitor_cannot_use_the_account_button(site):
    response = site.test_client().post("/subscribe/account", data={"to": "site"})
    assert response.status_code in (400, 403)


def test_a_logged_in_readers_form_needs_the_session_token(site, smtp):
    client = logged_in(site, "other")  # no confirmed address: the form, not the button
    html = client.get("/").get_data(as_text=True)
    assert 'name="subscribe-csrf_token"' in html
    without = ask(client, "other@example.org")
    assert without.status_code == 400
    assert smtp.inbox.messages == []
    token = csrf_token_from(client, "/")
    with_token = ask(client, "other@example.org", **{"subscribe-csrf_token": token})
    assert with_token.status_code == 200
    assert len(links_to(smtp, "other@example.org")) == 1


def one_click(client, path, **headers):
    return client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def test_one_click_unsubscribe_needs_no_session_nor_token(site):
    subscriber_id = confirmed_subscriber(site, "leaver@example.org")
    path = link_for(site, subscriber_id, subscriber_links.UNSUBSCRIBE)
    client = site.test_client()
    # The link opened in a browser (or by a scanner) only shows a button.
    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe</button>" in page.data
    assert subscriber_row(site, "leaver@example.org") is not None
    # A mail program POSTs it from wherever it runs, with no cookie and no token.
    response = one_click(
        client,
        path,
        **{"Origin": "https://mail.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.data
    assert subscriber_row(site, "leaver@example.org") is None
    assert session_count(site) == 0
    # The links of a subscriber who left no longer work.
    again = one_click(client, path)
    assert again.status_code == 410
    assert client.get(path).status_code == 410


def test_no_other_form_is_open_to_other_sites(site):
    """The exemption is the one-click endpoint's only."""
    subscriber_id = confirmed_subscriber(site, "stays@example.org")
    client = site.test_client()
    manage = link_for(site, subscriber_id, subscriber_links.MANAGE)
    confirm_path = link_for(site, subscriber_id, subscriber_links.CONFIRM)
    for path in (manage, confirm_path, "/subscribe"):
        response = client.post(
            path, data={"cadence": "weekly"}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403, path
    for path in (manage, confirm_path):
        assert client.post(path, data={"cadence": "weekly"}).status_code == 400, path
    assert subscriber_row(site, "stays@example.org")["row"].cadence == "each"


def test_leaving_stops_mail_written_and_not_sent(site, smtp):
    subscriber_id = confirmed_subscriber(site, "leaver@example.org")
    with site.app_context():
        mail = record_mail("leaver@example.org", "test")
        db.session.flush()
        db.session.add(
            PostMailing(post_id=1, subscriber_id=subscriber_id, mail_id=mail.id)
        )
        db.session.commit()
    path = link_for(site, subscriber_id, subscriber_links.UNSUBSCRIBE)
    assert one_click(site.test_client(), path).status_code == 200
    with site.app_context():
        assert deliver_due_mail() == 0
        row = db.session.scalars(sa.select(OutboxMail)).one()
        assert row.failed and row.sent is None
        assert row.last_error == subscriptions.UNSUBSCRIBED
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("purpose", subscriber_links.PURPOSES)
@pytest.mark.parametrize(
    "token",
    ["x", "a" * 600, "WzEsImNvbmZpcm0iLCJ4Il0.forged", "%00", "..%2F..%2Fetc"],
)
def test_a_made_up_link_is_gone(site, purpose, token):
    client = site.test_client()
    response = client.get(f"/subscribe/{purpose}/{token}")
    assert response.status_code in (404, 410)
    if response.status_code == 410:
        assert b"This link no longer works" in response.data
        assert response.mimetype == "text/html"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert one_click(client, f"/subscribe/unsubscribe/{token}").status_code in (
        404,
        410,
    )


def test_a_link_for_one_purpose_does_not_open_another(site):
    subscriber_id = confirmed_subscriber(site, "reader@example.org")
    manage = link_for(site, subscriber_id, subscriber_links.MANAGE)
    token = manage.rpartition("/")[2]
    response = one_click(site.test_client(), f"/subscribe/unsubscribe/{token}")
    assert response.status_code == 410
    assert subscriber_row(site, "reader@example.org") is not None


def manage_post(client, path, **data):
    token = csrf_token_from(client, path)
    return client.post(path, data={"csrf_token": token, **data})


def test_preferences_drop_a_writer_and_choose_the_digest(site):
    test_id, other_id = user_id(site, "test"), user_id(site, "other")
    subscriber_id = confirmed_subscriber(site, "reader@example.org")
    with site.app_context():
        for author_id in (test_id, other_id):
            db.session.add(
                Subscription(subscriber_id=subscriber_id, author_id=author_id)
            )
        db.session.commit()
    path = link_for(site, subscriber_id, subscriber_links.MANAGE)
    client = site.test_client()
    page = client.get(path).get_data(as_text=True)
    assert page.count('type="checkbox"') == 3 and "reader@example.org" in page
    saved = manage_post(
        client, path, site="site", writers=str(other_id), cadence=WEEKLY
    )
    assert saved.status_code == 302
    row = subscriber_row(site, "reader@example.org")
    assert row["follows"] == [None, other_id] and row["row"].cadence == WEEKLY
    # A writer not followed is not added from here.
    manage_post(client, path, site="site", writers=str(test_id), cadence="each")
    assert subscriber_row(site, "reader@example.org")["follows"] == [None]
    refused = manage_post(client, path, site="site", cadence="hourly")
    assert refused.status_code == 422 and b"Choose how often" in refused.data
    # Keeping nothing is leaving.
    left = manage_post(client, path, cadence="each")
    assert left.status_code == 200 and b"You are unsubscribed" in left.data
    assert subscriber_row(site, "reader@example.org") is None


def test_writers_remove_their_own_subscribers_and_administrators_any(site):
    test_id, other_id = user_id(site, "test"), user_id(site, "other")
    both = confirmed_subscriber(site, "both@example.org", author_id=test_id)
    with site.app_context():
        db.session.add(Subscription(subscriber_id=both, author_id=other_id))
        db.session.commit()
    with site.app_context():
        other, test = db.session.get(User, other_id), db.session.get(User, test_id)
        subscriber = db.session.get(Subscriber, both)
        with pytest.raises(NotAllowed):
            subscriptions.remove(other, subscriber, test)
        with pytest.raises(NotAllowed):
            subscriptions.remove(other, subscriber)
        subscriptions.remove(other, subscriber, other)
    assert subscriber_row(site, "both@example.org")["follows"] == [test_id]
    make_admin(site, "other")
    with site.app_context():
        other = db.session.get(User, other_id)
        subscriptions.remove(other, db.session.get(Subscriber, both))
        [entry] = db.session.scalars(sa.select(AuditEntry)).all()
        assert entry.action == "subscriber_removed" and entry.actor_id == other_id
    assert subscriber_row(site, "both@example.org") is None
