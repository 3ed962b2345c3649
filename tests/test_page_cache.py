"""The page cache: kept pages are served only while nothing they show changed,
and only to the visitor they were rendered for."""

import datetime as dt
import gzip
import json

import pytest
import sqlalchemy as sa
from flask import jsonify
from flask import make_response
from flask import request

from flaskr.db import db
from flaskr.models import AuthSession
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.models import User
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.page_cache import PageCache
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.conftest import transaction_states
from tests.helpers import logged_in
from tests.helpers import png
from tests.helpers import rename
from tests.helpers import save_profile
from tests.helpers import upload_avatar
from tests.helpers import write


def page_cache(app):
    assert isinstance(app.wsgi_app, PageCache)
    return app.wsgi_app


def site_version(app):
    with app.app_context():
        return db.session.get(SiteVersion, 1).value


def kept(client, path, **options):
    """Ask for ``path`` twice: the cache keeps pages that are asked for again."""
    client.get(path, **options)
    return client.get(path, **options)


def text_of(client, path):
    """The page at ``path``, after its redirects (``/<id>`` sends to
    ``/p/<slug>`` once a post has a slug)."""
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["visitor", "test"])
def test_a_kept_page_costs_one_statement(app, who):
    client = app.test_client() if who == "visitor" else logged_in(app)
    first = kept(client, "/")
    with recorded_statements(app) as statements:
        again = client.get("/")
    assert len(statements) == 1, statements
    assert "site_version" in statements[0][0]
    assert again.data == first.data
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert "Set-Cookie" not in again.headers
    # Security headers come back too; a logged-in page stays out of other caches.
    assert again.headers["Content-Security-Policy"]
    if who == "test":
        assert again.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", ["visitor", "test"])
def test_a_hit_reads_outside_a_transaction(app, who):
    """No BEGIN before the hit's one read and no ROLLBACK after it: on
    PostgreSQL those would be two more round trips to the server per hit."""
    client = app.test_client() if who == "visitor" else logged_in(app)
    kept(client, "/")
    with transaction_states(app) as states:
        client.get("/")
    assert [in_transaction for _, in_transaction in states] == [False]


@pytest.mark.parametrize(
    "path", ["/", "/1", "/u/test", "/feed.atom", "/search?q=test", "/sitemap.xml"]
)
def test_readers_get_no_session(app, path):
    """Reading makes no session (which would be a write, and a page nobody
    else could be served)."""
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession)) == 0
        )


def test_pages_that_are_not_shared_cost_no_statement_of_the_cache(app):
    client = logged_in(app)
    client.get("/drafts")
    with recorded_statements(app) as statements:
        client.get("/drafts")
    assert not any("site_version" in sql for sql, _ in statements)
    assert len(page_cache(app)) == 0


def test_nobody_is_served_a_page_rendered_for_someone_else(app):
    test = logged_in(app)
    other = logged_in(app, "other", "other")
    visitor = app.test_client()
    for _ in range(3):  # the third round is served from the cache
        assert "Logged in as <strong>test</strong>" in text_of(test, "/")
        assert "Logged in as <strong>other</strong>" in text_of(other, "/")
        page = text_of(visitor, "/")
        assert "Logged in as" not in page
        assert "csrf_token" not in page
    # Only the author sees the edit link on their post.
    for _ in range(3):
        assert "/1/update" in text_of(test, "/1")
        assert "/1/update" not in text_of(other, "/1")


def edit_post(app):
    write(logged_in(app), "/1/update", title="Edited title", body="new")


def new_post(app):
    write(logged_in(app), title="Edited title", tags="fresh")


def like_post(app):
    client = logged_in(app, "other", "other")
    token = csrf_token_from(client, "/1")
    client.post("/1/like", data={"liked": "yes", "csrf_token": token})


def unlike_post(app):
    like_post(app)
    client = logged_in(app, "other", "other")
    token = csrf_token_from(client, "/1")
    client.post("/1/like", data={"liked": "no", "csrf_token": token})


