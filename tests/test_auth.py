import threading

import pytest
import sqlalchemy as sa
from argon2 import extract_parameters
from argon2 import PasswordHasher
from flask import g
from flask import session
from werkzeug.security import generate_password_hash

from flaskr.db import db
from flaskr.models import User
from flaskr.services.accounts.directory import authenticate
from flaskr.services.accounts.passwords import common_passwords
from flaskr.services.accounts.passwords import DEFAULT_HASH_PARAMETERS
from flaskr.services.accounts.passwords import last_argon2_run
from flaskr.services.accounts.passwords import Passwords
from flaskr.web.users import safe_next
from tests.conftest import csrf_token_from
from tests.conftest import without_csrf_tokens

GOOD_PASSWORD = "correct horse battery staple"


def register(client, username, password=GOOD_PASSWORD):
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token_from(client, "/auth/register"),
        },
    )


def find(app, username):
    with app.app_context():
        return db.session.scalars(
            sa.select(User).where(User.username == username)
        ).one_or_none()


def test_register(client, app):
    assert client.get("/auth/register").status_code == 200
    response = register(client, "a")
    assert response.headers["Location"] == "/auth/login"
    user = find(app, "a")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", GOOD_PASSWORD, b"User test is already registered."),
        ("TEST", GOOD_PASSWORD, b"User TEST is already registered."),
        ("a" * 41, GOOD_PASSWORD, b"at most 40 characters"),
        ("has space", GOOD_PASSWORD, b"may contain only"),
        ("<script>", GOOD_PASSWORD, b"may contain only"),
        ("caf\u00e9", GOOD_PASSWORD, b"may contain only"),
        ("bob", "short", b"at least 8 characters"),
        ("bob", "password1", b"most commonly used passwords"),
        ("longusername", "LongUserName", b"same as the username"),
        ("bob", "x" * 4097, b"at most 4096 characters"),
    ],
)
def test_register_validate_input(client, app, username, password, message):
    response = register(client, username, password)
    assert response.status_code == 422
    assert message in response.data
    if username not in ("test", "TEST"):
        assert find(app, username) is None


def test_register_keeps_case_and_allowed_characters(client, app):
    register(client, "Ann.O-Nymous_2")
    user = find(app, "Ann.O-Nymous_2")
    assert user.username_key == "ann.o-nymous_2"


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "a" * 64 + " with spaces, ünïcödé and 🙂 emoji",
        "p" * 1024,
        " leading and trailing spaces ",
    ],
)
def test_password_any_characters_no_truncation(client, app, auth, password):
    if password == "12345678":
        assert b"most commonly used" in register(client, "bob", password).data
        return
    register(client, "bob", password)
    assert find(app, "bob") is not None
    assert auth.login("bob", password).headers["Location"] == "/"
    auth.logout()
    assert auth.login("bob", password[:-1]).status_code == 422


def test_common_password_list_is_large():
    passwords = common_passwords()
    assert len(passwords) >= 3000
    assert {"password", "iloveyou", "12345678", "qwertyuiop"} <= passwords


