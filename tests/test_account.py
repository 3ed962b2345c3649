import datetime as dt
import json

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import g

from flaskr.blueprints.auth import account_page
from flaskr.db import db
from flaskr.models import AuthSession
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from tests.conftest import AuthActions
from tests.helpers import delete_account
from tests.helpers import logged_in
from tests.helpers import post_account_form

NEW_PASSWORD = "a brand new passphrase"


def is_logged_in(client):
    with client:
        client.get("/")
        return g.user is not None


def change(client, current, new):
    return post_account_form(
        client,
        "password",
        **{"password-current_password": current, "password-new_password": new},
    )


def test_account_page_requires_login(client):
    response = client.get("/auth/account")
    assert response.headers["Location"] == "/auth/login?next=/auth/account"


def test_account_page(app):
    client = logged_in(app)
    response = client.get("/auth/account")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Change password" in page
    assert "Browser A" in page
    assert "This browser" in page


def test_the_account_page_is_in_sections_with_a_table_of_contents(app):
    page = BeautifulSoup(logged_in(app).get("/auth/account").data, "html.parser")
    toc = page.find("nav", attrs={"aria-label": "On this page"})
    links = [(a.get_text(), a["href"]) for a in toc.find_all("a")]
    assert links == [
        ("Profile", "#profile"),
        ("Sign-in and security", "#security"),
        ("Mail", "#mail"),
        ("Your data", "#your-data"),
        ("Danger zone", "#danger-zone"),
    ]
    sections = {section["id"]: section for section in page.select("main section[id]")}
    assert list(sections) == [href.lstrip("#") for _, href in links]
    assert [h3.get_text() for h3 in sections["security"].find_all("h3")] == [
        "Username",
        "Password",
        "E-mail address",
        "Where you are logged in",
        "API tokens",
    ]
    assert sections["profile"].find("input", attrs={"name": "avatar-picture"})
    assert sections["mail"].find("input", attrs={"name": "comment_mail-wanted"})
    assert sections["your-data"].find("input", attrs={"name": "import-archive"})
    assert sections["danger-zone"].find("button", class_="danger")
    # Sessions are entries, not a table that crushes on a phone.
    assert page.find("table") is None
    assert len(sections["security"].select("li.entry")) == 1


@pytest.mark.parametrize("path", ["password", "sessions/end-others", "delete"])
def test_account_actions_are_posts(app, path):
    client = logged_in(app)
    assert client.get(f"/auth/account/{path}").status_code == 405


def test_change_password(app):
    client = logged_in(app, browser="Browser A")
    other = logged_in(app, browser="Browser B")
    before = client.get_cookie("flaskr_session").value

    response = change(client, "test", NEW_PASSWORD)
    assert response.headers["Location"] == "/auth/account"
    assert b"Every other session was logged out" in client.get("/auth/account").data

    assert is_logged_in(client)
    assert not is_logged_in(other)
    # This browser got a new session token too; the old one opens nothing.
    assert client.get_cookie("flaskr_session").value != before
    thief = app.test_client()
    thief.set_cookie("flaskr_session", before)
    assert not is_logged_in(thief)

    assert AuthActions(app.test_client()).login("test", "test").status_code == 422
    assert AuthActions(app.test_client()).login("test", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong", NEW_PASSWORD, b"not your current password"),
        ("", NEW_PASSWORD, b"Enter your current password."),
        ("test", "short", b"at least 8 characters"),
        ("test", "password123", b"most commonly used"),
        ("test", "", b"Password is required."),
    ],
)
def test_change_password_refused(app, current, new, message):
    client = logged_in(app)
    other = logged_in(app, browser="Browser B")
    response = change(client, current, new)
    assert response.status_code == 422
    assert message in response.data
    assert is_logged_in(other)
    assert AuthActions(app.test_client()).login("test", "test").status_code == 302


def test_wrong_current_password_counts_toward_lockout(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    client = logged_in(app)
    statuses = [change(client, "wrong", NEW_PASSWORD).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    assert AuthActions(app.test_client()).login("test", "test").status_code == 429


def test_log_out_everywhere_else(app):
    client = logged_in(app, browser="Browser A")
    others = [logged_in(app, browser=f"Browser {n}") for n in "BC"]
    page = client.get("/auth/account").get_data(as_text=True)
    assert all(f"Browser {n}" in page for n in "ABC")

    response = post_account_form(client, "sessions/end-others")
    assert response.headers["Location"] == "/auth/account"
    assert b"Logged out 2 other sessions." in client.get("/auth/account").data
    assert is_logged_in(client)
    assert not any(is_logged_in(other) for other in others)


@pytest.mark.parametrize("posts", ["keep", "delete"])
def test_delete_account(app, posts):
    client = logged_in(app)
    other = logged_in(app, browser="Browser B")
    response = delete_account(client, "test", posts)
    assert response.headers["Location"] == "/"
    assert b"Your account is deleted." in client.get("/").data

    assert not is_logged_in(client)
    assert not is_logged_in(other)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "test")) is None
        sessions = db.session.scalars(sa.select(AuthSession.user_id)).all()
        assert 1 not in sessions
        post = db.session.get(Post, 1)
        if posts == "keep":
            assert post.author_id is None
        else:
            assert post is None
    for path in ("/", "/search?q=test"):
        page = client.get(path).get_data(as_text=True)
        assert ("deleted user</span>" in page) == (posts == "keep"), path
    assert AuthActions(app.test_client()).login("test", "test").status_code == 422


