"""Administrators and the site's identity: the role, the settings page, the
About page, the icon, and every page, feed and manifest showing them."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import SiteSettings
from flaskr.models import User
from tests.conftest import csrf_token_from
from tests.helpers import logged_in
from tests.helpers import make_admin
from tests.helpers import png


def save_settings(client, **fields):
    data = {
        "identity-title": "",
        "identity-description": "",
        "identity-about": "",
        **{f"identity-{name}": value for name, value in fields.items()},
        "identity-csrf_token": csrf_token_from(client, "/admin"),
    }
    if data.get("identity-serif_body") is False:
        del data["identity-serif_body"]
    return client.post("/admin", data=data)


def upload_icon(client, data, filename="logo.png"):
    token = csrf_token_from(client, "/admin")
    return client.post(
        "/admin/icon",
        data={"icon-csrf_token": token, "icon-picture": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def text(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_make_admin_command_gives_and_takes_the_role(app, runner):
    result = runner.invoke(args=["make-admin", "test"])
    assert result.exit_code == 0
    assert "test is now an administrator" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.is_admin).filter_by(username="test"))
    result = runner.invoke(args=["make-admin", "--remove", "TEST"])
    assert "no longer an administrator" in result.output
    with app.app_context():
        assert not db.session.scalar(
            sa.select(User.is_admin).filter_by(username="test")
        )
    result = runner.invoke(args=["make-admin", "nobody"])
    assert result.exit_code != 0
    assert "No user is called 'nobody'" in result.output


def register(client, username):
    token = csrf_token_from(client, "/auth/register")
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "password": "a long enough passphrase",
            "csrf_token": token,
        },
        follow_redirects=True,
    )


def test_the_first_account_of_a_fresh_site_runs_it(make_app):
    app = make_app()  # no users
    client = app.test_client()
    first = register(client, "founder").get_data(as_text=True)
    assert "you are its administrator" in first
    second = register(app.test_client(), "joiner").get_data(as_text=True)
    assert "administrator" not in second
    with app.app_context():
        roles = dict(db.session.execute(sa.select(User.username, User.is_admin)).all())
    assert roles == {"founder": True, "joiner": False}


def test_a_site_with_accounts_gets_no_admin_from_a_registration(app):
    # "test" and "other" exist and neither is an administrator.
    page = register(app.test_client(), "newcomer").get_data(as_text=True)
    assert "administrator" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(User.is_admin)) == 0


def test_the_first_account_rule_can_be_turned_off(make_app):
    app = make_app(FIRST_ACCOUNT_IS_ADMIN=False)
    register(app.test_client(), "founder")
    with app.app_context():
        assert not db.session.scalar(sa.select(User.is_admin))


def test_only_administrators_reach_the_settings(app):
    visitor = app.test_client()
    response = visitor.get("/admin")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/admin")
    user = logged_in(app)
    assert user.get("/admin").status_code == 403
    assert user.post("/admin/icon/remove").status_code in (400, 403)
    assert 'href="/admin"' not in text(user, "/")
    make_admin(app)
    assert user.get("/admin").status_code == 200
    assert 'href="/admin">Settings</a>' in text(user, "/")


def test_settings_show_on_every_page_feed_and_manifest(app):
    make_admin(app)
    admin = logged_in(app)
    visitor = app.test_client()
    for _ in range(2):  # the second time from the page cache
        assert "<title>Flaskr</title>" in text(visitor, "/")
    response = save_settings(
        admin,
        title="  The   Lab  ",
        description="Notes on   tools.",
        about="We **build** things.",
    )
    assert response.status_code == 302
    index = text(visitor, "/")
    assert "<title>The Lab</title>" in index
    assert '<meta name="description" content="Notes on tools.">' in index
    footer = index[index.index('<footer class="site-footer">') :]
    assert "Notes on tools." in footer
    assert 'href="/about">About</a>' in footer
    assert "<strong>build</strong>" in text(visitor, "/about")
    assert '<meta property="og:site_name" content="The Lab">' in text(visitor, "/1")
    assert "<title>The Lab</title>" in text(visitor, "/feed.atom")
    assert "<subtitle>Notes on tools.</subtitle>" in text(visitor, "/feed.atom")
    assert "<description>Notes on tools.</description>" in text(visitor, "/feed.rss")
    feed = visitor.get("/feed.json").get_json()
    assert (feed["title"], feed["description"]) == ("The Lab", "Notes on tools.")
    manifest = visitor.get("/manifest.webmanifest").get_json()
    assert (manifest["name"], manifest["description"]) == ("The Lab", "Notes on tools.")
    # Back to the defaults: no About page, the configured title.
    save_settings(admin)
    assert visitor.get("/about").status_code == 404
    assert "<title>Flaskr</title>" in text(visitor, "/")
    assert 'href="/about"' not in text(visitor, "/")


def test_a_serif_can_be_chosen_for_post_text(app):
    make_admin(app)
    admin = logged_in(app)
    assert '<body class="serif-posts">' not in text(app.test_client(), "/1")
    save_settings(admin, serif_body="y")
    assert '<body class="serif-posts">' in text(app.test_client(), "/1")
    assert (
        'id="identity-serif_body" name="identity-serif_body" type="checkbox" value="y"'
        in text(admin, "/admin")
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "x" * 81}, "A site title must be at most 80 characters."),
        ({"title": "tab\there"}, "A site title must not contain control characters."),
        (
            {"description": "word " * 80},
            "A description must be at most 300 characters.",
        ),
        ({"about": "x" * 20_001}, "The About page must be at most 20,000 characters."),
        ({"title": "nul\x00"}, "A site title must not contain control characters."),
        ({"description": "bell\x07"}, "A description must not contain control"),
        ({"description": "delete\x7f"}, "A description must not contain control"),
        ({"about": "nul\x00here"}, "The About page must not contain NUL characters."),
    ],
)
def test_bad_settings_are_refused_whole(app, fields, message):
    make_admin(app)
    admin = logged_in(app)
    save_settings(admin, title="Kept", description="Kept too")
    response = save_settings(admin, **{"title": "Changed", **fields})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(SiteSettings, 1)
        assert (row.title, row.description) == ("Kept", "Kept too")


def test_settings_need_a_csrf_token(app):
    make_admin(app)
    admin = logged_in(app)
    response = admin.post("/admin", data={"identity-title": "Hijacked"})
    assert response.status_code in (400, 422)
    with app.app_context():
        assert db.session.get(SiteSettings, 1).title == ""


def test_an_icon_is_cropped_square_and_served_for_good(app):
    make_admin(app)
    admin = logged_in(app)
    response = upload_icon(admin, png(size=(300, 200), mode="RGB"))
    assert response.status_code == 302
    page = text(app.test_client(), "/")
    with app.app_context():
        key = db.session.scalar(sa.select(SiteSettings.icon_key))
    assert key is not None
    assert f'<link rel="icon" href="/icon/{key}-small.png" type="image/png"' in page
    assert f'<link rel="apple-touch-icon" href="/icon/{key}-large.png">' in page
    for size, side in (("large", 512), ("small", 64)):
        icon = app.test_client().get(f"/icon/{key}-{size}.png")
        assert icon.status_code == 200
        assert icon.mimetype == "image/png"
        assert "immutable" in icon.headers["Cache-Control"]
        assert Pillow.open(io.BytesIO(icon.data)).size == (side, side)
    favicon = app.test_client().get("/favicon.ico")
    assert favicon.headers["Location"] == f"/icon/{key}-small.png"
    manifest = app.test_client().get("/manifest.webmanifest").get_json()
    assert manifest["icons"][0]["src"] == f"/icon/{key}-large.png"
    assert manifest["icons"][0]["sizes"] == "512x512"
    # A new icon has a new address; the old one is gone.
    upload_icon(admin, png(size=(64, 64), mode="RGB"))
    assert app.test_client().get(f"/icon/{key}-small.png").status_code == 404
    # Removed: the default icon again.
    token = csrf_token_from(admin, "/admin")
    admin.post("/admin/icon/remove", data={"icon-remove-csrf_token": token})
    page = text(app.test_client(), "/")
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in page
    assert app.test_client().get("/favicon.ico").headers["Location"] == (
        "/static/favicon.svg"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a picture", "That file is not a JPEG, PNG, WebP or GIF image"),
        (b"", "The file is empty."),
    ],
)
def test_a_bad_icon_is_refused(app, data, message):
    make_admin(app)
    admin = logged_in(app)
    response = upload_icon(admin, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(SiteSettings.icon_key)) is None


def test_unknown_icons_and_sizes_are_404(client):
    assert client.get("/icon/nothing-small.png").status_code == 404
    assert client.get("/icon/nothing-huge.png").status_code == 404


def test_a_settings_change_moves_the_site_version(app):
    make_admin(app)
    admin = logged_in(app)
    with app.app_context():
        before = db.session.scalar(sa.text("SELECT value FROM site_version"))
    save_settings(admin, title="Moved")
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT value FROM site_version")) > before


def test_the_admin_page_lists_the_administrators(app):
    make_admin(app)
    make_admin(app, "other")
    page = text(logged_in(app), "/admin")
    assert "Administrators: other, test." in page
