"""Strong login: the authenticator app, recovery codes, the login's second
step, a reset that cannot bypass it, fresh confirmation before risky
changes, the site's rule for administrators and editors, and the JSON API's
refusal. Codes are computed with ``pyotp`` as a phone would."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from flaskr.db import db
from flaskr.models import ApiToken
from flaskr.models import AuditEntry
from flaskr.models import AuthenticatorApp
from flaskr.models import AuthSession
from flaskr.models import OutboxMail
from flaskr.models import RecoveryCode
from flaskr.models import User
from flaskr.services.accounts import recovery
from flaskr.services.accounts.directory import verify_password
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import logged_in
from tests.helpers import make_admin

SECRET_IN_PAGE = re.compile(r'<code class="secret-key">([A-Z2-7]+)</code>')
CODE_IN_PAGE = re.compile(r"<li><code>([0-9a-z-]{29})</code></li>")
ADDRESS = "owner@example.org"


def post_form(client, page, action, **fields):
    """POST ``fields`` to ``action`` with the CSRF token of ``page``'s form."""
    token = csrf_token_from(client, page)
    return client.post(action, data={"csrf_token": token, **fields})


def give_address(app, username="test", address=ADDRESS):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        user.email = address
        user.email_key = address
        db.session.commit()


def set_up_app(client):
    """Set up the authenticator app from the security page; the secret and
    the recovery codes the pages showed."""
    begun = post_form(client, "/auth/account/security", "/auth/account/security/app")
    assert begun.status_code == 302
    page = client.get("/auth/account/security").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    secret = SECRET_IN_PAGE.search(page).group(1)
    shown = post_form(
        client,
        "/auth/account/security",
        "/auth/account/security/app/confirm",
        code=pyotp.TOTP(secret).now(),
    )
    assert shown.status_code == 200, shown.status
    assert shown.headers["Cache-Control"] == "no-store"
    codes = CODE_IN_PAGE.findall(shown.get_data(as_text=True))
    return secret, codes


@pytest.fixture
def owner(app):
    """A client of ``test``, logged in before the app guarded the login."""
    return logged_in(app)


@pytest.fixture
def guarded(app, owner):
    """The app, with ``test`` guarded by an authenticator app: its secret and
    its recovery codes."""
    secret, codes = set_up_app(owner)
    return app, secret, codes


def password_step(client, username="test", password="test", next_path=""):
    query = f"?next={next_path}" if next_path else ""
    token = csrf_token_from(client, f"/auth/login{query}")
    return client.post(
        "/auth/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "next": next_path,
        },
    )


def second_step(client, code):
    return post_form(
        client, "/auth/login/second-step", "/auth/login/second-step", code=code
    )


def is_logged_in(client):
    return client.get("/create").status_code == 200


def mails(app, recipient=ADDRESS):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(OutboxMail.text_body)
                .where(OutboxMail.recipient == recipient)
                .order_by(OutboxMail.id)
            )
        )


def test_setting_up_the_app_shows_ten_codes_once_and_guards_the_login(guarded):
    app, secret, codes = guarded
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        row = db.session.get(AuthenticatorApp, 1)
        assert row.confirmed is not None
        # Encrypted at rest: the database alone does not give the secret.
        assert secret not in row.secret
        stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
        assert len(stored) == 10 and not stored & set(codes)
    client = app.test_client()
    response = password_step(client)
    assert response.headers["Location"] == "/auth/login/second-step"
    assert not is_logged_in(client)
    page = client.get("/auth/login/second-step")
    assert b"The password for <strong><bdi>test</bdi></strong> was right" in page.data


def test_a_wrong_first_code_does_not_turn_the_app_on(app):
    client = logged_in(app)
    post_form(client, "/auth/account/security", "/auth/account/security/app")
    page = client.get("/auth/account/security").get_data(as_text=True)
    secret = SECRET_IN_PAGE.search(page).group(1)
    wrong = str((int(pyotp.TOTP(secret).now()) + 1) % 1_000_000).zfill(6)
    for code in (wrong, "12345", "abcdef", "", "1" * 40):
        response = post_form(
            client,
            "/auth/account/security",
            "/auth/account/security/app/confirm",
            code=code,
        )
        assert response.status_code == 422, code
    with app.app_context():
        assert db.session.get(AuthenticatorApp, 1).confirmed is None
    client = app.test_client()
    assert password_step(client).headers["Location"] == "/"