@pytest.mark.parametrize(
    ("password", "posts", "message"),
    [
        ("wrong", "keep", b"not your password"),
        ("", "keep", b"Enter your password"),
        ("test", "", b"Choose what happens to your posts."),
        ("test", "everything", b"Not a valid choice"),
    ],
)
def test_delete_account_refused(app, password, posts, message):
    client = logged_in(app)
    response = delete_account(client, password, posts)
    assert response.status_code == 422
    assert message in response.data
    assert is_logged_in(client)
    with app.app_context():
        assert db.session.get(User, 1) is not None
        assert db.session.get(Post, 1).author_id == 1


def test_post_of_deleted_user_cannot_be_edited(app):
    delete_account(logged_in(app), "test", "keep")
    other = logged_in(app, "other", "other")
    assert other.get("/1/update").status_code == 403


def age_all_sessions(app, **delta):
    with app.app_context():
        for record in db.session.scalars(sa.select(AuthSession)):
            record.last_seen -= dt.timedelta(**delta)
        db.session.commit()


def session_agents(app):
    with app.app_context():
        return sorted(db.session.scalars(sa.select(AuthSession.user_agent)))


def test_expired_sessions_are_purged(app_with):
    app = app_with(SESSION_PURGE_INTERVAL=0)
    stale = logged_in(app, browser="Old browser")
    age_all_sessions(app, days=15)
    logged_in(app, browser="New browser")  # logging in purges
    assert session_agents(app) == ["New browser"]
    assert not is_logged_in(stale)


def test_logins_purge_at_most_once_per_interval(app):
    """A purge is a write of its own; logins do it once a minute, not each time."""
    logged_in(app, browser="First")  # purges, and starts the interval
    age_all_sessions(app, days=15)
    logged_in(app, browser="Second")
    assert session_agents(app) == ["First", "Second"]


def test_purge_sessions_command(app, runner):
    logged_in(app)
    with app.app_context():
        for record in db.session.scalars(sa.select(AuthSession)):
            record.created -= dt.timedelta(days=31)
        db.session.commit()
    result = runner.invoke(args=["purge-sessions"])
    assert "Deleted 1 expired sessions." in result.output


def security_events(caplog):
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "flaskr.security"
    ]


def test_security_events_are_logged_without_secrets(app_with, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    app = app_with(RATELIMIT_ENABLED=True)
    typo = "hunter2-typed-as-a-name"
    AuthActions(app.test_client()).login(typo, "secret-password-1")
    for _ in range(5):
        AuthActions(app.test_client()).login("test", "secret-password-2")
    AuthActions(app.test_client()).login("test", "test")  # locked out
    app.config["RATELIMIT_ENABLED"] = False
    client = logged_in(app)
    change(client, "test", NEW_PASSWORD)
    post_account_form(client, "sessions/end-others")
    AuthActions(client).logout()
    client = logged_in(app, "test", NEW_PASSWORD)
    delete_account(client, NEW_PASSWORD, "keep")

    events = security_events(caplog)
    names = [event["event"] for event in events]
    for expected in [
        "login_failed",
        "login_throttled",
        "login_succeeded",
        "password_changed",
        "sessions_revoked",
        "logged_out",
        "account_deleted",
    ]:
        assert expected in names, expected
    failed = [e for e in events if e["event"] == "login_failed"]
    assert failed[0]["unknown_name"].startswith("sha256:")
    assert failed[1]["user_id"] == 1
    assert all(e["address"] == "127.0.0.1" for e in events)

    text = caplog.text
    for secret in (typo, "secret-password", 'test"', NEW_PASSWORD):
        assert secret not in text
    with app.app_context():
        tokens = db.session.scalars(sa.select(AuthSession.id)).all()
    assert not any(token in text for token in tokens)


def test_admin_ends_a_users_sessions(app, runner):
    clients = [logged_in(app, browser=f"Browser {n}") for n in "AB"]
    other = logged_in(app, "other", "other")
    result = runner.invoke(args=["end-sessions", "TEST"])
    assert result.exit_code == 0
    assert "Ended 2 sessions of test." in result.output
    assert not any(is_logged_in(client) for client in clients)
    assert is_logged_in(other)

    result = runner.invoke(args=["end-sessions", "nobody"])
    assert result.exit_code != 0
    assert "No user is called 'nobody'" in result.output


def test_a_refusal_for_no_field_of_the_form_shows_above_it(app, monkeypatch):
    """A use case may refuse for a reason no field of the form names; the
    page says so above the form rather than losing it."""

    def refuse(*args, **kwargs):
        raise Invalid.of("body", "Passwords cannot be changed right now.")

    monkeypatch.setattr(account_page, "change_password", refuse)
    client = logged_in(app)
    response = post_account_form(
        client,
        "password",
        **{
            "password-current_password": "test",
            "password-new_password": "a long new passphrase",
        },
    )
    assert response.status_code == 422
    page = BeautifulSoup(response.data, "html.parser")
    [alert] = page.select(".form-error")
    assert alert.get_text(strip=True) == "Passwords cannot be changed right now."
