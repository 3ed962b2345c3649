import datetime as dt
import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import BODY_MAX_LENGTH
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base.paging import Cursor
from flaskr.services.social.reactions import set_like
from tests.conftest import assert_reads_index_in_order
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import make_post
from tests.conftest import sqlite_steps
from tests.conftest import statements_for_page
from tests.helpers import add_posts
from tests.helpers import count_posts


def post_form(client, path, **data):
    data.setdefault("csrf_token", csrf_token_from(client, path))
    return client.post(path, data=data)


def test_index(client, auth):
    response = client.get("/")
    assert b"Log in" in response.data
    assert b"Register" in response.data

    auth.login()
    response = client.get("/")
    assert b"Log out" in response.data
    assert b"test title" in response.data
    # One quiet line: picture, name, date (no "By").
    name = b'<a href="/u/test" dir="auto">test</a></span>'
    assert name + b'<span class="meta-date"><time' in response.data
    assert b"test body" in response.data  # the excerpt
    assert b'href="/1"' in response.data
    # Unlike the tutorial, lists leave editing to the post's own page.
    assert b'href="/1/update"' not in response.data
    assert b'href="/1/update"' in client.get("/1").data


@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_login_required(client, path):
    response = client.post(
        path, data={"csrf_token": csrf_token_from(client, "/auth/login")}
    )
    assert response.headers["Location"] == f"/auth/login?next={path}"


def test_author_required(app, client, auth):
    # change the post author to another user
    with app.app_context():
        db.session.get(Post, 1).author_id = 2
        db.session.commit()

    auth.login()
    token = csrf_token_from(client, "/create")
    # current user can't modify other user's post
    assert client.post("/1/update", data={"csrf_token": token}).status_code == 403
    assert client.post("/1/delete", data={"csrf_token": token}).status_code == 403
    assert client.get("/1/update").status_code == 403
    # current user doesn't see edit link
    assert b'href="/1/update"' not in client.get("/").data
    assert count_posts(app) == 1


@pytest.mark.parametrize(
    "path", ["/2/update", "/2/delete", "/9223372036854775807/update"]
)
def test_exists_required(client, auth, path):
    auth.login()
    token = csrf_token_from(client, "/create")
    assert client.post(path, data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(
    "path", ["/9223372036854775808/update", "/99999999999999999999999/delete"]
)
def test_id_too_large_is_404(client, auth, path):
    auth.login()
    assert client.get(path).status_code == 404


def test_create(client, auth, app):
    auth.login()
    assert client.get("/create").status_code == 200
    response = post_form(client, "/create", title="created", body="")
    assert response.headers["Location"] == "/p/created"
    assert count_posts(app) == 2


def test_update(client, auth, app):
    auth.login()
    assert client.get("/1/update").status_code == 200
    post_form(client, "/1/update", title="updated", body="")

    with app.app_context():
        post = db.session.get(Post, 1)
        assert post.title == "updated"
        assert post.updated is not None
        assert post.updated > post.created


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_update_validate(client, auth, path):
    auth.login()
    response = post_form(client, path, title="", body="")
    assert response.status_code == 422
    assert b"Title is required." in response.data


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("t" * 201, "", b"Title must be at most 200 characters"),
        ("tab\there", "", b"control characters"),
        ("ok", "b" * (BODY_MAX_LENGTH + 1), b"Text must be at most 100,000"),
        ("ok", "nul \x00 byte", b"NUL characters"),
        ("   ", "only spaces in the title", b"Title is required."),
    ],
)
def test_create_limits(client, auth, app, title, body, message):
    auth.login()
    response = post_form(client, "/create", title=title, body=body)
    assert response.status_code == 422
    assert message in response.data
    assert count_posts(app) == 1


def test_create_at_the_limits(client, auth, app):
    auth.login()
    body = "é" * BODY_MAX_LENGTH
    response = post_form(client, "/create", title="t" * 200, body=body)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Post, 2).body == body


def test_missing_fields_are_not_an_error(client, auth, app):
    auth.login()
    response = post_form(client, "/create")
    assert response.status_code == 422
    assert b"Title is required." in response.data
    response = post_form(client, "/create", title="no body field")
    assert response.status_code == 302


