"""E-mail addresses on accounts and password resets, with mail read from a
real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AccountToken
from flaskr.models import AuthSession
from flaskr.models import Subscriber
from flaskr.models import User
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.helpers import logged_in

NEW_PASSWORD = "a new and long enough passphrase"
LINK = re.compile(r"https://flaskr\.example/auth/[a-z-]+/[A-Za-z0-9_-]+")


MAIL_SETTINGS = {"MAIL_SERVER": "127.0.0.1", "SITE_URL": "https://flaskr.example"}


@pytest.fixture
def site(app_with, smtp_port):
    return app_with(**MAIL_SETTINGS, MAIL_PORT=smtp_port)


def links_in(smtp, to):
    found = []
    for message in smtp.inbox.messages:
        if message["To"] == to:
            found += LINK.findall(message.get_body(("plain",)).get_content())
    return found


def ask_for_address(client, address):
    token = csrf_token_from(client, "/auth/account")
    response = client.post(
        "/auth/account/email",
        data={"email-address": address, "email-csrf_token": token},
    )
    response.close()  # mail goes out once the response is sent
    return response


def open_link(client, link):
    return client.get(link.removeprefix("https://flaskr.example"))


def confirm(client, link):
    opened = open_link(client, link)
    assert opened.status_code == 302
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = client.get(opened.headers["Location"])
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token_from(client, "/auth/confirm-email")
    return client.post("/auth/confirm-email", data={"csrf_token": token})


def email_of(app, username="test"):
    with app.app_context():
        return db.session.scalar(sa.select(User.email).where(User.username == username))


def give_address(app, smtp, address="test@example.org", username="test"):
    client = logged_in(app, username)
    ask_for_address(client, address)
    confirm(client, links_in(smtp, address)[-1])
    assert email_of(app, username) == address
    return client


def test_an_address_is_used_only_once_confirmed(site, smtp):
    client = logged_in(site)
    assert b"Add an e-mail address so you can reset" in client.get("/auth/account").data
    response = ask_for_address(client, "Test@Example.org")
    assert response.status_code == 302
    assert email_of(site) is None, "not before the link is opened"
    [link] = links_in(smtp, "Test@example.org")
    response = confirm(client, link)
    assert response.headers["Location"] == "/auth/account"
    assert email_of(site) == "Test@example.org"
    assert b"Reset links go to" in client.get("/auth/account").data
    # A link works once.
    assert confirm(client, link).status_code == 400


def test_a_newer_link_voids_the_older_one(site, smtp):
    client = logged_in(site)
    ask_for_address(client, "first@example.org")
    ask_for_address(client, "second@example.org")
    assert confirm(client, links_in(smtp, "first@example.org")[0]).status_code == 400
    assert email_of(site) is None
    confirm(client, links_in(smtp, "second@example.org")[0])
    assert email_of(site) == "second@example.org"


def test_a_change_notifies_the_old_address_and_waits_for_the_new(site, smtp):
    client = give_address(site, smtp, "old@example.org")
    ask_for_address(client, "new@example.org")
    notices = [m for m in smtp.inbox.messages if m["To"] == "old@example.org"]
    assert "moving to another e-mail address" in notices[-1]["Subject"]
    assert email_of(site) == "old@example.org"
    confirm(client, links_in(smtp, "new@example.org")[-1])
    assert email_of(site) == "new@example.org"


def test_a_confirmed_change_moves_the_accounts_subscription_along(site, smtp):
    client = give_address(site, smtp, "old@example.org")
    token = csrf_token_from(client, "/subscribe")
    followed = client.post(
        "/subscribe/account", data={"csrf_token": token, "to": "site", "next": "/"}
    )
    assert followed.status_code == 302
    ask_for_address(client, "new@example.org")
    confirm(client, links_in(smtp, "new@example.org")[-1])
    with site.app_context():
        rows = db.session.execute(sa.select(Subscriber.email, Subscriber.user_id))
        assert rows.all() == [("new@example.org", 1)]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", b"Enter an e-mail address."),
        ("not an address", b"An email address must have an @-sign."),
        ("TEST@example.ORG", b"Another account uses that address."),
    ],
)
def test_bad_or_taken_addresses_are_refused(site, smtp, address, message):
    give_address(site, smtp, "test@example.org", username="other")
    client = logged_in(site)
    response = ask_for_address(client, address)
    assert response.status_code == 422
    assert message in response.data
    assert email_of(site) is None


def forgot(client, login):
    token = csrf_token_from(client, "/auth/forgot")
    return client.post("/auth/forgot", data={"login": login, "csrf_token": token})


@pytest.mark.parametrize(
    "login", ["test", "TEST@example.org", "nobody", "nobody@example.org", "other"]
)
def test_the_forgot_page_is_the_same_for_everyone(site, smtp, login):
    """Known, unknown, with and without a confirmed address: the same page,
    and the same statements before the response (the look-up comes after)."""
    give_address(site, smtp)
    client = site.test_client()
    forgot(client, "warm-up").close()

    def answered(login):
        with recorded_statements(site) as statements:
            response = forgot(client, login)
        before_response = [statement for statement, _ in statements]
        response.close()
        return response, before_response

    reference, reference_statements = answered("someone-else")
    response, statements = answered(login)
    assert response.status_code == 200
    assert response.data == reference.data
    assert response.mimetype == "text/html"
    assert statements == reference_statements
    assert not any(
        "account_token" in s or re.search(r'FROM "?user"?\b', s) for s in statements
    ), statements
    sent = links_in(smtp, "test@example.org")
    if login.lower() in ("test", "test@example.org"):
        assert len(sent) == 2  # the confirmation, then the reset link
    else:
        assert len(sent) == 1


def reset_with(client, link, password=NEW_PASSWORD):
    opened = open_link(client, link)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert opened.headers["Location"] == "/auth/reset"
    form = client.get("/auth/reset")
    if form.status_code != 200:
        return form
    token = csrf_token_from(client, "/auth/reset")
    return client.post(
        "/auth/reset", data={"new_password": password, "csrf_token": token}
    )


def test_a_reset_link_sets_a_new_password_once(site, smtp):
    other_browser = give_address(site, smtp)
    client = site.test_client()
    forgot(client, "test").close()
    [link] = [x for x in links_in(smtp, "test@example.org") if "/reset/" in x]
    page = client.get(open_link(client, link).headers["Location"])
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert b"Choose a new password" in page.data
    response = reset_with(client, link)
    response.close()
    assert response.headers["Location"] == "/auth/login"
    # Not logged in by it; every session of the account ended.
    assert b"Log in" in client.get("/").data
    assert other_browser.get("/auth/account").status_code == 302
    with site.app_context():
        user_sessions = sa.select(AuthSession).where(AuthSession.user_id.is_not(None))
        assert db.session.scalars(user_sessions).all() == []
    assert AuthActions(site.test_client()).login("test", "test").status_code == 422
    good = AuthActions(site.test_client()).login("test", NEW_PASSWORD)
    assert good.status_code == 302
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert subjects[-1] == "Your password on Flaskr was changed"
    # The link is spent.
    assert reset_with(site.test_client(), link).status_code == 400


def test_a_reset_link_expires_and_a_newer_one_voids_it(site, smtp):
    give_address(site, smtp)
    client = site.test_client()
    forgot(client, "test").close()
    forgot(client, "test").close()
    first, second = [x for x in links_in(smtp, "test@example.org") if "/reset/" in x]
    assert reset_with(site.test_client(), first).status_code == 400
    still_good = site.test_client()
    open_link(still_good, second)
    assert still_good.get("/auth/reset").status_code == 200
    with site.app_context():
        db.session.execute(
            sa.update(AccountToken).values(
                created=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
            )
        )
        db.session.commit()
    assert reset_with(site.test_client(), second).status_code == 400


def test_the_new_password_follows_the_rules(site, smtp):
    give_address(site, smtp)
    client = site.test_client()
    forgot(client, "test").close()
    [link] = [x for x in links_in(smtp, "test@example.org") if "/reset/" in x]
    response = reset_with(client, link, password="password")
    assert response.status_code == 422
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert AuthActions(site.test_client()).login("test", "test").status_code == 302


def test_a_reset_without_a_link_or_with_a_made_up_one_is_400(site):
    client = site.test_client()
    assert client.get("/auth/reset").status_code == 400
    client.get("/auth/reset/made-up")
    assert client.get("/auth/reset").status_code == 400
    assert client.get("/auth/confirm-email").status_code == 400


def test_forgot_is_throttled_per_account(app_with, smtp_port):
    app = app_with(**MAIL_SETTINGS, MAIL_PORT=smtp_port, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [forgot(client, "Test").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert forgot(client, "other").status_code == 200