def test_the_app_code_logs_in_once_and_names_the_method(guarded):
    app, secret, _ = guarded
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Phone browser"
    password_step(client, next_path="/create")
    # The code the set-up used is spent: a login in the same 30 s needs the next.
    with time_machine.travel(time.time() + 30, tick=False):
        code = pyotp.TOTP(secret).now()
        response = second_step(client, code)
        assert response.headers["Location"] == "/create"
        assert is_logged_in(client)
        assert b"With password and app" in client.get("/auth/account").data

        other = app.test_client()
        password_step(other)
        replayed = second_step(other, code)
        assert replayed.status_code == 422
        assert b"That code is not right" in replayed.data
        assert not is_logged_in(other)


def test_each_use_of_the_app_is_mailed_to_the_owner(guarded):
    app, secret, _ = guarded
    give_address(app)
    client = app.test_client()
    password_step(client)
    with time_machine.travel(time.time() + 30, tick=False):
        assert second_step(client, pyotp.TOTP(secret).now()).status_code == 302
    told = [body for body in mails(app) if "authenticator app's code was used" in body]
    assert len(told) == 1 and "(logging in)" in told[0]


def test_a_code_from_a_step_before_the_last_one_used_is_refused(guarded):
    app, secret, _ = guarded
    totp = pyotp.TOTP(secret)
    start = time.time() + 60
    client = app.test_client()
    with time_machine.travel(start, tick=False):
        earlier = totp.at(start - 30)  # still inside the window now
        password_step(client)
        assert second_step(client, totp.now()).status_code == 302
    other = app.test_client()
    with time_machine.travel(start, tick=False):
        password_step(other)
        assert second_step(other, earlier).status_code == 422


def test_wrong_codes_share_the_logins_lockout(app_with):
    app = app_with(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_LIMITS="1000 per minute")
    client = logged_in(app)
    secret, _ = set_up_app(client)
    give_address(app)
    attacker = app.test_client()
    password_step(attacker)
    for _ in range(5):
        assert second_step(attacker, "000000").status_code == 422
    with time_machine.travel(time.time() + 30, tick=False):
        locked = second_step(attacker, pyotp.TOTP(secret).now())
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    assert not is_logged_in(attacker)
    assert sum("typed a wrong code" in body for body in mails(app)) == 5


def test_recovery_codes_work_once_each_and_say_how_many_are_left(guarded):
    app, _, codes = guarded
    give_address(app)
    client = app.test_client()
    password_step(client)
    # Typed as people do: upper case, spaces instead of dashes.
    response = second_step(client, codes[0].upper().replace("-", " "))
    assert response.status_code == 302
    assert b"9 left" in client.get("/").data
    assert b"With password and recovery code" in client.get("/auth/account").data
    again = app.test_client()
    password_step(again)
    assert second_step(again, codes[0]).status_code == 422
    assert second_step(again, codes[1]).status_code == 302
    told = [body for body in mails(app) if "recovery code was used" in body]
    assert ["9 are left" in told[0], "8 are left" in told[1]] == [True, True]