def test_line_breaks_kept_and_text_escaped(client, auth, app):
    auth.login()
    body = "line one\r\nline two\r<script>alert(1)</script>"
    post_form(client, "/create", title="<b>bold?</b>", body=body)
    with app.app_context():
        assert db.session.get(Post, 2).body == (
            "line one\nline two\n<script>alert(1)</script>"
        )
    for page in (client.get("/").data, client.get("/p/b-bold-b").data):
        assert b"<script>alert(1)" not in page
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert b"&lt;b&gt;bold?&lt;/b&gt;" in page
    assert b"line one<br>\nline two<br>" in client.get("/p/b-bold-b").data


def test_delete(client, auth, app):
    auth.login()
    confirm = client.get("/1/delete")
    assert confirm.status_code == 200
    assert count_posts(app) == 1
    response = post_form(client, "/1/delete")
    assert response.headers["Location"] == "/"
    # Deleting moves the post to the trash: gone from the blog, kept for undo.
    assert b'<a href="/1">test title</a>' not in client.get("/").data
    assert client.get("/1").status_code == 404
    assert b"test title" in client.get("/trash").data


def titles(response):
    page = response.get_data(as_text=True)
    return re.findall(r'<h2 dir="auto"><a href="/\d+">(post \d+)</a></h2>', page)


def test_index_pages_newest_first(client, app):
    add_posts(app, 25)
    first = client.get("/")
    assert titles(first) == [f"post {n}" for n in range(24, 14, -1)]
    assert b"Newer posts" not in first.data

    older = re.search(r'href="(/\?before=[^"]+)"', first.get_data(as_text=True))
    second = client.get(older.group(1))
    assert titles(second) == [f"post {n}" for n in range(14, 4, -1)]
    # A deeper page says where it is: the posts' dates, newest to oldest.
    assert re.search(
        r'<p class="list-position">Older posts, from <time[^>]*>1 January 2020</time>'
        r" to <time[^>]*>1 January 2020</time></p>",
        second.get_data(as_text=True),
    )
    assert b'class="list-position"' not in first.data

    older = re.search(r'href="(/\?before=[^"]+)"', second.get_data(as_text=True))
    third = client.get(older.group(1))
    assert titles(third) == [f"post {n}" for n in range(4, -1, -1)]
    assert b"test title" in third.data
    assert "Older posts →" not in third.get_data(as_text=True)

    newer = re.search(r'href="(/\?after=[^"]+)"', third.get_data(as_text=True))
    back = client.get(newer.group(1))
    assert titles(back) == titles(second)


def test_posts_per_page_setting(app_with):
    app = app_with(POSTS_PER_PAGE=3)
    add_posts(app, 5)
    assert len(titles(app.test_client().get("/"))) == 3


def test_posts_with_the_same_time_page_by_id(client, app):
    same = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    with app.app_context():
        for number in range(15):
            db.session.add(make_post(1, f"post {number}", published=same))
        db.session.commit()
    first = titles(client.get("/"))
    older = re.search(
        r'href="(/\?before=[^"]+)"', client.get("/").get_data(as_text=True)
    )
    second = titles(client.get(older.group(1)))
    assert sorted(first + second, key=lambda t: int(t.split()[1])) == [
        f"post {n}" for n in range(15)
    ]


