"""The account use cases driven with no request at all: each checks its
input itself, refuses with one ``Invalid`` naming each field, logs its own
security security_events, and changes everything it should or nothing.

"Nothing" is checked against every row of every table, so a refusal that
wrote anything anywhere fails. Run on SQLite, and on PostgreSQL with
``FLASKR_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import datetime as dt
import io
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flaskr.db import db
from flaskr.models import AccountToken
from flaskr.models import AuthSession
from flaskr.models import FormerUsername
from flaskr.models import OutboxMail
from flaskr.models import User
from flaskr.services.accounts import directory
from flaskr.services.accounts import login_policy
from flaskr.services.accounts import profiles
from flaskr.services.accounts import recovery
from flaskr.services.accounts import sessions
from flaskr.services.accounts import users
from flaskr.services.accounts.profiles import update_profile
from flaskr.services.accounts.users import AccountUpdate
from flaskr.services.accounts.users import AddressLinks
from flaskr.services.base import images
from flaskr.services.base import site
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import LockedOut
from tests.conftest import add_test_data
from tests.helpers import database_rows
from tests.helpers import png

PASSWORD = "a long enough passphrase"
LINKS = AddressLinks(
    confirm=lambda token: f"https://blog.example.org/confirm/{token}",
    forgot="https://blog.example.org/auth/forgot",
)
PICTURE = "https://blog.example.org/avatar/default.png"


@pytest.fixture
def context(app: Flask) -> t.Iterator[Flask]:
    """An application context and nothing else: no request."""
    with app.app_context():
        yield app


def refusal(call: t.Callable[[], object]) -> dict[str, list[str]]:
    """The problems of the ``Invalid`` that ``call`` raises."""
    with pytest.raises(Invalid) as raised:
        call()
    return raised.value.problems


def user(name: str) -> User:
    found = directory.find_user(name)
    assert found is not None
    return found


# Registration


def test_register_checks_every_field_and_writes_nothing_when_refused(context):
    before = database_rows()
    problems = refusal(
        lambda: users.register("b o b", "short", "not an address", links=LINKS)
    )
    assert set(problems) == {"username", "password", "email"}
    assert problems["username"] == [
        "Username may contain only letters A–Z, digits and . _ -."
    ]
    assert refusal(lambda: users.register("", "", email_required=True)) == {
        "username": ["Username is required."],
        "password": ["Password is required."],
        "email": ["Email is required."],
    }
    assert refusal(lambda: users.register("TEST", PASSWORD)) == {
        "username": ["User TEST is already registered."]
    }
    assert database_rows() == before


def test_register_commits_the_account_its_address_and_its_events(
    context, security_events
):
    new = users.register("ada", PASSWORD, "ada@example.org", links=LINKS, via="api")
    db.session.rollback()  # what was committed stays
    assert user("ada").id == new.id
    assert directory.authenticate("ada", PASSWORD) == new.id
    assert not new.is_admin  # the site had accounts already
    assert recovery.pending_address(new) == "ada@example.org"
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.recipient == "ada@example.org"
    assert [(e["event"], e.get("via")) for e in security_events] == [
        ("registered", "api"),
        ("email_change_requested", None),
    ]


def test_an_api_registration_commits_the_account_with_its_token(context):
    new, token = users.register_api_client(
        "ada", PASSWORD, "ada@example.org", links=LINKS, user_agent="curl/8"
    )
    db.session.rollback()  # what was committed stays
    record = sessions.api_token_record(token)
    assert record is not None
    assert record.user_id == new.id == user("ada").id


def test_an_api_registration_whose_token_fails_leaves_no_account(context, monkeypatch):
    before = database_rows()

    def broken_token(*args: object) -> str:
        raise RuntimeError("the token could not be written")

    monkeypatch.setattr(users, "issue_api_token", broken_token)
    with pytest.raises(RuntimeError):
        users.register_api_client(
            "ada", PASSWORD, "ada@example.org", links=LINKS, user_agent="curl/8"
        )
    assert database_rows() == before  # rolled back by the use case itself


def test_the_first_account_of_a_fresh_site_is_its_administrator(
    make_app, security_events
):
    with make_app().app_context():  # no accounts yet
        first = users.register("founder", PASSWORD)
        second = users.register("second", PASSWORD)
        db.session.rollback()
        assert user("founder").is_admin and not user("second").is_admin
    assert [(e["event"], e["user_id"]) for e in security_events] == [
        ("registered", first.id),
        ("admin_added", first.id),
        ("registered", second.id),
    ]
    assert security_events[1]["by"] == "first_account"


def test_an_address_another_account_has_is_told_to_its_owner(context, security_events):
    test = user("test")
    test.email, test.email_key = "taken@example.org", "taken@example.org"
    db.session.commit()
    new = users.register("ada", PASSWORD, "taken@example.org", links=LINKS)
    assert recovery.pending_address(new) is None
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.recipient == "taken@example.org"
    assert "forgot" in mail.text_body  # the owner is pointed to a reset
    assert security_events[-1] == {
        "event": "registration_address_in_use",
        "user_id": new.id,
    }


def test_a_registration_that_loses_the_race_for_its_name_writes_nothing(
    context, monkeypatch
):
    # Another registration takes the name between the check and the commit:
    # the unique index refuses, and the address's mail goes with the account.
    monkeypatch.setattr(users, "name_problem_for", lambda name, user_id: None)
    before = database_rows()
    problems = refusal(
        lambda: users.register("Test", PASSWORD, "ada@example.org", links=LINKS)
    )
    assert problems == {"username": ["User Test is already registered."]}
    assert database_rows() == before


# Renaming, passwords, deleting


def test_rename_asks_for_the_password_and_holds_the_old_name(context, security_events):
    test = user("test")
    before = database_rows()
    assert refusal(lambda: users.rename(test, "Tess", "wrong")) == {
        "password": ["That is not your password."]
    }
    assert refusal(lambda: users.rename(test, "other", "test")) == {
        "username": ["User other is already registered."]
    }
    assert refusal(lambda: users.rename(test, "test", "test")) == {
        "username": ["That is your username already."]
    }
    assert database_rows() == before
    users.rename(test, "Tess", "test")
    db.session.rollback()
    assert user("Tess").id == test.id
    assert directory.former_holder("test") == test
    assert refusal(lambda: users.register("test", PASSWORD)) == {
        "username": [directory.held_name_message("test")]
    }
    assert [e["event"] for e in security_events] == [
        "password_check_failed",
        "username_changed",
    ]


def test_change_password_checks_both_and_ends_other_sessions(context, security_events):
    test = user("test")
    token = sessions.issue_api_token(test.id, "script")
    db.session.commit()
    before = database_rows()
    assert refusal(
        lambda: users.change_password(test, "wrong", PASSWORD, keep_session=None)
    ) == {"current_password": ["That is not your current password."]}
    assert set(
        refusal(lambda: users.change_password(test, "test", "short", keep_session=None))
    ) == {"new_password"}
    assert database_rows() == before
    ended = users.change_password(test, "test", PASSWORD, keep_session=None)
    assert ended == 1
    assert sessions.api_token_record(token) is None
    assert directory.authenticate("test", PASSWORD) == test.id
    assert security_events[-1] == {
        "event": "password_changed",
        "user_id": test.id,
        "sessions_ended": 1,
    }


def test_delete_account_asks_for_the_password(context, security_events):
    other = user("other")
    before = database_rows()
    assert refusal(lambda: users.delete_account(other, "wrong", keep_posts=True)) == {
        "password": ["That is not your password."]
    }
    assert database_rows() == before
    test = user("test")
    deleted = users.delete_account(test, "test", keep_posts=True)
    assert deleted == users.DeletedAccount(posts_kept=1, posts_deleted=0)
    assert directory.find_user("test") is None
    assert security_events[-1]["event"] == "account_deleted"
    assert security_events[-1]["posts_kept"] == 1


# PUT /api/user: several changes at once


def test_update_account_renamed_nobody_when_the_address_is_taken(
    context, security_events
):
    # The issue's case: a new name and another account's address. The
    # address is refused, and the name is not changed either.
    other = user("other")
    other.email, other.email_key = "other@example.org", "other@example.org"
    db.session.commit()
    test = user("test")
    before = database_rows()
    problems = refusal(
        lambda: users.update_account(
            test,
            AccountUpdate(
                username="Tess",
                password=PASSWORD,
                current_password="test",
                email="other@example.org",
                bio="New bio",
            ),
            image_address=PICTURE,
            links=LINKS,
            keep_session=None,
        )
    )
    assert problems == {"email": ["Another account uses that address."]}
    assert database_rows() == before
    assert user("test").username == "test"
    assert not [e for e in security_events if e["event"] != "password_check_failed"]


def test_update_account_refuses_every_bad_part_at_once(context):
    test = user("test")
    before = database_rows()
    problems = refusal(
        lambda: users.update_account(
            test,
            AccountUpdate(
                username="b o b",
                password="short",
                email="nope",
                bio="x" * 5000,
                image="https://elsewhere.example/me.png",
            ),
            image_address=PICTURE,
            links=LINKS,
            keep_session=None,
        )
    )
    assert set(problems) == {"username", "password", "email", "bio", "image"}
    # The password is asked only once the rules are met.
    assert refusal(
        lambda: users.update_account(
            test,
            AccountUpdate(username="Tess", current_password="wrong"),
            image_address=PICTURE,
            links=LINKS,
            keep_session=None,
        )
    ) == {"currentPassword": ["That is not your current password."]}
    assert database_rows() == before


def test_update_account_that_loses_a_race_for_the_name_changes_nothing(
    context, monkeypatch
):
    # The name is taken between the check and the commit: the unique index
    # refuses, and the password, the sessions, the bio and the address
    # change go back with the rename.
    test = user("test")
    sessions.issue_api_token(test.id, "script")
    db.session.commit()
    monkeypatch.setattr(users, "name_problem_for", lambda name, user_id: None)
    before = database_rows()
    problems = refusal(
        lambda: users.update_account(
            test,
            AccountUpdate(
                username="OTHER",
                password=PASSWORD,
                current_password="test",
                email="new@example.org",
                bio="New bio",
                image="",
            ),
            image_address=PICTURE,
            links=LINKS,
            keep_session=None,
        )
    )
    assert problems == {"username": ["User OTHER is already registered."]}
    assert database_rows() == before


def test_update_account_changes_every_part_together(context, security_events):
    test = user("test")
    token = sessions.issue_api_token(test.id, "script")
    keep = sessions.token_hash(token)
    db.session.commit()
    users.update_account(
        test,
        AccountUpdate(
            username="Tess",
            password=PASSWORD,
            current_password="test",
            email="tess@example.org",
            bio="*Hi*",
            image=PICTURE,
        ),
        image_address=PICTURE,
        links=LINKS,
        keep_session=keep,
        via="api",
    )
    db.session.rollback()
    tess = user("Tess")
    assert tess.bio == "*Hi*" and "<em>Hi</em>" in tess.bio_html
    assert directory.authenticate("Tess", PASSWORD) == tess.id
    assert recovery.pending_address(tess) == "tess@example.org"
    assert sessions.api_token_record(token) is not None  # the one asking
    assert db.session.scalar(sa.select(FormerUsername.user_id)) == tess.id
    assert [e["event"] for e in security_events] == [
        "username_changed",
        "password_changed",
        "email_change_requested",
    ]
    assert security_events[0]["via"] == "api"


# Addresses, resets, the profile, the site


def test_email_change_and_reset_check_their_input(context):
    test = user("test")
    other = user("other")
    other.email, other.email_key = "other@example.org", "other@example.org"
    test.email, test.email_key = "test@example.org", "test@example.org"
    db.session.commit()
    before = database_rows()
    assert refusal(
        lambda: recovery.request_email_change(test, "other@example.org", LINKS.confirm)
    ) == {"address": ["Another account uses that address."]}
    assert set(
        refusal(lambda: recovery.request_email_change(test, "nope", LINKS.confirm))
    ) == {"address"}
    assert database_rows() == before
    links: list[str] = []
    recovery.request_password_reset("test", links.append)
    assert set(refusal(lambda: recovery.reset_password(links[0], "short"))) == {
        "new_password"
    }
    # A refused password leaves the link valid.
    assert recovery.account_to_reset(links[0]) == test
    assert recovery.reset_password(links[0], PASSWORD) == test


def test_profile_and_site_settings_check_their_fields(context, security_events):
    test = user("test")
    before = database_rows()
    problems = refusal(
        lambda: update_profile(
            test, display_name="x" * 500, bio="x" * 5000, website="not a site"
        )
    )
    assert set(problems) == {"display_name", "bio", "website"}
    problems = refusal(lambda: site.update_identity("x" * 500, "\x07", "\x00"))
    assert set(problems) == {"title", "description", "about"}
    assert database_rows() == before
    site.set_admin(test)
    site.set_admin(test, False)
    assert [e["event"] for e in security_events] == ["admin_added", "admin_removed"]


def test_logging_out_ends_the_session_row_and_is_logged(context, security_events):
    test = user("test")
    db.session.add(
        AuthSession(
            id="a" * 64,
            user_id=test.id,
            created=sa.func.now(),
            last_seen=sa.func.now(),
            user_agent="",
            data="{}",
        )
    )
    db.session.commit()
    sessions.log_out(test.id, "a" * 64)
    assert sessions.sessions_of_user(test.id) == []
    assert security_events == [{"event": "logged_out", "user_id": test.id}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 0


def test_a_refusal_no_view_caught_is_a_422_page_not_a_500(app):
    @app.route("/refused-somewhere")
    def refused_somewhere() -> str:
        site.update_identity("x" * 500, "", "")
        return "saved"

    response = app.test_client().get("/refused-somewhere")
    assert response.status_code == 422
    assert "A site title must be at most" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_confirming_an_address_confirmed_elsewhere_first_changes_nothing(context):
    # Two accounts asked for one address; the second to open its link meets
    # the unique index, and its link and account stay as they were.
    test, other = user("test"), user("other")
    links: list[str] = []
    recovery.request_email_change(test, "shared@example.org", links.append)
    recovery.request_email_change(other, "shared@example.org", links.append)
    assert recovery.confirm_email(links[0]) == test
    before = database_rows()
    assert refusal(lambda: recovery.confirm_email(links[1])) == {
        "address": ["Another account uses that address."]
    }
    assert database_rows() == before
    assert user("other").email is None


def test_logging_in_logs_and_counts_toward_the_lockout(make_app, password_hashes):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_LIMITS="2 per hour")
    with app.app_context():
        add_test_data(password_hashes)
        assert login_policy.log_in("test", "wrong") is None
        assert login_policy.log_in("TEST", "test", via="api") == user("test").id
        # A success clears the count; two failures then lock the account,
        # even against the right password.
        assert login_policy.log_in("test", "wrong") is None
        assert login_policy.log_in("test", "wrong") is None
        with pytest.raises(LockedOut):
            login_policy.log_in("test", "test")


def test_ending_sessions_is_logged_with_who_asked(context, security_events):
    test = user("test")
    sessions.issue_api_token(test.id, "one")
    sessions.issue_api_token(test.id, "two")
    db.session.commit()
    assert sessions.end_sessions_of_user(test.id, by="admin") == 2
    assert sessions.end_session_of_user(test.id, "f" * 64) is False
    assert security_events == [
        {
            "event": "sessions_revoked",
            "user_id": test.id,
            "sessions_ended": 2,
            "by": "admin",
        }
    ]


def test_an_imported_writer_gets_an_account_by_the_same_rules(context, security_events):
    assert refusal(lambda: users.register_user("other", PASSWORD)) == {
        "username": ["User other is already registered."]
    }
    writer = users.register_user("imported", PASSWORD)
    assert not writer.is_admin
    assert security_events == [
        {"event": "registered", "user_id": writer.id, "via": "import"}
    ]


def test_an_imported_writer_comes_with_profile_and_picture_or_not_at_all(context):
    picture = images.process_avatar(
        io.BytesIO(png()), max_bytes=1_000_000, max_pixels=1_000_000
    )
    before = database_rows()
    assert refusal(
        lambda: users.register_user(
            "imported", PASSWORD, bio="\x07 a bell", website="ftp://x", avatar=picture
        )
    ) == {
        "bio": [profiles.bio_problem("\x07 a bell")],
        "website": [profiles.website_problem("ftp://x")],
    }
    assert database_rows() == before
    created = dt.datetime(2019, 5, 1, tzinfo=dt.UTC)
    writer = users.register_user(
        "imported", PASSWORD, created=created, bio="Writes.", avatar=picture
    )
    db.session.rollback()  # what was committed stays
    assert (writer.created, writer.bio) == (created, "Writes.")
    assert writer.avatar_id is not None