def comment_on_post(app):
    client = logged_in(app, "other", "other")
    token = csrf_token_from(client, "/1")
    client.post("/1/comments", data={"body": "Edited title", "csrf_token": token})


def trash_post(app):
    client = logged_in(app)
    client.post("/1/delete", data={"csrf_token": csrf_token_from(client, "/1/delete")})


def delete_account(app):
    client = logged_in(app)
    token = csrf_token_from(client, "/auth/account")
    client.post(
        "/auth/account/delete",
        data={
            "csrf_token": token,
            "delete-password": "test",
            "delete-posts": "keep",
        },
    )


def rename_user_in_the_database(app):
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username="test")).one()
        user.username = "Edited title"
        db.session.commit()


def edit_a_comment(app):
    client = logged_in(app, "other", "other")
    token = csrf_token_from(client, "/1")
    client.post("/1/comments", data={"body": "Before", "csrf_token": token})
    with app.app_context():
        from flaskr.models import Comment

        comment_id = db.session.scalar(sa.select(sa.func.max(Comment.id)))
    path = f"/comments/{comment_id}/edit"
    token = csrf_token_from(client, path)
    client.post(path, data={"body": "Edited title", "csrf_token": token})


def delete_a_comment(app):
    comment_on_post(app)
    with app.app_context():
        from flaskr.models import Comment

        comment_id = db.session.scalar(sa.select(sa.func.max(Comment.id)))
    client = logged_in(app, "other", "other")
    token = csrf_token_from(client, "/1")
    client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token})


def edit_profile(app):
    save_profile(logged_in(app), display_name="Edited title", bio="Edited bio")


def change_avatar(app):
    upload_avatar(logged_in(app), png(), "me.png")


def rename_on_the_account_page(app):
    rename(logged_in(app), "Edited-name")


@pytest.mark.parametrize(
    ("change", "path", "news"),
    [
        (edit_a_comment, "/1", "Edited title"),
        (edit_profile, "/", "Edited title"),
        (edit_profile, "/1", "Edited title"),
        (edit_profile, "/u/test", "Edited bio"),
        (edit_profile, "/feed.atom", "Edited title"),
        (change_avatar, "/", "/avatars/"),
        (change_avatar, "/u/test", "/avatars/"),
        (rename_on_the_account_page, "/", "Edited-name"),
        (edit_post, "/", "Edited title"),
        (edit_post, "/1", "Edited title"),
        (edit_post, "/feed.atom", "Edited title"),
        (new_post, "/", "Edited title"),
        (new_post, "/u/test", "Edited title"),
        (like_post, "/1", "1 like<"),
        (like_post, "/", "1 like<"),
        (like_post, "/u/test", "1 like<"),
        (like_post, "/u/other/likes", "test title"),
        (like_post, "/api/articles", '"favoritesCount":1'),
        (comment_on_post, "/1", "Edited title"),
        (comment_on_post, "/", "1 comment<"),
        (comment_on_post, "/api/articles", '"commentsCount":1'),
        (trash_post, "/", "No posts yet"),
        (trash_post, "/search?q=test", "No results"),
        (delete_account, "/", "deleted user</span>"),
        (rename_user_in_the_database, "/", "Edited title"),
    ],
)
@pytest.mark.parametrize("who", ["visitor", "other"])
def test_a_change_shows_at_once(app, change, path, news, who):
    reader = app.test_client() if who == "visitor" else logged_in(app, "other", "other")
    kept(reader, path)
    with recorded_statements(app) as statements:
        assert news not in reader.get(path).get_data(as_text=True)
    assert len(statements) == 1  # served from the cache
    change(app)
    assert news in text_of(reader, path)


def served_from_the_cache(client, path, caplog):
    """Ask for ``path``; return whether the page cache answered."""
    caplog.clear()
    assert client.get(path).status_code == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "flaskr.access"]
    return json.loads(line)["cached"]