def test_new_recovery_codes_end_the_old_ones(guarded, owner):
    app, _, old = guarded
    response = post_form(
        owner,
        "/auth/account/security",
        "/auth/account/security/recovery-codes",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new = CODE_IN_PAGE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    stranger = app.test_client()
    password_step(stranger)
    assert second_step(stranger, old[2]).status_code == 422
    assert second_step(stranger, new[0]).status_code == 302


def test_the_second_step_needs_the_password_first_and_expires(guarded, app):
    _, secret, codes = guarded
    client = app.test_client()
    response = client.get("/auth/login/second-step")
    assert response.headers["Location"] == "/auth/login"
    password_step(client)
    later = time.time() + app.config["SECOND_STEP_TIMEOUT"].total_seconds() + 1
    with time_machine.travel(later, tick=False):
        response = second_step(client, codes[0])
        assert response.headers["Location"] == "/auth/login"
        assert not is_logged_in(client)


def test_a_suspension_during_the_second_step_refuses_it(guarded):
    app, _, codes = guarded
    client = app.test_client()
    password_step(client)
    with app.app_context():
        db.session.execute(
            sa.update(User).where(User.id == 1).values(state="suspended")
        )
        db.session.commit()
    response = second_step(client, codes[0])
    assert response.status_code == 403
    assert not is_logged_in(client)


def test_logging_events_name_each_step(guarded, security_events):
    app, _, codes = guarded
    client = app.test_client()
    password_step(client)
    second_step(client, "999999")
    second_step(client, codes[0])
    names = [event["event"] for event in security_events]
    assert names[-5:] == [
        "login_password_accepted",
        "second_factor_failed",
        "recovery_code_used",
        "second_factor_used",
        "login_succeeded",
    ]


def reset_link(app, login="test"):
    tokens = []
    with app.app_context():
        recovery.request_password_reset(login, lambda token: tokens.append(token) or "")
    return tokens[-1]


def reset(client, token, password, code=None):
    client.get(f"/auth/reset/{token}")
    fields = {"new_password": password}
    if code is not None:
        fields["code"] = code
    return post_form(client, "/auth/reset", "/auth/reset", **fields)


def password_is(app, password):
    with app.app_context():
        return verify_password(db.session.get(User, 1), password)


def test_a_reset_link_alone_does_not_change_a_guarded_password(guarded):
    app, secret, codes = guarded
    give_address(app)
    token = reset_link(app)
    client = app.test_client()
    page = client.get(f"/auth/reset/{token}", follow_redirects=True)
    assert b"a reset link alone does not change its password" in page.data
    new = "a brand new passphrase here"
    assert reset(client, token, new).status_code == 422
    assert reset(client, token, new, code="").status_code == 422
    assert reset(client, token, new, code="123456").status_code == 422
    assert password_is(app, "test")
    with time_machine.travel(time.time() + 30, tick=False):
        done = reset(client, token, new, code=pyotp.TOTP(secret).now())
    assert done.headers["Location"] == "/auth/login"
    assert password_is(app, new)
    # The reset changed the password, not the factors: login still asks.
    assert password_step(app.test_client(), password=new).headers["Location"] == (
        "/auth/login/second-step"
    )


def test_a_recovery_code_completes_a_reset(guarded):
    app, _, codes = guarded
    give_address(app)
    token = reset_link(app)
    response = reset(app.test_client(), token, "another long passphrase", codes[3])
    assert response.status_code == 302
    assert password_is(app, "another long passphrase")


def test_changes_to_how_one_logs_in_need_a_fresh_confirmation(app):
    client = logged_in(app)
    assert client.get("/auth/account/security").status_code == 200
    later = time.time() + app.config["FRESH_CONFIRMATION"].total_seconds() + 5
    with time_machine.travel(later, tick=False):
        response = client.get("/auth/account/security")
        assert response.headers["Location"] == (
            "/auth/confirm?next=/auth/account/security"
        )
        token = csrf_token_from(client, "/auth/account")
        made = client.post(
            "/auth/account/tokens",
            data={"token-csrf_token": token, "token-name": "script"},
            headers={"Referer": "http://localhost/auth/account"},
        )
        assert made.headers["Location"] == "/auth/confirm?next=/auth/account"
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
        wrong = post_form(
            client,
            "/auth/confirm?next=/auth/account/security",
            "/auth/confirm",
            password="not it",
            next="/auth/account/security",
        )
        assert wrong.status_code == 422
        right = post_form(
            client,
            "/auth/confirm?next=/auth/account/security",
            "/auth/confirm",
            password="test",
            next="/auth/account/security",
        )
        assert right.headers["Location"] == "/auth/account/security"
        assert client.get("/auth/account/security").status_code == 200


def test_removing_the_app_tells_the_owner_and_ends_the_second_step(guarded, owner):
    app, _, _ = guarded
    give_address(app)
    response = post_form(
        owner, "/auth/account/security", "/auth/account/security/app/remove"
    )
    assert response.status_code == 302
    assert any("authenticator app was removed" in body for body in mails(app))
    assert password_step(app.test_client()).headers["Location"] == "/"


@pytest.fixture
def strict_site(app):
    """``test`` is an administrator, ``other`` an editor, and the site
    requires a second factor of both."""
    make_admin(app)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == 2).values(role="editor"))
        db.session.commit()
    admin = logged_in(app)
    response = post_form(admin, "/admin", "/admin/sign-in", **{"sign_in-required": "y"})
    assert response.status_code == 302
    return app


