import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa
from flask import flash
from flask import g

from flaskr.db import db
from flaskr.models import AuthSession
from flaskr.web.users import end_session
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements


def session_rows(app):
    with app.app_context():
        return db.session.scalars(sa.select(AuthSession)).all()


def test_anonymous_page_makes_no_session(client, app):
    response = client.get("/")
    assert "Set-Cookie" not in response.headers
    assert session_rows(app) == []


def test_cookie_holds_only_a_signed_random_token(client, auth, app):
    auth.login()
    cookie = client.get_cookie("flaskr_session").value
    token, signature = cookie.rsplit(".", 1)
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert signature

    rows = session_rows(app)
    assert len(rows) == 1
    assert rows[0].id == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].user_id == 1
    assert token not in rows[0].data


def test_forged_or_unsigned_cookie_is_ignored(client, auth, app):
    auth.login()
    token = client.get_cookie("flaskr_session").value.rsplit(".", 1)[0]
    for forged in (token, token + ".bad-signature", "garbage", "\u00ff"):
        stranger = app.test_client()
        stranger.set_cookie("flaskr_session", forged)
        with stranger:
            assert stranger.get("/").status_code == 200
            assert g.user is None


def test_flashed_messages_survive_a_redirect(client, auth):
    auth.login()
    token = csrf_token_from(client, "/create")
    client.post("/create", data={"title": "hello", "body": "", "csrf_token": token})
    assert b"Your post is published." in client.get("/").data
    assert b"Your post is published." not in client.get("/").data


def age_sessions(app, **delta):
    with app.app_context():
        for row in db.session.scalars(sa.select(AuthSession)):
            row.created -= dt.timedelta(**delta)
            row.last_seen -= dt.timedelta(**delta)
        db.session.commit()


@pytest.mark.parametrize(
    ("setting", "age"),
    [("SESSION_IDLE_TIMEOUT", 61), ("SESSION_ABSOLUTE_LIFETIME", 61)],
)
def test_session_expires_on_the_server(app_with, setting, age):
    app = app_with(**{setting: 60})
    client = app.test_client()
    AuthActions(client).login()
    with client:
        client.get("/")
        assert g.user is not None

    age_sessions(app, seconds=age)
    with client:
        client.get("/")
        assert g.user is None
    assert all(row.user_id is None for row in session_rows(app))


def test_recent_activity_keeps_idle_session_alive(app_with):
    app = app_with(SESSION_IDLE_TIMEOUT=60, SESSION_TOUCH_INTERVAL=10)
    client = app.test_client()
    AuthActions(client).login()
    for _ in range(3):
        age_sessions(app, seconds=40)
        with client:
            client.get("/")
            assert g.user is not None


def test_last_seen_is_not_written_on_every_request(client, auth, app):
    auth.login()
    client.get("/")

    def session_writes(statements):
        return [sql for sql, _ in statements if sql.startswith("UPDATE auth_session")]

    with recorded_statements(app) as statements:
        client.get("/")
        client.get("/")
    assert session_writes(statements) == []
    age_sessions(app, minutes=6)
    with recorded_statements(app) as statements:
        client.get("/")
    assert len(session_writes(statements)) == 1


def test_pages_vary_on_cookie(client, auth):
    auth.login()
    assert "Cookie" in client.get("/").headers["Vary"]


@pytest.mark.parametrize("change", ["flash", "logout", "none"])
def test_session_ended_by_another_request_meanwhile(app_with, change):
    """Two requests of one session race: one ends it while the other runs."""
    app = app_with(SESSION_TOUCH_INTERVAL=0)
    ended = []

    @app.route("/race", methods=["POST"])
    def race():
        with app.app_context():
            ended.append(db.session.execute(sa.delete(AuthSession)).rowcount)
            db.session.commit()
        if change == "flash":
            flash("still here")
        elif change == "logout":
            end_session()
        return "ok"

    client = app.test_client()
    AuthActions(client).login()
    token = csrf_token_from(client, "/create")
    response = client.post("/race", data={"csrf_token": token})
    assert response.status_code == 200
    assert ended == [1]
    with client:
        client.get("/")
        assert g.user is None


def test_a_visitors_session_ends_sooner_than_a_users(app):
    """Opening a form gives a visitor a session (for its CSRF token); unused for
    a day it ends, while a logged-in session lives on."""
    visitor = app.test_client()
    token = csrf_token_from(visitor, "/auth/login")
    member = app.test_client()
    AuthActions(member).login()
    age_sessions(app, hours=25)
    with member:
        member.get("/drafts")
        assert g.user is not None
    response = visitor.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
    )
    assert response.status_code == 400  # the token ended with the session


def test_a_login_purges_visitors_sessions_after_a_day(app_with):
    app = app_with(SESSION_PURGE_INTERVAL=0)
    for _ in range(3):
        app.test_client().get("/auth/register")
    age_sessions(app, hours=25)
    AuthActions(app.test_client()).login()
    assert [row.user_id for row in session_rows(app)] == [1]