def test_concurrent_registrations_one_wins(make_app):
    app = make_app()
    barrier = threading.Barrier(6)
    statuses = []

    def attempt():
        client = app.test_client()
        token = csrf_token_from(client, "/auth/register")
        barrier.wait()
        response = client.post(
            "/auth/register",
            data={"username": "racer", "password": GOOD_PASSWORD, "csrf_token": token},
        )
        statuses.append((response.status_code, response.data))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(code for code, _ in statuses) == [302] + [422] * 5
    assert all(b"already registered" in data for code, data in statuses if code == 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_login(client, auth):
    assert client.get("/auth/login").status_code == 200
    response = auth.login()
    assert response.headers["Location"] == "/"

    with client:
        client.get("/")
        assert session["user_id"] == 1
        assert g.user.username == "test"


def test_login_is_case_insensitive(client, auth):
    assert auth.login("TeSt", "test").headers["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "password"),
    [("a", "test"), ("test", "a"), ("TEST", "TEST"), ("nul\x00name", "x")],
)
def test_login_validate_input(auth, username, password):
    response = auth.login(username, password)
    assert response.status_code == 422
    assert b"Incorrect username or password." in response.data


def test_login_failures_look_the_same(auth):
    unknown = auth.login("nobody", "wrong password")
    wrong = auth.login("test", "wrong password")
    assert unknown.status_code == wrong.status_code == 422
    unknown_page = without_csrf_tokens(unknown.get_data(as_text=True))
    wrong_page = without_csrf_tokens(wrong.get_data(as_text=True))
    assert unknown_page.replace("nobody", "test") == wrong_page


def test_login_missing_user_verifies_a_hash(app, monkeypatch):
    calls = []
    original = Passwords.verify

    def counting_verify(self, stored_hash, password):
        calls.append(stored_hash)
        return original(self, stored_hash, password)

    monkeypatch.setattr(Passwords, "verify", counting_verify)
    with app.app_context():
        assert authenticate("nobody", "whatever") is None
        assert authenticate("test", "wrong") is None
    assert len(calls) == 2
    assert calls[0].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("field", "message"),
    [("username", b"Username is required."), ("password", b"Password is required.")],
)
def test_login_missing_field(client, field, message):
    data = {"username": "test", "password": "test"}
    del data[field]
    data["csrf_token"] = csrf_token_from(client, "/auth/login")
    response = client.post("/auth/login", data=data)
    assert response.status_code == 422
    assert message in response.data


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/create", "/create"),
        ("/1/update?x=1", "/1/update?x=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_goes_to_safe_next(client, target, expected):
    page = client.get("/auth/login", query_string={"next": target})
    assert page.status_code == 200
    response = client.post(
        "/auth/login",
        data={
            "username": "test",
            "password": "test",
            "next": target,
            "csrf_token": csrf_token_from(client, "/auth/login"),
        },
    )
    assert response.headers["Location"] == expected


def test_safe_next_refuses_other_hosts():
    assert safe_next("/a/b") == "/a/b"
    for target in ("//x", "/\\x", "http://x", "x", "/a\nb", "/a\\b"):
        assert safe_next(target) is None


def test_login_required_remembers_where_to_go(client):
    response = client.get("/create")
    assert response.headers["Location"] == "/auth/login?next=/create"


def test_login_starts_a_new_session(client, auth):
    csrf_token_from(client, "/auth/login")
    before = client.get_cookie("flaskr_session").value
    auth.login()
    after = client.get_cookie("flaskr_session").value
    assert before != after

    # The token from before login is not logged in.
    other = client.application.test_client()
    other.set_cookie("flaskr_session", before)
    with other:
        other.get("/")
        assert g.user is None


def test_logout(client, auth):
    auth.login()
    with client:
        auth.logout()
        assert "user_id" not in session
        client.get("/")
        assert g.user is None


def test_logout_get_changes_nothing(client, auth):
    auth.login()
    response = client.get("/auth/logout")
    assert response.status_code == 200
    assert b'method="post"' in response.data
    with client:
        client.get("/")
        assert g.user.username == "test"


def test_logout_without_csrf_token_is_refused(client, auth):
    auth.login()
    response = client.post("/auth/logout")
    assert response.status_code == 400
    with client:
        client.get("/")
        assert g.user is not None


def test_logout_button_on_every_page(client, auth):
    auth.login()
    for path in ("/", "/create", "/1/update"):
        page = client.get(path).get_data(as_text=True)
        assert 'action="/auth/logout"' in page
        assert 'method="post"' in page


def test_cookie_copied_before_logout_is_useless(client, auth):
    auth.login()
    copied = client.get_cookie("flaskr_session").value
    auth.logout()

    thief = client.application.test_client()
    thief.set_cookie("flaskr_session", copied)
    response = thief.get("/create")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_session_cookie_flags(client, auth):
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_secure_when_configured(make_app, password_hashes):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.get("/auth/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_new_hashes_use_owasp_argon2id():
    parameters = extract_parameters(Passwords(**DEFAULT_HASH_PARAMETERS).hash("x"))
    assert parameters.type.name == "ID"
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        2,
        19456,
        1,
    )


def test_each_argon2_run_is_noted_for_the_memory_trimmer():
    passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
    before_hash = last_argon2_run() or 0.0
    stored = passwords.hash("a password")
    after_hash = last_argon2_run()
    assert after_hash is not None and after_hash >= before_hash
    passwords.verify(stored, "wrong password")
    after_failed_check = last_argon2_run()
    assert after_failed_check > after_hash
    passwords.verify("pbkdf2:sha256:1000$salt$0000", "a password")  # no argon2
    assert last_argon2_run() == after_failed_check


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "scrypt:1024:8:1"])
def test_werkzeug_hash_verifies_and_is_upgraded(app, auth, method):
    with app.app_context():
        user = db.session.get(User, 2)
        user.password_hash = generate_password_hash("other", method=method)
        db.session.commit()

    assert auth.login("other", "wrong").status_code == 422
    assert find(app, "other").password_hash.startswith(method.split(":")[0])

    assert auth.login("other", "other").headers["Location"] == "/"
    assert find(app, "other").password_hash.startswith("$argon2id$")


def test_other_argon2_parameters_are_upgraded(app, auth):
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1)
    with app.app_context():
        user = db.session.get(User, 2)
        user.password_hash = old.hash("other")
        db.session.commit()
    auth.login("other", "other")
    parameters = extract_parameters(find(app, "other").password_hash)
    assert parameters.memory_cost == app.config["PASSWORD_HASH_MEMORY_COST"]
    assert parameters.parallelism == 1