def test_a_required_second_factor_comes_before_anything_else(strict_site):
    app = strict_site
    editor = logged_in(app, "other")
    for path in ("/", "/create", "/auth/account", "/admin/users"):
        response = editor.get(path)
        assert response.headers["Location"] == "/auth/account/security", path
    set_up_app(editor)
    assert editor.get("/create").status_code == 200
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.action == "second_factor_requirement_changed"
            )
        )
        assert entry.actor_name == "test"


def test_the_rule_leaves_authors_alone(strict_site):
    app = strict_site
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == 2).values(role="author"))
        db.session.commit()
    assert logged_in(app, "other").get("/create").status_code == 200


def test_an_administrator_removes_the_factors_of_an_owner_who_lost_them(guarded):
    app, _, _ = guarded
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == 2).values(role="admin"))
        db.session.commit()
    give_address(app)
    admin = logged_in(app, "other")
    page = admin.get("/admin/users/1")
    assert b"an authenticator app; 10 recovery codes left" in page.data
    response = post_form(admin, "/admin/users/1", "/admin/users/1/remove-factors")
    assert response.status_code == 302
    assert password_step(app.test_client()).headers["Location"] == "/"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    assert any("An administrator removed your passkeys" in b for b in mails(app))
    # Not one's own: that is the security page's, one factor at a time.
    own = post_form(admin, "/admin/users/2", "/admin/users/2/remove-factors")
    assert own.status_code == 403
    assert b"Only another administrator" in own.data


def test_the_api_login_refuses_an_account_with_a_second_factor(guarded):
    app, _, _ = guarded
    give_address(app, address="test@example.org")
    client = app.test_client()
    response = client.post(
        "/api/users/login",
        json={"user": {"email": "test@example.org", "password": "test"}},
    )
    assert response.status_code == 403
    assert (
        "Make an API token on your account page"
        in response.get_json()["errors"]["body"][0]
    )
    wrong = client.post(
        "/api/users/login",
        json={"user": {"email": "test@example.org", "password": "wrong"}},
    )
    assert wrong.status_code == 401


def test_a_session_says_how_it_logged_in(app):
    logged_in(app)
    with app.app_context():
        methods = list(
            db.session.scalars(
                sa.select(AuthSession.method).where(AuthSession.user_id == 1)
            )
        )
    assert methods == ["password"]


def test_secrets_written_before_a_key_rotation_still_open(guarded, make_app):
    app, secret, _ = guarded
    rotated = make_app(
        SECRET_KEY="the new key for this test only",
        SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]],
    )
    client = rotated.test_client()
    password_step(client)
    with time_machine.travel(time.time() + 30, tick=False):
        assert second_step(client, pyotp.TOTP(secret).now()).status_code == 302


def test_the_login_page_still_logs_in_an_account_without_factors(app):
    client = app.test_client()
    assert AuthActions(client).login().headers["Location"] == "/"
    assert is_logged_in(client)
    assert dt.timedelta(minutes=1) < app.config["FRESH_CONFIRMATION"]


def test_only_the_current_step_when_no_drift_is_allowed(app_with):
    app = app_with(TOTP_DRIFT_STEPS=0)
    client = logged_in(app)
    secret, _ = set_up_app(client)
    totp = pyotp.TOTP(secret)
    later = time.time() + 90
    stranger = app.test_client()
    with time_machine.travel(later, tick=False):
        password_step(stranger)
        assert second_step(stranger, totp.at(later - 30)).status_code == 422
        assert second_step(stranger, totp.at(later)).status_code == 302


PASSWORD_INPUT = re.compile(r"<input[^>]*\bname=\"[^\"]*password[^\"]*\"[^>]*>")


def test_password_fields_are_masked_and_fillable(app, owner):
    pages = {
        "/auth/login": app.test_client(),
        "/auth/register": app.test_client(),
        "/auth/account": owner,
        "/auth/confirm": owner,
    }
    found = 0
    for path, client in pages.items():
        for field in PASSWORD_INPUT.findall(client.get(path).get_data(as_text=True)):
            if 'type="hidden"' in field:
                continue  # a form's CSRF token, named after its form
            found += 1
            assert 'type="password"' in field, (path, field)
            assert "autocomplete=" in field, (path, field)
            assert "onpaste" not in field, (path, field)
    assert found >= 6