@pytest.mark.parametrize(
    "query", ["before=x", "after=1-", "before=99999999999999999999-1", "before=-1-1"]
)
def test_bad_page_link_is_400(client, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert b"page link is not valid" in response.data


def test_cursor_round_trip():
    cursor = Cursor(dt.datetime(2024, 2, 29, 12, 30, 1, 123456, tzinfo=dt.UTC), 42)
    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize("logged_in", [False, True])
def test_index_statement_count_does_not_grow(app_with, logged_in):
    """Rendering the index (the page cache and the kept cards, tested on
    their own, are off here)."""
    app = app_with(PAGE_CACHE_BYTES=0, CARD_CACHE_SIZE=0)
    client = app.test_client()
    auth = AuthActions(client)
    if logged_in:
        auth.login()
    client.get("/")  # settle the session's CSRF token and "last seen" time
    with_one = statements_for_page(app, client, "/")

    with app.app_context():
        for number in range(5):
            db.session.add(User(f"author{number}", "x"))
        db.session.commit()
    add_posts(app, 49)
    with app.app_context():
        authors = db.session.scalars(sa.select(User.id)).all()
        for post in db.session.scalars(sa.select(Post)):
            post.author_id = authors[post.id % len(authors)]
        db.session.commit()

    with_fifty = statements_for_page(app, client, "/")
    assert len(with_fifty) == len(with_one)
    # The page's ids, then the posts with their authors, their tags, their
    # images, then the site's settings (its title); and when logged in, the
    # session and the user first.
    assert len(with_one) == (7 if logged_in else 5)


def test_kept_cards_spare_loading_the_posts(app_with):
    """A list whose cards were rendered before reads only its ids (with the
    stamps that say the cards are current) and the site's settings; after a
    like, only the liked post is loaded again, and its card shows the like."""
    app = app_with(PAGE_CACHE_BYTES=0)
    add_posts(app, 9)
    client = app.test_client()
    first = client.get("/").get_data(as_text=True)
    statements = statements_for_page(app, client, "/")
    assert len(statements) == 2, statements
    assert client.get("/").get_data(as_text=True) == first
    with app.app_context():
        post = db.session.get(Post, 1)
        set_like(db.session.get(User, 2), post, liked=True)
    statements = statements_for_page(app, client, "/")
    loaded = [sql for sql, _ in statements if "post.title" in sql]
    assert len(loaded) == 1
    assert "1 like<" in client.get("/").get_data(as_text=True)
    # An edit anywhere renders every card again.
    with app.app_context():
        db.session.get(Post, 2).title = "Edited title"
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Edited title" in page


def test_old_pages_walk_no_newer_posts(app, client):
    """A page far back, and an old post's previous post, start their index walk
    at their own place, not at now: given two bounds on the time (now and the
    cursor's), SQLite started at now and stepped through every newer post (at
    a million posts a deep page of the index took a hundred times a first
    page). Counted in SQLite's instructions, which do not vary."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("instructions are SQLite's")
    add_posts(app, 600)
    with app.app_context():
        newest, old = db.session.scalars(
            sa.select(Post).order_by(Post.published.desc()).limit(596)
        ).all()[::595]
        old_cursor = Cursor.of(old)

    def cost(path, marker):
        [(sql, parameters)] = [
            (sql, values)
            for sql, values in statements_for_page(app, client, path)
            if marker in sql
        ]
        return sqlite_steps(app, sql, parameters)

    newest_first = "ORDER BY post.published DESC"
    first_page = cost("/", newest_first)
    assert cost(f"/?before={old_cursor}", newest_first) < 2 * first_page
    api_first_page = cost("/api/articles", newest_first)
    api_old_page = cost(f"/api/articles?before={old_cursor}", newest_first)
    assert api_old_page < 2 * api_first_page
    newest_neighbours = cost(f"/{newest.id}", "UNION ALL")
    assert cost(f"/{old.id}", "UNION ALL") < 2 * newest_neighbours


@pytest.mark.parametrize(
    "path", ["/archive", "/tags", "/archive/2020/1", "/archive/2020/1?before=old"]
)
def test_archive_and_tags_walk_no_newer_posts(app, client, path):
    """The archive's months, a past month's page and the tag index read about
    as much however many posts came out since (at a million posts they read
    every newer post: seconds per page). Counted in SQLite's instructions."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("instructions are SQLite's")
    add_posts(app, 400, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with app.app_context():
        db.session.execute(sa.text("INSERT INTO tag (name) VALUES ('python')"))
        db.session.execute(
            sa.text(
                "INSERT INTO post_tag (post_id, tag_id, published)"
                " SELECT id, 1, published FROM post"
            )
        )
        db.session.commit()
        old = db.session.scalars(
            sa.select(Post).order_by(Post.published.desc()).offset(200)
        ).first()
    add_posts(app, 400, start=dt.datetime(2021, 1, 1, tzinfo=dt.UTC))

    def costs(path):
        return [
            sqlite_steps(app, sql, parameters)
            for sql, parameters in statements_for_page(app, client, path)
        ]

    first_page = max(costs("/"))
    path = path.replace("=old", f"={Cursor.of(old)}")
    assert max(costs(path)) < 2 * first_page


@pytest.mark.parametrize("direction", [None, "before", "after"])
def test_index_query_uses_the_index(app, client, direction):
    """No page of the index scans the post table or sorts it."""
    add_posts(app, 30)
    path = "/"
    if direction:
        with app.app_context():
            post = db.session.scalars(sa.select(Post).order_by(Post.id.desc())).first()
            path = f"/?{direction}={Cursor.of(post)}"
    statements = statements_for_page(app, client, path)
    reads_posts = re.compile(r"FROM post\b(?!_)")
    # The page's ids in order; the posts are then read by their ids.
    [(statement, parameters)] = [
        (sql, values)
        for sql, values in statements
        if reads_posts.search(sql) and "ORDER BY" in sql
    ]
    assert_reads_index_in_order(app, statement, parameters, "ix_post_published_id")
