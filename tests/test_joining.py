"""Who may join: the join modes on the site and in the API, the bot checks
of the registration form, refused mail domains, invitations, and what the
state of an account does at login."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import User
from flaskr.models.governance import Invitation
from flaskr.services.accounts import joining
from flaskr.services.accounts import users as accounts
from flaskr.services.base import site
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.governance.members import suspend
from tests.conftest import csrf_token_from
from tests.helpers import logged_in
from tests.helpers import make_admin
from tests.helpers import submit_account_form

PASSWORD = "correct horse battery"
_STARTED = re.compile(r'name="form_started"[^>]*value="([^"]*)"')


def set_joining(app, mode="open", default_role="author", domains=""):
    with app.app_context():
        row = site.settings()
        row.join_mode, row.default_role = mode, default_role
        row.refused_email_domains = joining.normalized_domains(domains)
        db.session.commit()


def account(app, username):
    with app.app_context():
        return db.session.scalars(sa.select(User).filter_by(username=username)).first()


def register_page(client, invitation=None):
    path = "/auth/register" + (f"?invitation={invitation}" if invitation else "")
    return client.get(path)


def register(client, username="newcomer", email="", invitation="", **extra):
    page = client.get("/auth/register")
    token = csrf_token_from(client, "/auth/login")
    started = _STARTED.search(page.get_data(as_text=True))
    data = {
        "username": username,
        "password": PASSWORD,
        "email": email,
        "csrf_token": token,
        "invitation": invitation,
        "form_started": started.group(1) if started else "",
        "homepage": "",
        **extra,
    }
    return client.post("/auth/register", data=data)


def api_register(client, username="ada", email=None):
    user = {
        "username": username,
        "email": email or f"{username}@example.org",
        "password": PASSWORD,
    }
    return client.post("/api/users", json={"user": user})


def new_invitation(app, role="reader", days=None, by="test"):
    make_admin(app, by)
    with app.app_context():
        actor = db.session.scalars(sa.select(User).filter_by(username=by)).one()
        invitation, token = joining.make_invitation(actor, role, days)
        return invitation.id, token


# The modes on the site.


def test_open_mode_gives_the_default_role(app, client):
    set_joining(app, default_role="reader")
    assert register_page(client).status_code == 200
    assert register(client).status_code == 302
    user = account(app, "newcomer")
    assert (user.role, user.state) == ("reader", "active")


def test_the_tutorial_messages_stay(app, client):
    response = register(client, username="")
    assert response.status_code == 422
    assert b"Username is required." in response.data


def test_approval_mode_makes_a_waiting_account(app, client):
    set_joining(app, "approval")
    page = register_page(client)
    assert b"wait until a moderator approves" in page.data
    response = register(client)
    assert response.status_code == 302
    assert account(app, "newcomer").state == "pending"
    login = client.get("/auth/login", follow_redirects=True)
    assert b"waits for approval" in login.data


def test_a_waiting_account_sees_only_the_waiting_page(app, client):
    set_joining(app, "approval")
    register(client)
    waiting = logged_in(app, "newcomer", PASSWORD)
    for path in ("/", "/create", "/auth/account", "/admin", "/u/test"):
        response = waiting.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/auth/waiting"
    token = csrf_token_from(waiting, "/auth/waiting")
    sent = waiting.post(
        "/create", data={"title": "x", "body": "y", "csrf_token": token}
    )
    assert sent.headers["Location"] == "/auth/waiting"
    page = waiting.get("/auth/waiting")
    assert page.status_code == 200
    assert b"Your account waits for approval" in page.data
    style = waiting.get("/static/style.css")
    assert style.status_code == 200
    style.close()
    # It may delete itself from the waiting page, which shows a wrong password.
    wrong = waiting.post(
        "/auth/account/delete",
        data={
            "delete-csrf_token": token,
            "delete-password": "not it",
            "delete-posts": "delete",
        },
    )
    assert wrong.status_code == 422
    assert b"That is not your password." in wrong.data
    assert b"Your account waits for approval" in wrong.data
    gone = waiting.post(
        "/auth/account/delete",
        data={
            "delete-csrf_token": token,
            "delete-password": PASSWORD,
            "delete-posts": "delete",
        },
    )
    assert gone.status_code == 302
    assert account(app, "newcomer") is None


def test_an_active_account_is_sent_on_from_the_waiting_page(app):
    client = logged_in(app)
    assert client.get("/auth/waiting").headers["Location"] == "/"


def test_invitation_mode_without_a_link_offers_no_form(app, client):
    set_joining(app, "invitation")
    for response in (register_page(client), register_page(client, "made-up")):
        assert response.status_code == 403
        assert b'name="username"' not in response.data
    assert b"by invitation only" in register_page(client).data
    assert b"not valid" in register_page(client, "made-up").data
    assert register(client).status_code == 403
    assert account(app, "newcomer") is None


def test_an_invitation_gives_its_role_once(app, client):
    set_joining(app, "invitation")
    invitation_id, token = new_invitation(app, "contributor")
    page = register_page(client, token)
    assert page.status_code == 200
    assert f'value="{token}"'.encode() in page.data
    assert register(client, invitation=token).status_code == 302
    user = account(app, "newcomer")
    assert (user.role, user.state) == ("contributor", "active")
    with app.app_context():
        used = db.session.get(Invitation, invitation_id)
        assert used.used is not None and used.used_by == user.id
        assert used.token_hash != token and len(used.token_hash) == 64
    again = app.test_client()
    assert register_page(again, token).status_code == 403
    assert register(again, "second", invitation=token).status_code == 403
    assert account(app, "second") is None


def test_an_invitation_lets_in_without_waiting_in_approval_mode(app, client):
    set_joining(app, "approval")
    _, token = new_invitation(app, "author")
    register_page(client, token)
    assert register(client, invitation=token).status_code == 302
    assert account(app, "newcomer").state == "active"


def test_expired_and_withdrawn_invitations_do_not_work(app, client):
    set_joining(app, "invitation")
    expired_id, expired = new_invitation(app)
    _, withdrawn = new_invitation(app)
    with app.app_context():
        db.session.get(Invitation, expired_id).expires = utcnow() - dt.timedelta(
            seconds=1
        )
        db.session.commit()
    admin = logged_in(app)
    page = admin.get("/admin/invitations")
    assert page.data.count(b"Withdraw<span") == 1
    withdrawn_id = int(re.search(rb'invitation_id" value="(\d+)"', page.data)[1])
    admin.post(
        "/admin/invitations/withdraw",
        data={
            "withdraw-csrf_token": csrf_token_from(admin, "/admin/invitations"),
            "withdraw-invitation_id": str(withdrawn_id),
        },
    )
    for token in (expired, withdrawn):
        assert register_page(client, token).status_code == 403
    with app.app_context():
        assert db.session.scalar(
            sa.select(AuditEntry.action).where(
                AuditEntry.action == "invitation_withdrawn"
            )
        )
    assert b"No open invitations" in admin.get("/admin/invitations").data


def test_closed_mode_refuses_everyone(app, client):
    set_joining(app, "closed")
    page = register_page(client)
    assert page.status_code == 403
    assert b"Registration is closed" in page.data
    assert b'name="username"' not in page.data
    assert register(client).status_code == 403
    assert account(app, "newcomer") is None
    # Not even with an invitation.
    _, token = new_invitation(app)
    assert register_page(client, token).status_code == 403


def test_a_fresh_sites_first_account_is_admin_whatever_the_mode(make_app):
    app = make_app()
    set_joining(app, "closed")
    client = app.test_client()
    assert register_page(client).status_code == 200
    assert register(client, "founder").status_code == 302
    user = account(app, "founder")
    assert (user.role, user.state) == ("admin", "active")
    assert register_page(app.test_client()).status_code == 403


def test_a_fresh_sites_first_account_never_waits(make_app):
    app = make_app()
    set_joining(app, "approval")
    register(app.test_client(), "founder")
    user = account(app, "founder")
    assert (user.role, user.state) == ("admin", "active")


# The API.


@pytest.mark.parametrize("mode", ["approval", "invitation", "closed"])
def test_api_registration_is_only_for_open_sites(app, client, mode):
    set_joining(app, mode)
    response = api_register(client)
    assert response.status_code == 403
    assert "Register on the website" in response.json["errors"]["body"][0]
    assert account(app, "ada") is None


def test_api_registration_in_open_mode_and_refused_domains(app, client):
    set_joining(app, default_role="reader", domains="spam.example")
    response = api_register(client)
    assert response.status_code == 201
    assert account(app, "ada").role == "reader"
    refused = api_register(client, "bob", "bob@mail.spam.example")
    assert refused.status_code == 422
    assert "does not accept addresses" in str(refused.json)
    token = response.json["user"]["token"]
    change = client.put(
        "/api/user",
        json={"user": {"email": "ada@spam.example"}},
        headers={"Authorization": f"Token {token}"},
    )
    assert change.status_code == 422


def test_api_login_refuses_waiting_and_suspended_accounts(app, client):
    set_joining(app, "approval")
    register(client, email="wait@example.org")
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username="newcomer")).one()
        user.email, user.email_key = "wait@example.org", "wait@example.org"
        db.session.commit()
    login = {"user": {"email": "wait@example.org", "password": PASSWORD}}
    response = client.post("/api/users/login", json=login)
    assert response.status_code == 403
    assert "waits for approval" in response.json["errors"]["body"][0]
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username="newcomer")).one()
        user.state, user.state_reason = "suspended", "Spam links."
        db.session.commit()
    response = client.post("/api/users/login", json=login)
    assert response.status_code == 403
    assert response.json["errors"]["body"] == ["This account is suspended: Spam links."]


# Bots.


def test_a_filled_honeypot_makes_no_account(app, client, security_events):
    page = register_page(client).get_data(as_text=True)
    assert 'class="honeypot" aria-hidden="true"' in page
    assert re.search(r'name="homepage"[^>]*tabindex="-1"', page)
    assert "Leave this empty" in page
    response = register(client, homepage="https://spam.example")
    assert response.status_code == 400
    assert b"Please check the form and send it again." in response.data
    assert _STARTED.search(response.get_data(as_text=True)).group(1)
    assert b"https://spam.example" not in response.data
    assert account(app, "newcomer") is None
    refused = [e for e in security_events if e["event"] == "registration_refused"]
    assert [e["reason"] for e in refused] == ["honeypot"]


def test_a_form_sent_too_fast_is_refused(app_with, security_events, monkeypatch):
    app = app_with(REGISTER_MIN_FILL_SECONDS=3)
    client = app.test_client()
    assert register(client).status_code == 400
    assert account(app, "newcomer") is None
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 4)
    # Filled in four seconds: a person's pace.
    page = register_page(client).get_data(as_text=True)
    stamp = _STARTED.search(page).group(1)
    monkeypatch.setattr(time, "time", lambda: now + 8)
    token = csrf_token_from(client, "/auth/login")
    sent = client.post(
        "/auth/register",
        data={
            "username": "newcomer",
            "password": PASSWORD,
            "csrf_token": token,
            "form_started": stamp,
        },
    )
    assert sent.status_code == 302
    reasons = [
        e["reason"] for e in security_events if e["event"] == "registration_refused"
    ]
    assert reasons == ["too_fast"]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [("", "no_timestamp"), ("forged.stamp.value", "forged_timestamp")],
)
def test_a_missing_or_forged_timestamp_is_refused(
    app_with, security_events, stamp, reason
):
    app = app_with(REGISTER_MIN_FILL_SECONDS=1)
    client = app.test_client()
    token = csrf_token_from(client, "/auth/register")
    response = client.post(
        "/auth/register",
        data={
            "username": "newcomer",
            "password": PASSWORD,
            "csrf_token": token,
            "form_started": stamp,
        },
    )
    assert response.status_code == 400
    assert account(app, "newcomer") is None
    assert [
        e["reason"] for e in security_events if e["event"] == "registration_refused"
    ] == [reason]


def test_an_expired_timestamp_is_refused(app_with, security_events, monkeypatch):
    app = app_with(REGISTER_MIN_FILL_SECONDS=1)
    client = app.test_client()
    stamp = _STARTED.search(register_page(client).get_data(as_text=True)).group(1)
    token = csrf_token_from(client, "/auth/login")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 2 * 24 * 3600)
    response = client.post(
        "/auth/register",
        data={
            "username": "newcomer",
            "password": PASSWORD,
            "csrf_token": token,
            "form_started": stamp,
        },
    )
    assert response.status_code == 400
    assert [
        e["reason"] for e in security_events if e["event"] == "registration_refused"
    ] == ["expired_timestamp"]


# Refused domains.


def test_refused_domains_are_checked_and_normalized(app):
    make_admin(app)
    with app.app_context():
        admin = db.session.scalars(sa.select(User).filter_by(username="test")).one()
        with pytest.raises(Invalid) as refusal:
            joining.update_join_settings(admin, "open", "author", "not a domain\n")
        assert "refused_email_domains" in refusal.value.problems
        with pytest.raises(Invalid) as refusal:
            joining.update_join_settings(admin, "sometimes", "admin", "")
        assert set(refusal.value.problems) == {"join_mode", "default_role"}
        joining.update_join_settings(
            admin,
            "approval",
            "reader",
            " Spam.Example \n@Bücher.example\n\n*.spam.example",
        )
        settings = joining.join_settings()
        assert settings.refused_email_domains == "spam.example\nxn--bcher-kva.example"
        assert (settings.join_mode, settings.default_role) == ("approval", "reader")
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "join_settings_changed")
        ).one()
        assert entry.actor_id == admin.id
        other = db.session.scalars(sa.select(User).filter_by(username="other")).one()
        with pytest.raises(NotAllowed):
            joining.update_join_settings(other, "open", "author", "")


def test_a_refused_domain_refuses_its_subdomains_only(app, client):
    set_joining(app, domains="spam.example\nbücher.example")
    for address in ("a@spam.example", "a@mail.SPAM.example", "a@bücher.example"):
        response = register(client, email=address)
        assert response.status_code == 422, address
        assert b"does not accept addresses at that domain" in response.data
    assert account(app, "newcomer") is None
    assert register(client, email="a@notspam.example").status_code == 302


def test_a_refused_domain_on_the_account_page(app):
    set_joining(app, domains="spam.example")
    client = logged_in(app)
    response = submit_account_form(
        client, "email", "email", address="me@www.spam.example"
    )
    assert response.status_code == 422
    assert b"does not accept addresses at that domain" in response.data


def test_the_settings_page_saves_joining(app):
    make_admin(app)
    client = logged_in(app)
    page = client.get("/admin")
    assert b'id="joining-heading"' in page.data
    token = csrf_token_from(client, "/admin")
    bad = client.post(
        "/admin/joining",
        data={
            "joining-csrf_token": token,
            "joining-join_mode": "open",
            "joining-default_role": "admin",
            "joining-refused_email_domains": "",
        },
    )
    assert bad.status_code == 422
    assert b"Choose one of the roles offered." in bad.data
    good = client.post(
        "/admin/joining",
        data={
            "joining-csrf_token": token,
            "joining-join_mode": "closed",
            "joining-default_role": "reader",
            "joining-refused_email_domains": "Spam.example",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        assert joining.join_settings() == joining.JoinSettings(
            "closed", "reader", "spam.example"
        )
    author = logged_in(app, "other")
    token = csrf_token_from(author, "/auth/account")
    sent = author.post("/admin/joining", data={"joining-csrf_token": token})
    assert sent.status_code == 403


# Invitations.


def test_who_may_invite_whom(app):
    with app.app_context():
        test, other = (
            db.session.scalars(sa.select(User).filter_by(username=name)).one()
            for name in ("test", "other")
        )
        test.role, other.role = "editor", "author"
        db.session.commit()
        with pytest.raises(Invalid):
            joining.make_invitation(test, "editor")
        with pytest.raises(Invalid):
            joining.make_invitation(test, "reader", 0)
        with pytest.raises(NotAllowed):
            joining.make_invitation(other, "reader")
        invitation, token = joining.make_invitation(test, "reader")
        assert dt.timedelta(days=6, hours=23) < invitation.expires - utcnow()
        assert joining.find_invitation(token).id == invitation.id
        assert joining.open_invitations(test) == [invitation]
        with pytest.raises(NotAllowed):
            joining.open_invitations(other)
        other.role = "admin"
        theirs, _ = joining.make_invitation(other, "editor", 30)
        with pytest.raises(NotAllowed):
            joining.withdraw_invitation(test, theirs.id)
        joining.withdraw_invitation(test, invitation.id)
        with pytest.raises(Invalid):
            joining.withdraw_invitation(test, invitation.id)


def test_the_invitations_page_shows_a_new_link_once(app):
    make_admin(app)
    client = logged_in(app)
    assert client.get("/admin/invitations").status_code == 200
    token = csrf_token_from(client, "/admin/invitations")
    made = client.post(
        "/admin/invitations",
        data={"invite-csrf_token": token, "invite-role": "author", "invite-days": "3"},
    )
    assert made.status_code == 201
    link = re.search(rb"(http://[^<]*/auth/register\?invitation=[\w-]+)", made.data)
    assert link is not None
    assert link[1] not in client.get("/admin/invitations").data
    bad = client.post(
        "/admin/invitations",
        data={"invite-csrf_token": token, "invite-role": "admin", "invite-days": "x"},
    )
    assert bad.status_code == 422
    assert b"Enter a number of days." in bad.data
    assert logged_in(app, "other").get("/admin/invitations").status_code == 403


def test_two_registrations_racing_with_one_invitation_make_one_account(app):
    set_joining(app, "invitation")
    _, token = new_invitation(app, "author")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(name):
        with app.app_context():
            barrier.wait()
            try:
                accounts.register(name, PASSWORD, invitation=token)
            except NotAllowed:
                outcomes.append("refused")
            else:
                outcomes.append("made")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(f"racer{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made", "refused"]
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(User.username.like("racer%"))
        )
        assert count == 1


# The state of an account at login.


def test_a_suspended_account_is_told_why_at_login(app, client, auth, security_events):
    make_admin(app)
    with app.app_context():
        admin, other = (
            db.session.scalars(sa.select(User).filter_by(username=name)).one()
            for name in ("test", "other")
        )
        suspend(admin, other, "Posting spam links.")
    response = auth.login("other", "other")
    assert response.status_code == 403
    assert b"This account is suspended: Posting spam links." in response.data
    assert [
        e["state"] for e in security_events if e["event"] == "login_refused_state"
    ] == ["suspended"]
    # A wrong password still gets the ordinary answer.
    wrong = auth.login("other", "wrong")
    assert wrong.status_code == 422
    assert b"suspended" not in wrong.data


def test_a_removed_account_cannot_log_in(app, auth):
    with app.app_context():
        other = db.session.scalars(sa.select(User).filter_by(username="other")).one()
        other.state = "removed"
        db.session.commit()
    response = auth.login("other", "other")
    assert response.status_code == 403
    assert b"This account is removed." in response.data


def test_an_invitation_used_since_it_was_read_is_refused(app, monkeypatch):
    """The loser of a race read the invitation while it was open: the guarded
    UPDATE finds it used and refuses, and no account is made."""
    set_joining(app, "invitation")
    invitation_id, token = new_invitation(app, "author")
    with app.app_context():
        accounts.register("first", PASSWORD, invitation=token)
        used = db.session.get(Invitation, invitation_id)
        monkeypatch.setattr(joining, "find_invitation", lambda token: used)
        with pytest.raises(NotAllowed):
            accounts.register("second", PASSWORD, invitation=token)
    assert account(app, "second") is None


# Hostile input: a page, never a 500.

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
_fuzz = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@_fuzz
@given(homepage=_text, started=_text, invitation=_text)
def test_hostile_registration_fields(app, homepage, started, invitation):
    app.config["REGISTER_MIN_FILL_SECONDS"] = 1
    client = app.test_client()
    assert client.get(
        "/auth/register", query_string={"invitation": invitation}
    ).status_code in (200, 403)
    token = csrf_token_from(client, "/auth/login")
    response = client.post(
        "/auth/register",
        data={
            "username": "fuzzed",
            "password": PASSWORD,
            "csrf_token": token,
            "homepage": homepage,
            "form_started": started,
            "invitation": invitation,
        },
    )
    assert response.status_code in (302, 400, 403, 422), response.status


_clients: dict[str, tuple] = {}


@pytest.fixture(autouse=True)
def _forget_clients():
    yield
    _clients.clear()


@_fuzz
@given(mode=_text, role=_text, domains=_text, days=_text, invitation_id=_text)
def test_hostile_joining_forms(app, mode, role, domains, days, invitation_id):
    if "admin" not in _clients:
        make_admin(app)
        client = logged_in(app)
        _clients["admin"] = (client, csrf_token_from(client, "/auth/account"))
    client, token = _clients["admin"]
    sent = {
        "/admin/joining": {
            "joining-join_mode": mode,
            "joining-default_role": role,
            "joining-refused_email_domains": domains,
            "joining-csrf_token": token,
        },
        "/admin/invitations": {
            "invite-role": role,
            "invite-days": days,
            "invite-csrf_token": token,
        },
        "/admin/invitations/withdraw": {
            "withdraw-invitation_id": invitation_id,
            "withdraw-csrf_token": token,
        },
    }
    for path, data in sent.items():
        response = client.post(path, data=data)
        assert response.status_code in (201, 302, 422), (path, response.status)
    set_joining(app)
