"""Following writers on the site: the button, the counts, the lists, the
Following page, and kept pages that never show a stale follow."""

import threading

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Follow
from flaskr.models import User
from flaskr.services.accounts.directory import find_user
from flaskr.services.content.writing import create_post
from flaskr.services.social import follows
from tests.conftest import csrf_token_from
from tests.conftest import statements_for_page
from tests.helpers import logged_in


def follow(client, username, following="yes", page="/u/{}"):
    path = page.format(username)
    return client.post(
        f"/u/{username}/follow",
        data={
            "following": following,
            "next": path,
            "csrf_token": csrf_token_from(client, path),
        },
    )


def follow_rows(app):
    with app.app_context():
        return db.session.execute(
            sa.select(Follow.follower_id, Follow.followed_id)
        ).all()


def test_follow_and_unfollow_from_an_author_page(app):
    reader = logged_in(app, "other")
    page = reader.get("/u/test").get_data(as_text=True)
    # Counts show only when there is something to count.
    assert "follower" not in page.split("<main", 1)[1].split("</main>")[0]
    assert 'aria-pressed="false">Follow<span class="visually-hidden"> test' in page
    response = follow(reader, "test")
    assert response.headers["Location"] == "/u/test"
    page = reader.get("/u/test").get_data(as_text=True)
    assert "1 follower<" in page
    assert 'aria-pressed="true">Following' in page
    assert "You follow test" in page
    assert follow_rows(app) == [(2, 1)]
    assert "1 following" in reader.get("/u/other").get_data(as_text=True)
    follow(reader, "test", "no")
    assert follow_rows(app) == []
    assert "1 follower<" not in reader.get("/u/test").get_data(as_text=True)


def test_no_button_for_visitors_or_oneself(app, client):
    button = 'action="/u/test/follow"'
    assert button not in client.get("/u/test").get_data(as_text=True)
    author = logged_in(app, "test")
    assert button not in author.get("/u/test").get_data(as_text=True)
    assert button not in author.get("/1").get_data(as_text=True)
    assert follow(author, "test").status_code == 400
    assert follow_rows(app) == []


def test_following_needs_a_login_and_a_csrf_token(app, client):
    visitor = client.post(
        "/u/test/follow",
        data={
            "following": "yes",
            "csrf_token": csrf_token_from(client, "/auth/login"),
        },
    )
    assert visitor.headers["Location"].startswith("/auth/login")
    reader = logged_in(app, "other")
    assert reader.post("/u/test/follow", data={"following": "yes"}).status_code == 400
    assert reader.get("/u/test/follow").status_code == 405
    assert follow_rows(app) == []


def test_the_button_on_a_post_comes_back_to_the_post(app):
    reader = logged_in(app, "other")
    page = reader.get("/1").get_data(as_text=True)
    assert 'action="/u/test/follow"' in page
    response = follow(reader, "test", page="/1")
    assert response.headers["Location"] == "/1"
    assert 'aria-pressed="true">Following' in reader.get("/1").get_data(as_text=True)
    # A "next" to another site is not followed.
    response = reader.post(
        "/u/test/follow",
        data={
            "following": "no",
            "next": "//evil.example/",
            "csrf_token": csrf_token_from(reader, "/1"),
        },
    )
    assert response.headers["Location"] == "/u/test"


def test_the_following_page(app):
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        for number in range(12):
            create_post(test, f"By test {number}", "x", tags=[], publish=True)
        create_post(other, "By other", "x", tags=[], publish=True)
    reader = logged_in(app, "other")
    assert "Following</a>" in reader.get("/").get_data(as_text=True)
    empty = reader.get("/following").get_data(as_text=True)
    assert "You follow nobody yet" in empty
    follow(reader, "test")
    page = reader.get("/following").get_data(as_text=True)
    assert "By test 11" in page and "By other" not in page
    assert "By test 1<" not in page  # ten a page, newest first
    older = reader.get("/following?before=" + _older_link(page)).get_data(as_text=True)
    assert "By test 1<" in older and "By test 11" not in older
    assert logged_in(app, "test").get("/following").status_code == 200


def _older_link(page):
    start = page.index("/following?before=") + len("/following?before=")
    return page[start : page.index('"', start)]


def test_follower_and_following_lists(app, client):
    reader = logged_in(app, "other")
    follow(reader, "test")
    followers = client.get("/u/test/followers").get_data(as_text=True)
    assert 'href="/u/other" dir="auto">other</a>' in followers
    followed = client.get("/u/other/following").get_data(as_text=True)
    assert 'href="/u/test" dir="auto">test</a>' in followed
    assert "follows nobody" in client.get("/u/test/following").get_data(as_text=True)
    assert client.get("/u/TEST/followers").status_code == 301
    assert client.get("/u/nobody/followers").status_code == 404


def test_a_kept_page_never_shows_a_stale_follow(app):
    reader = logged_in(app, "other")
    for _ in range(3):  # asked twice and more: kept by the page cache
        assert "1 follower<" not in reader.get("/u/test").get_data(as_text=True)
    # Another session of the same reader follows: the kept page must go.
    elsewhere = logged_in(app, "other")
    follow(elsewhere, "test")
    page = reader.get("/u/test").get_data(as_text=True)
    assert "1 follower<" in page and 'aria-pressed="true"' in page


def test_racing_follows_count_once(app):
    with app.app_context():
        test_id, other_id = find_user("test").id, find_user("other").id
    errors = []

    def follow_once() -> None:
        try:
            with app.app_context():
                follows.follow(
                    db.session.get(User, other_id), db.session.get(User, test_id)
                )
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=follow_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert follow_rows(app) == [(other_id, test_id)]
    with app.app_context():
        assert find_user("test").follower_count == 1
        assert find_user("other").following_count == 1


def test_following_page_statements_do_not_grow_with_follows(app_with):
    app = app_with(PAGE_CACHE_BYTES=0, CARD_CACHE_SIZE=0)
    with app.app_context():
        reader = find_user("other")
        for number in range(5):
            writer = User(f"writer{number}", "x")
            db.session.add(writer)
            db.session.flush()
            create_post(writer, f"Post {number}", "x", tags=["a"], publish=True)
            follows.follow(reader, writer)
    client = logged_in(app, "other")
    client.get("/following")  # the login's flashed message goes
    few = [sql for sql, _ in statements_for_page(app, client, "/following")]
    with app.app_context():
        reader = find_user("other")
        for number in range(5, 15):
            writer = User(f"writer{number}", "x")
            db.session.add(writer)
            db.session.flush()
            create_post(writer, f"Post {number}", "x", tags=["a"], publish=True)
            follows.follow(reader, writer)
    many = [sql for sql, _ in statements_for_page(app, client, "/following")]
    assert len(many) == len(few)