#: Pages that show post 1's likes and comments (or anyone's), and pages that
#: do not, once post 2 (tagged ``tagged``) exists.
SHOWING_POST_1 = ["/1", "/", "/u/test", "/u/other/likes", "/api/articles"]
NOT_SHOWING_POST_1 = [
    "/p/second",
    "/tag/tagged",
    "/tags",
    "/feed.atom",
    "/search?q=test",
]


@pytest.mark.parametrize(
    "reaction", [like_post, unlike_post, comment_on_post, delete_a_comment]
)
def test_a_reaction_drops_only_the_pages_showing_it(app, reaction, caplog):
    """A like or a comment on post 1 leaves the kept pages that do not show
    post 1's reactions; the others are rendered afresh."""
    caplog.set_level("INFO", logger="flaskr.access")
    write(logged_in(app), title="Second", body="text", tags="tagged")
    reader = app.test_client()
    for path in SHOWING_POST_1 + NOT_SHOWING_POST_1:
        kept(reader, path)
        assert served_from_the_cache(reader, path, caplog), path
    reaction(app)
    for path in NOT_SHOWING_POST_1:
        assert served_from_the_cache(reader, path, caplog), path
    for path in SHOWING_POST_1:
        assert not served_from_the_cache(reader, path, caplog), path
    # And an edit still drops everything.
    edit_post(app)
    for path in NOT_SHOWING_POST_1:
        assert not served_from_the_cache(reader, path, caplog), path


def test_a_page_rendered_during_a_reaction_is_not_kept_stale(app, monkeypatch):
    """A page whose render began before a like committed, and which would be
    kept after the server saw that like, is not kept: its count may be old."""
    reader = app.test_client()
    cache = page_cache(app)
    reader.get("/1")  # asked once: the next render is kept
    render = cache.wsgi_app

    def like_while_rendering(environ, start_response):
        body = render(environ, start_response)  # rendered before the like
        monkeypatch.setattr(cache, "wsgi_app", render)
        like_post(app)
        cache._catch_up(cache_stamp(app))  # another request sees the like
        return body

    monkeypatch.setattr(cache, "wsgi_app", like_while_rendering)
    assert "1 like<" not in text_of(reader, "/1")  # rendered before the like
    assert "1 like<" in text_of(reader, "/1")


def cache_stamp(app):
    with app.app_context():
        row = db.session.get(SiteVersion, 1)
        return (row.value, row.reactions)


def test_a_reaction_on_another_server_drops_its_pages_there(
    make_app, password_hashes, caplog
):
    """Two apps on one database stand for two servers: a like on one drops
    the pages showing it on the other, and only those."""
    caplog.set_level("INFO", logger="flaskr.access")
    from tests.conftest import add_test_data

    first = make_app()
    second = make_app()
    with first.app_context():
        add_test_data(password_hashes)
    write(logged_in(first), title="Second", body="text", tags="tagged")
    reader = first.test_client()
    for path in ("/1", "/p/second", "/"):
        kept(reader, path)
    like_post(second)
    assert served_from_the_cache(reader, "/p/second", caplog)
    assert "1 like<" in text_of(reader, "/1")
    assert "1 like<" in text_of(reader, "/")


def test_a_change_on_another_server_shows_at_once(make_app, password_hashes):
    """Two apps on one database stand for two servers."""
    from tests.conftest import add_test_data

    first = make_app()
    second = make_app()
    with first.app_context():
        add_test_data(password_hashes)
    reader = first.test_client()
    kept(reader, "/")
    with recorded_statements(first) as statements:
        assert "test title" in text_of(reader, "/")
    assert len(statements) == 1
    write(logged_in(second), "/1/update", title="Changed elsewhere", body="")
    assert "Changed elsewhere" in text_of(reader, "/")


