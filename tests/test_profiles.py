"""Profiles (name, bio, website, picture), renames, and the sessions list."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import AuthSession
from flaskr.models import Avatar
from flaskr.models import FormerUsername
from flaskr.models import User
from flaskr.services.accounts.sessions import browser_name
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import query_plan
from tests.conftest import statements_for_page
from tests.helpers import add_posts
from tests.helpers import jpeg_with_gps
from tests.helpers import logged_in
from tests.helpers import png
from tests.helpers import rename
from tests.helpers import save_profile
from tests.helpers import submit_account_form
from tests.helpers import upload_avatar


@pytest.fixture
def mail_site(app_with, smtp_port):
    """The test data, with mail to the test SMTP server."""
    return app_with(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, SITE_URL="https://flaskr.example"
    )


AVATAR_SRC = re.compile(r'src="/avatars/(\d+)(/small)?\.webp"')


def user_named(app, username):
    with app.app_context():
        user = db.session.scalars(
            sa.select(User).where(User.username == username)
        ).one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def text(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


# The profile: name, bio, website.


def test_a_profile_shows_on_the_author_page_and_in_bylines(app):
    client = logged_in(app)
    response = save_profile(
        client,
        display_name="  Tess   Tester ",
        bio="I write *tests*.\nSee https://tests.example/about for more.",
        website="tests.example",
    )
    assert response.status_code == 302
    user = user_named(app, "test")
    assert user.display_name == "Tess Tester"
    assert user.website == "https://tests.example"

    page = text(app.test_client(), "/u/test")
    assert '<h1 dir="auto">Tess Tester</h1>' in page
    assert "@test" in page
    assert "<em>tests</em>" in page
    assert 'href="https://tests.example/about"' in page
    assert 'rel="nofollow ugc noopener noreferrer"' in page
    assert 'href="https://tests.example" rel="me nofollow ugc noopener"' in page
    assert ">tests.example</a>" in page
    assert "1 post<" in page
    assert "/u/test/feed.atom" in page
    assert 'Tess Tester <span class="handle">@test</span>' in text(
        app.test_client(), "/1"
    )
    assert '<a href="/u/test" dir="auto">Tess Tester</a>' in text(
        app.test_client(), "/"
    )
    feed = text(app.test_client(), "/feed.atom")
    assert "<name>Tess Tester</name>" in feed
    # The account page shows the saved profile in its form.
    account = text(client, "/auth/account")
    assert 'value="Tess Tester"' in account


def test_an_author_without_a_profile_shows_the_username(app):
    page = text(app.test_client(), "/u/test")
    assert '<h1 dir="auto">test</h1>' in page
    assert "avatar.svg" in page
    assert "Member since" in page
    byline = text(app.test_client(), "/")
    assert 'class="handle"' not in byline
    assert "avatar.svg" in byline


def test_a_bio_is_rendered_safely(app):
    client = logged_in(app)
    bio = (
        '<script>alert("x")</script> [click](javascript:alert(1))'
        " <img src=x onerror=alert(1)> # not a heading"
    )
    assert save_profile(client, bio=bio).status_code == 302
    page = text(app.test_client(), "/u/test")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript' not in page
    assert "<img src=x" not in page
    assert "<h" + "1>not a heading" not in page
    assert user_named(app, "test").bio == bio  # kept as written, for editing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"display_name": "x" * 81}, "A name must be at most 80 characters long."),
        ({"display_name": "bell\x07"}, "A name must not contain control characters."),
        ({"bio": "x" * 501}, "A bio must be at most 500 characters long."),
        ({"bio": "nul\x00"}, "A bio must not contain control characters."),
        ({"website": "javascript:alert(1)"}, "Enter a web address"),
        ({"website": "ftp://files.example"}, "Enter a web address"),
        ({"website": "https://localhost"}, "Enter a web address"),
        ({"website": "https://a b.example"}, "Enter a web address"),
        ({"website": "https://x.example:port"}, "Enter a web address"),
        ({"website": "https://me:secret@x.example"}, "must not hold a user name"),
        ({"website": "https://" + "x" * 500 + ".example"}, "at most 500 characters"),
    ],
)
def test_bad_profile_input_is_refused_whole(app, fields, message):
    client = logged_in(app)
    save_profile(client, display_name="Before", bio="Before", website="a.example")
    response = save_profile(
        client,
        **{"display_name": "After", "bio": "After", "website": "b.example", **fields},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    user = user_named(app, "test")
    assert (user.display_name, user.bio, user.website) == (
        "Before",
        "Before",
        "https://a.example",
    )


def test_a_bio_of_500_characters_with_windows_line_breaks_is_accepted(app):
    client = logged_in(app)
    bio = "a\r\n" * 166 + "ab"  # 500 characters once line breaks are one each
    assert save_profile(client, bio=bio).status_code == 302
    assert user_named(app, "test").bio == bio.replace("\r\n", "\n")


def test_clearing_the_profile_clears_it(app):
    client = logged_in(app)
    save_profile(client, display_name="Name", bio="Bio", website="a.example")
    assert save_profile(client).status_code == 302
    user = user_named(app, "test")
    assert (user.display_name, user.bio, user.bio_html, user.website) == (
        None,
        "",
        "",
        None,
    )


def test_profile_forms_need_a_login_and_a_csrf_token(app):
    visitor = app.test_client()
    response = visitor.post("/auth/account/profile", data={"profile-bio": "x"})
    assert response.status_code in (302, 400)
    client = logged_in(app)
    response = client.post("/auth/account/profile", data={"profile-bio": "Hacked"})
    assert response.status_code == 400
    assert user_named(app, "test").bio == ""


# The picture.


def stored_avatar(app, avatar_id):
    with app.app_context():
        return db.session.get(Avatar, avatar_id)


def test_a_picture_is_cropped_square_cleaned_and_served(app):
    client = logged_in(app)
    response = upload_avatar(client, jpeg_with_gps(size=(400, 300)))
    assert response.status_code == 302
    avatar_id = user_named(app, "test").avatar_id
    assert avatar_id is not None

    visitor = app.test_client()
    served = visitor.get(f"/avatars/{avatar_id}.webp")
    assert served.status_code == 200
    assert served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    large = Pillow.open(io.BytesIO(served.data))
    assert large.size == (256, 256)
    assert not large.getexif()
    assert b"Camera maker" not in served.data
    small = Pillow.open(
        io.BytesIO(visitor.get(f"/avatars/{avatar_id}/small.webp").data)
    )
    assert small.size == (64, 64)

    assert (str(avatar_id), "/small") in AVATAR_SRC.findall(text(visitor, "/"))
    assert (str(avatar_id), "") in AVATAR_SRC.findall(text(visitor, "/u/test"))


def test_a_small_picture_is_not_enlarged(app):
    client = logged_in(app)
    assert upload_avatar(client, png(size=(50, 80)), "me.png").status_code == 302
    avatar_id = user_named(app, "test").avatar_id
    large = app.test_client().get(f"/avatars/{avatar_id}.webp").data
    assert Pillow.open(io.BytesIO(large)).size == (50, 50)


def test_a_new_picture_replaces_the_old_one_under_a_new_address(app):
    client = logged_in(app)
    upload_avatar(client, png(), "one.png")
    first = user_named(app, "test").avatar_id
    upload_avatar(client, png(), "two.png")
    second = user_named(app, "test").avatar_id
    assert second != first
    assert stored_avatar(app, first) is None
    assert app.test_client().get(f"/avatars/{first}.webp").status_code == 404

    token = csrf_token_from(client, "/auth/account")
    response = client.post(
        "/auth/account/avatar/remove", data={"avatar-remove-csrf_token": token}
    )
    assert response.status_code == 302
    assert user_named(app, "test").avatar_id is None
    assert stored_avatar(app, second) is None
    assert "avatar.svg" in text(app.test_client(), "/u/test")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "Choose a picture to upload."),
        (b"", "The file is empty."),
        (b"not an image at all", "is not a JPEG, PNG, WebP or GIF image"),
    ],
)
def test_a_bad_picture_is_refused_and_the_old_one_kept(app, data, message):
    client = logged_in(app)
    upload_avatar(client, png(), "one.png")
    before = user_named(app, "test").avatar_id
    response = upload_avatar(client, data, "bad.png" if data is not None else "")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_named(app, "test").avatar_id == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Avatar)) == 1


def test_a_picture_too_large_is_refused(app_with):
    app = app_with(IMAGE_MAX_BYTES=1000, IMAGE_MAX_PIXELS=10_000)
    client = logged_in(app)
    response = upload_avatar(client, png(size=(200, 200)), "big.png")
    assert response.status_code == 422
    assert "more than the 10,000 allowed" in response.get_data(as_text=True)
    response = upload_avatar(client, jpeg_with_gps(size=(90, 90)) + b"x" * 2000)
    assert response.status_code in (413, 422)
    assert user_named(app, "test").avatar_id is None


def test_deleting_the_account_deletes_its_picture(app):
    client = logged_in(app)
    upload_avatar(client, png())
    avatar_id = user_named(app, "test").avatar_id
    token = csrf_token_from(client, "/auth/account")
    response = client.post(
        "/auth/account/delete",
        data={"csrf_token": token, "delete-password": "test", "delete-posts": "keep"},
    )
    assert response.status_code == 302
    assert stored_avatar(app, avatar_id) is None


def test_an_unknown_picture_is_404(client):
    assert client.get("/avatars/999.webp").status_code == 404
    assert client.get("/avatars/0.webp").status_code == 404


# Renames.


def test_a_rename_redirects_the_old_name_and_holds_it(app):
    client = logged_in(app)
    response = rename(client, "Tess")
    assert response.status_code == 302
    assert "You are now Tess" in text(client, "/auth/account")

    visitor = app.test_client()
    for old, new in [
        ("/u/test", "/u/Tess"),
        ("/u/TEST/feed.atom", "/u/Tess/feed.atom"),
        ("/u/test/likes", "/u/Tess/likes"),
        ("/u/test?before=5", "/u/Tess?before=5"),
        ("/u/test?_external=1&username=x", "/u/Tess"),
    ]:
        response = visitor.get(old)
        assert response.status_code == 302, old
        assert response.headers["Location"] == new, old
    assert '<h1 dir="auto">Tess</h1>' in text(visitor, "/u/Tess")

    # The new name logs in; the old one no longer does.
    assert AuthActions(app.test_client()).login("Tess", "test").status_code == 302
    assert AuthActions(app.test_client()).login("test", "test").status_code == 422

    # Nobody else can take the old name, by registering or by renaming.
    response = register(app.test_client(), "TEST")
    assert response.status_code == 422
    assert "was given up recently by another account" in response.get_data(as_text=True)
    other = logged_in(app, "other")
    response = rename(other, "test", password="other")
    assert response.status_code == 422
    assert "was given up recently" in response.get_data(as_text=True)
    assert user_named(app, "other") is not None

    # Its holder can take it back.
    assert rename(client, "test").status_code == 302
    assert user_named(app, "test") is not None
    assert app.test_client().get("/u/Tess").status_code == 302


def register(client, username, password="a long enough password", email=""):
    token = csrf_token_from(client, "/auth/register")
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "password": password,
            "email": email,
            "csrf_token": token,
        },
    )


def test_a_held_name_is_free_again_once_the_hold_ends(app):
    client = logged_in(app)
    rename(client, "Tess")
    with app.app_context():
        db.session.execute(
            sa.update(FormerUsername).values(
                created=dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
            )
        )
        db.session.commit()
    assert app.test_client().get("/u/test").status_code == 404
    assert register(app.test_client(), "test").status_code == 302
    # The new holder of "test" can rename too; the expired hold gives way.
    newcomer = logged_in(app, "test", "a long enough password")
    assert (
        rename(newcomer, "test2", password="a long enough password").status_code == 302
    )
    assert app.test_client().get("/u/test").headers["Location"] == "/u/test2"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("other", "test", "User other is already registered."),
        ("OTHER", "test", "User OTHER is already registered."),
        ("test", "test", "That is your username already."),
        ("", "test", "Username is required."),
        ("bad name", "test", "Username may contain only"),
        ("x" * 41, "test", "at most 40 characters"),
        ("Tess", "wrong", "That is not your password."),
        ("Tess", "", "Enter your password to change your username."),
    ],
)
def test_a_bad_rename_is_refused(app, username, password, message):
    client = logged_in(app)
    response = rename(client, username, password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_named(app, "test") is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(FormerUsername.user_id))) == 0


def test_a_change_of_letter_case_holds_nothing(app):
    client = logged_in(app)
    assert rename(client, "Test").status_code == 302
    assert user_named(app, "Test") is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(FormerUsername.user_id))) == 0


def test_renames_are_limited_per_account(app_with):
    app = app_with(RATELIMIT_ENABLED=True, RENAME_LIMITS="2 per day")
    client = logged_in(app)
    # A refused rename does not count.
    assert rename(client, "Tess", password="wrong").status_code == 422
    assert rename(client, "Tess").status_code == 302
    assert rename(client, "Tessa").status_code == 302
    assert rename(client, "Tessie").status_code == 429
    assert user_named(app, "Tessa") is not None


# Registration with an address.


def test_an_address_given_at_registration_is_confirmed_by_mail(mail_site, smtp):
    client = mail_site.test_client()
    response = register(client, "newcomer", email="New@Example.org")
    response.close()
    assert response.status_code == 302
    assert "We sent a link to New@Example.org" in text(client, "/auth/login")
    assert user_named(mail_site, "newcomer").email is None
    [message] = smtp.inbox.messages
    assert message["To"] == "New@example.org"
    [link] = re.findall(
        r"https://flaskr\.example(/auth/confirm-email/\S+)",
        message.get_body(("plain",)).get_content(),
    )
    assert client.get(link).status_code == 302
    token = csrf_token_from(client, "/auth/confirm-email")
    client.post("/auth/confirm-email", data={"csrf_token": token})
    assert user_named(mail_site, "newcomer").email == "New@example.org"


def test_registering_with_another_accounts_address_tells_its_owner(mail_site, smtp):
    with mail_site.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username="other")).one()
        user.email, user.email_key = "taken@example.org", "taken@example.org"
        db.session.commit()
    client = mail_site.test_client()
    response = register(client, "newcomer", email="taken@example.org")
    response.close()
    assert response.status_code == 302
    assert "We sent a link to taken@example.org" in text(client, "/auth/login")
    assert user_named(mail_site, "newcomer").email is None
    [message] = smtp.inbox.messages
    assert message["To"] == "taken@example.org"
    assert message["Subject"] == (
        "Someone tried to register on Flaskr with your e-mail address"
    )
    body = message.get_body(("plain",)).get_content()
    assert "https://flaskr.example/auth/forgot" in body
    assert "confirm-email" not in body


@pytest.mark.parametrize("address", ["not an address", "a@b", "x@" + "y" * 320])
def test_a_bad_address_at_registration_registers_nobody(app, address):
    response = register(app.test_client(), "newcomer", email=address)
    assert response.status_code == 422
    assert user_named(app, "newcomer") is None


def test_registration_without_an_address_still_works(app):
    response = register(app.test_client(), "newcomer")
    assert response.status_code == 302
    assert user_named(app, "newcomer") is not None


def test_an_unconfirmed_address_receives_only_its_link(mail_site, smtp):
    client = logged_in(mail_site)
    token = csrf_token_from(client, "/auth/account")
    response = client.post(
        "/auth/account/email",
        data={"email-address": "pending@example.org", "email-csrf_token": token},
    )
    response.close()
    page = text(client, "/auth/account")
    assert "Not confirmed yet: <strong>pending@example.org</strong>" in page
    # A reset asked for by that address sends it nothing.
    visitor = mail_site.test_client()
    token = csrf_token_from(visitor, "/auth/forgot")
    response = visitor.post(
        "/auth/forgot", data={"login": "pending@example.org", "csrf_token": token}
    )
    response.close()
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert len(subjects) == 1
    assert "onfirm" in subjects[0]


# Sessions by name, ended one at a time.

FIREFOX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Mobile Safari on iOS"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
        ("\x00\x01 Made-up  agent", "Made-up agent"),
        ("\x00\x01", "Unknown browser"),
        ("x" * 200, "x" * 60),
    ],
)
def test_browsers_have_names_people_know(user_agent, name):
    assert browser_name(user_agent) == name


def session_ids(app, username="test"):
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(AuthSession.id)
                .join(User, User.id == AuthSession.user_id)
                .where(User.username == username)
            )
        )


def end_session(client, session_id):
    return submit_account_form(client, "sessions/end", "end", session=session_id)


def test_one_other_session_can_be_ended(app):
    laptop = logged_in(app, browser=FIREFOX_WINDOWS)
    [laptop_session] = session_ids(app)
    phone = logged_in(app, browser=SAFARI_IPHONE)
    third = logged_in(app, browser="Browser C")
    page = text(phone, "/auth/account")
    assert "Firefox on Windows" in page
    assert "Mobile Safari on iOS" in page

    response = end_session(phone, laptop_session)
    assert response.status_code == 302
    assert "That browser is logged out." in text(phone, "/auth/account")
    assert laptop_session not in session_ids(app)
    assert laptop.get("/auth/account").status_code == 302  # to the login page
    assert third.get("/auth/account").status_code == 200
    # Again: it is gone already.
    end_session(phone, laptop_session)
    assert "That session had already ended." in text(phone, "/auth/account")


def test_another_users_session_cannot_be_ended(app):
    other = logged_in(app, "other")
    [other_session] = session_ids(app, "other")
    client = logged_in(app)
    end_session(client, other_session)
    assert other_session in session_ids(app, "other")
    assert other.get("/auth/account").status_code == 200


def test_ending_this_session_logs_out(app):
    client = logged_in(app)
    [this_session] = session_ids(app)
    response = end_session(client, this_session)
    assert response.headers["Location"] == "/"
    assert session_ids(app) == set()


def test_ending_a_session_without_a_token_changes_nothing(app):
    other_browser = logged_in(app, browser="B")
    [first] = session_ids(app)
    client = logged_in(app)
    response = client.post("/auth/account/sessions/end", data={"end-session": first})
    assert response.status_code == 400
    assert first in session_ids(app)
    assert other_browser.get("/auth/account").status_code == 200


# What the author page costs.


def test_the_author_page_runs_as_many_statements_for_many_posts(app_with):
    app = app_with(PAGE_CACHE_BYTES=0, CARD_CACHE_SIZE=0)
    client = app.test_client()
    save_profile(logged_in(app), display_name="Tess", bio="Bio")
    with_one = statements_for_page(app, client, "/u/test")
    add_posts(app, 30)
    with_many = statements_for_page(app, client, "/u/test")
    assert len(with_many) == len(with_one)
    # The author, their posts' ids, the posts, their tags and images, the
    # count, the site's settings.
    assert len(with_one) == 7


def test_the_post_count_reads_the_authors_index(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            # PostgreSQL chooses by table statistics; a test's few rows say
            # nothing of its choice for a real blog.
            pytest.skip("a plan for SQLite's fixed rules")
    add_posts(app, 30)
    client = app.test_client()
    counts = [
        (sql, parameters)
        for sql, parameters in statements_for_page(app, client, "/u/test")
        if "count(" in sql
    ]
    [(statement, parameters)] = counts
    plan = " ".join(query_plan(app, statement, parameters))
    assert "ix_post_author_id_published" in plan, plan


# Hostile input on the new forms: refused, never a 5xx, nothing half-written.

NEW_FORMS = {
    "profile": ("profile", ["display_name", "bio", "website"]),
    "avatar": ("avatar", ["picture"]),
    "username": ("rename", ["username", "password"]),
    "sessions/end": ("end", ["session"]),
}


@pytest.mark.parametrize("action", sorted(NEW_FORMS))
def test_hostile_input_on_the_new_forms(app, action):
    from tests.helpers import HOSTILE

    client = logged_in(app)
    prefix, names = NEW_FORMS[action]
    token = csrf_token_from(client, "/auth/account")
    statuses = set()
    for value in HOSTILE:
        for name in names:
            data = {f"{prefix}-csrf_token": token, f"{prefix}-{name}": value}
            response = client.post(f"/auth/account/{action}", data=data)
            statuses.add(response.status_code)
            assert response.status_code < 500, (name, value)
            response.close()
    assert statuses <= {302, 400, 413, 422}, statuses
    user = user_named(app, "test")
    # Values that are fine as they are may be saved; nothing else is.
    assert user.username == "test"
    assert user.avatar_id is None
    assert session_ids(app)  # this browser is still logged in


@pytest.mark.parametrize(
    "path",
    ["/u/{}", "/u/{}/feed.atom", "/u/{}/likes"],
)
def test_hostile_names_in_author_links(app, path):
    from urllib.parse import quote

    from tests.helpers import HOSTILE

    client = app.test_client()
    for value in HOSTILE:
        response = client.get(path.format(quote(value, safe="")) or "x")
        assert response.status_code in (200, 301, 302, 308, 404), value


def test_deleting_the_account_frees_the_names_it_held(app):
    client = logged_in(app)
    rename(client, "Tess")
    token = csrf_token_from(client, "/auth/account")
    client.post(
        "/auth/account/delete",
        data={"csrf_token": token, "delete-password": "test", "delete-posts": "keep"},
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(FormerUsername.user_id))) == 0
    assert register(app.test_client(), "test").status_code == 302