ADD_TAG = "INSERT INTO tag (name) VALUES ('new-tag')"
TAG_POST = (
    "INSERT INTO post_tag (post_id, tag_id)"
    " SELECT 1, id FROM tag WHERE name = 'new-tag'"
)
ADD_COMMENT = (
    "INSERT INTO comment (post_id, author_id, body, created)"
    " VALUES (1, 2, 'hi', '2020-01-01 00:00:00')"
)
ADD_LIKE = (
    "INSERT INTO post_like (post_id, user_id, created) VALUES (1, 2, '2020-01-01')"
)
ADD_IMAGE = (
    "INSERT INTO image (post_id, alt, width, height, display, thumbnail, created)"
    " VALUES (1, 'a', 1, 1, :pixels, :pixels, '2020-01-01 00:00:00')"
)
ADD_AVATAR = (
    "INSERT INTO avatar (id, large, small, created)"
    " VALUES (1, :pixels, :pixels, '2020-01-01 00:00:00')"
)
ADD_USER = (
    'INSERT INTO "user" (username, username_key, password_hash)'
    " VALUES ('new', 'new', 'x')"
)


@pytest.mark.parametrize(
    "statements",
    [
        # A count changed without saying it is a reaction counts as an edit.
        ["UPDATE post SET like_count = like_count + 1"],
        ["UPDATE post SET title = 'x', reactions_version = reactions_version"],
        ["DELETE FROM post"],
        [ADD_TAG],
        [ADD_TAG, TAG_POST],
        [ADD_TAG, TAG_POST, "DELETE FROM post_tag"],
        [ADD_IMAGE],
        [ADD_IMAGE, "UPDATE image SET alt = 'b'"],
        [ADD_IMAGE, "DELETE FROM image"],
        [ADD_USER],
        ["UPDATE \"user\" SET username = 'renamed' WHERE id = 2"],
        ['DELETE FROM "user" WHERE id = 2'],
        ["UPDATE \"user\" SET display_name = 'Shown' WHERE id = 2"],
        ["UPDATE \"user\" SET bio_html = '<p>Bio</p>' WHERE id = 2"],
        ["UPDATE \"user\" SET website = 'https://x.example' WHERE id = 2"],
        [ADD_AVATAR, 'UPDATE "user" SET avatar_id = 1 WHERE id = 2'],
    ],
)
def test_writes_to_public_tables_move_the_version(app, statements):
    """Triggers, not the code that writes, keep the version: even a bulk
    statement or a command-line change moves it, in the same transaction."""
    committed = site_version(app)
    with app.app_context():
        *setup, last = statements
        for statement in setup:
            db.session.execute(sa.text(statement), {"pixels": b"0"})
        before = db.session.get(SiteVersion, 1).value
        db.session.execute(sa.text(last), {"pixels": b"0"})
        db.session.expire_all()
        assert db.session.get(SiteVersion, 1).value > before
        db.session.rollback()
    assert site_version(app) == committed


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE post SET like_count = like_count + 1, reactions_version = -1"],
        [ADD_COMMENT],
        [ADD_COMMENT, "UPDATE comment SET body = 'x'"],
        [ADD_COMMENT, "DELETE FROM comment"],
        [ADD_LIKE],
        [ADD_LIKE, "DELETE FROM post_like"],
    ],
)
def test_reactions_stamp_their_post_and_leave_the_version(app, statements):
    """Likes and comments, whoever writes them, move ``reactions`` and stamp
    the post with it; the version that drops every kept page stays."""
    with app.app_context():
        *setup, last = statements
        for statement in setup:
            db.session.execute(sa.text(statement))
        db.session.expire_all()
        before = db.session.get(SiteVersion, 1)
        value, reactions = before.value, before.reactions
        db.session.execute(sa.text(last))
        db.session.expire_all()
        after = db.session.get(SiteVersion, 1)
        assert after.value == value
        assert after.reactions > reactions
        assert db.session.get(Post, 1).reactions_version == after.reactions
        db.session.rollback()


def test_private_writes_leave_the_version_alone(app):
    before = site_version(app)
    client = logged_in(app)  # a session row written
    client.get("/drafts")
    with app.app_context():
        db.session.execute(sa.update(User).values(password_hash="new hash"))
        db.session.execute(sa.update(User).values(email="a@example.org"))
        db.session.commit()
    assert site_version(app) == before


def test_a_waiting_message_is_shown_and_then_the_page_is_kept_again(app):
    client = logged_in(app)
    client.get("/")
    client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "A message for you")]
    assert "A message for you" in text_of(client, "/")
    assert "A message for you" not in text_of(client, "/")


def test_a_session_ended_elsewhere_gets_no_kept_page(app):
    client = logged_in(app)
    for _ in range(2):
        assert "Logged in as" in text_of(client, "/")
    with app.app_context():
        db.session.execute(sa.delete(AuthSession))
        db.session.commit()
    assert "Logged in as" not in text_of(client, "/")


def test_last_seen_is_still_written_when_it_is_due(app):
    client = logged_in(app)
    client.get("/")
    client.get("/")
    with app.app_context():
        for row in db.session.scalars(sa.select(AuthSession)):
            row.last_seen -= dt.timedelta(minutes=6)
        db.session.commit()
    with recorded_statements(app) as statements:
        client.get("/")
    assert any(sql.startswith("UPDATE auth_session") for sql, _ in statements)


def test_a_cookie_signed_by_someone_else_goes_to_flask(app):
    client = app.test_client()
    kept(client, "/")
    client.set_cookie("flaskr_session", "forged.value")
    with recorded_statements(app) as statements:
        page = text_of(client, "/")
    assert "test title" in page
    assert len(statements) > 1


def test_each_host_has_its_own_pages(app):
    """A request with a made-up Host header cannot plant links in others' pages."""
    client = app.test_client()
    kept(client, "/feed.atom", headers={"Host": "evil.example"})
    assert "evil.example" not in text_of(client, "/feed.atom")


def test_conditional_requests_still_get_304(app):
    client = app.test_client()
    first = kept(client, "/feed.atom")
    again = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_error_pages_are_not_kept(app):
    client = app.test_client()
    client.get("/12345")
    with recorded_statements(app) as statements:
        assert client.get("/12345").status_code == 404
    assert len(statements) > 1
    assert len(page_cache(app)) == 0


def test_memory_stays_within_its_limit(app_with):
    # Room for a few compressed home pages (one may take an eighth), not for 40.
    app = app_with(PAGE_CACHE_BYTES=16_000)
    client = app.test_client()
    for number in range(40):
        kept(client, f"/?q={number}")
    cache = page_cache(app)
    assert 0 < len(cache) < 40
    sizes = [len(page.body) for page in cache._pages.values()]
    assert cache._bytes == sum(sizes) <= 16_000


def test_kept_pages_are_stored_compressed(app, make_app):
    """Memory that holds ten home pages as rendered holds over twice as many
    compressed (this small test page has more markup than text)."""
    rendered = len(app.test_client().get("/").data)
    app = make_app(PAGE_CACHE_BYTES=rendered * 10)  # on the same database
    client = app.test_client()
    pages = [kept(client, f"/?q={number}").data for number in range(40)]
    assert len(page_cache(app)) > 20
    assert all(len(page) >= rendered for page in pages)  # served decompressed


def test_a_client_that_accepts_gzip_gets_the_kept_bytes(client):
    first = client.get("/")
    client.get("/")
    zipped = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(first.data)
    assert gzip.decompress(zipped.data) == first.data
    plain = client.get("/", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == first.data
    assert int(plain.headers["Content-Length"]) == len(first.data)
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_a_compressed_feed_has_a_weak_etag_that_still_matches(client):
    """Another representation, so only weakly equal; a conditional request
    with it still gets a 304 (If-None-Match compares weakly)."""
    first = client.get("/feed.atom")
    client.get("/feed.atom")
    zipped = client.get("/feed.atom", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["ETag"] == "W/" + first.headers["ETag"]
    again = client.get("/feed.atom", headers={"If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


def test_pages_older_than_the_maximum_age_are_rendered_again(app_with):
    app = app_with(PAGE_CACHE_MAX_AGE=0)
    client = app.test_client()
    kept(client, "/")
    with recorded_statements(app) as statements:
        client.get("/")
    assert len(statements) > 1


def test_the_cache_can_be_turned_off(app_with):
    app = app_with(PAGE_CACHE_BYTES=0)
    assert not isinstance(app.wsgi_app, PageCache)


def test_hits_are_in_the_access_log(app, caplog):
    caplog.set_level("INFO", logger="flaskr.access")
    client = app.test_client()
    kept(client, "/")
    client.get("/", headers={"X-Request-ID": "lb-42"})
    [line] = [r.getMessage() for r in caplog.records if "lb-42" in r.getMessage()]
    assert '"cached": true' in line
    assert '"status": 200' in line


def test_a_page_rendered_while_the_site_changed_is_not_served_after(app):
    """A page is stamped with the version read before rendering, so a change
    committed while it renders makes the next request render again."""
    client = app.test_client()
    client.get("/u/test")  # asked for before: the next rendering would be kept
    cache = page_cache(app)
    render = cache.wsgi_app

    def render_while_someone_posts(environ, start_response):
        with app.app_context():
            published = dt.datetime.now(dt.UTC)
            db.session.add(
                Post(author_id=1, title="Meanwhile", body="", published=published)
            )
            db.session.commit()
        return render(environ, start_response)

    cache.wsgi_app = render_while_someone_posts
    try:
        client.get("/u/test")
    finally:
        cache.wsgi_app = render
    with recorded_statements(app) as statements:
        assert "Meanwhile" in text_of(client, "/u/test")
    assert len(statements) > 1
    with recorded_statements(app) as statements:
        client.get("/u/test")
    assert len(statements) == 1  # kept again, under the new version


def test_a_page_asked_for_once_is_not_kept(app):
    """Crawlers and searches nobody repeats do not push popular pages out."""
    client = app.test_client()
    for number in range(5):
        client.get(f"/search?q=test+{number}")
    assert len(page_cache(app)) == 0
    with recorded_statements(app) as statements:
        client.get("/search?q=test+4")  # the second time: rendered and kept
    assert len(statements) > 1
    with recorded_statements(app) as statements:
        client.get("/search?q=test+4")
    assert len(statements) == 1
    assert len(page_cache(app)) == 1


def test_a_page_asked_for_once_reads_no_version(app):
    """It can be neither served from the cache nor kept, so the site version
    (a round trip on PostgreSQL) is not read for it; the second time it is."""
    client = app.test_client()
    with recorded_statements(app) as statements:
        client.get("/search?q=test")
    assert statements, "the search read nothing"
    assert not any("site_version" in sql for sql, _ in statements), statements
    with recorded_statements(app) as statements:
        client.get("/search?q=test")
    assert "site_version" in statements[0][0], statements
    assert len(page_cache(app)) == 1


def test_after_a_change_a_page_asked_for_before_is_kept_at_once(app):
    reader = app.test_client()
    kept(reader, "/")
    edit_post(app)
    assert "Edited title" in text_of(reader, "/")  # rendered again, and kept
    with recorded_statements(app) as statements:
        assert "Edited title" in text_of(reader, "/")
    assert len(statements) == 1


def test_the_memory_of_pages_asked_for_is_bounded(app_with):
    app = app_with(PAGE_CACHE_BYTES=100_000)
    cache = page_cache(app)
    client = app.test_client()
    for number in range(cache._max_seen + 10):
        client.get(f"/?q={number}")
    assert len(cache._seen) == cache._max_seen
    client.get("/?q=0")  # forgotten, so asked for once again: not kept
    assert len(cache) == 0
    client.get(f"/?q={cache._max_seen + 9}")  # still remembered: kept
    assert len(cache) == 1


#: What Chromium sends when it opens a page.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
ACTIVITY = "application/activity+json"


def served_from_memory(app, client, path, accept):
    """Whether the cache answered this request itself."""
    before = page_cache(app).hits
    response = client.get(path, headers={} if accept is None else {"Accept": accept})
    assert response.status_code == 200
    return page_cache(app).hits > before


@pytest.mark.parametrize(
    ("path", "kept_for", "asked_with"),
    [
        ("/", BROWSER_ACCEPT, ACTIVITY),
        ("/", BROWSER_ACCEPT, "application/json"),
        ("/1", BROWSER_ACCEPT, ACTIVITY),
        ("/api/articles", "application/json", BROWSER_ACCEPT),
        ("/api/articles", "application/json", ACTIVITY),
    ],
)
def test_a_kept_answer_is_served_only_for_the_same_accept(
    app, path, kept_for, asked_with
):
    client = app.test_client()
    kept(client, path, headers={"Accept": kept_for})
    assert served_from_memory(app, client, path, kept_for)
    assert not served_from_memory(app, client, path, asked_with)


@pytest.fixture
def negotiating_app(app):
    """The app with a kept address that answers browsers with HTML and
    federated servers with JSON, as a post's address may."""

    @app.get("/negotiated")
    @kept_per_visitor
    def negotiated():
        best = request.accept_mimetypes.best_match(["text/html", ACTIVITY])
        if best == ACTIVITY:
            response = jsonify(type="Note", content="the post")
            response.mimetype = ACTIVITY
        else:
            response = make_response("<p>the post</p>")
        response.vary.add("Accept")
        return response

    return app


@pytest.mark.parametrize("first", [BROWSER_ACCEPT, ACTIVITY])
def test_html_and_json_at_one_address_are_kept_apart(negotiating_app, first):
    app = negotiating_app
    client = app.test_client()
    second = ACTIVITY if first == BROWSER_ACCEPT else BROWSER_ACCEPT
    kept(client, "/negotiated", headers={"Accept": first})
    assert served_from_memory(app, client, "/negotiated", first)
    for accept in (second, second, second, first):
        response = client.get("/negotiated", headers={"Accept": accept})
        expected = "text/html" if accept == BROWSER_ACCEPT else ACTIVITY
        assert response.mimetype == expected
        assert "Accept" in response.vary
    assert served_from_memory(app, client, "/negotiated", second)


def test_a_kept_answer_keeps_its_vary(negotiating_app):
    app = negotiating_app
    client = app.test_client()
    kept(client, "/negotiated", headers={"Accept": ACTIVITY})
    before = page_cache(app).hits
    again = client.get("/negotiated", headers={"Accept": ACTIVITY})
    assert page_cache(app).hits == before + 1
    assert "Accept" in again.vary
    assert again.get_json() == {"type": "Note", "content": "the post"}


@pytest.mark.parametrize("vary", ["Accept-Language", "*", "Accept, User-Agent"])
def test_an_answer_varying_on_a_header_outside_the_key_is_not_kept(app, vary):
    @app.get("/by-language")
    @kept_per_visitor
    def by_language():
        response = make_response(request.headers.get("Accept-Language", "none"))
        response.headers["Vary"] = vary
        return response

    client = app.test_client()
    kept(client, "/by-language", headers={"Accept-Language": "fr"})
    answer = client.get("/by-language", headers={"Accept-Language": "de"})
    assert answer.get_data(as_text=True) == "de"
    assert len(page_cache(app)) == 0


@pytest.mark.parametrize(
    ("path", "who", "varied_on"),
    [("/", "test", "Cookie"), ("/api/articles", "visitor", "Origin")],
)
def test_answers_varying_on_what_the_key_holds_are_kept(app, path, who, varied_on):
    client = app.test_client() if who == "visitor" else logged_in(app)
    response = kept(client, path)
    assert varied_on in response.vary
    assert served_from_memory(app, client, path, None)
