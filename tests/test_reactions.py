"""Likes and comments."""

import threading

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Like
from flaskr.models import Post
from tests.conftest import csrf_token_from
from tests.helpers import comment
from tests.helpers import like
from tests.helpers import logged_in
from tests.helpers import write


def counts(app, post_id=1):
    with app.app_context():
        post = db.session.get(Post, post_id)
        likes = db.session.scalar(
            sa.select(sa.func.count()).select_from(Like).where(Like.post_id == post_id)
        )
        comments = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Comment)
            .where(Comment.post_id == post_id)
        )
        assert post.like_count == likes, "like counter disagrees with the rows"
        assert post.comment_count == comments, "comment counter disagrees"
        return likes, comments


def test_like_and_unlike(app):
    reader = logged_in(app, "other")
    response = like(reader)
    assert response.headers["Location"] == "/1#likes"
    assert counts(app) == (1, 0)
    page = reader.get("/1").get_data(as_text=True)
    assert "1 like<" in page
    assert 'aria-pressed="true"' in page
    assert "1 like<" in app.test_client().get("/").get_data(as_text=True)

    like(reader, liked="no")
    assert counts(app) == (0, 0)
    assert 'aria-pressed="false"' in reader.get("/1").get_data(as_text=True)


def test_each_user_counts_once(app):
    reader = logged_in(app, "other")
    for _ in range(3):
        like(reader)
    assert counts(app) == (1, 0)
    like(logged_in(app, "test", "test"))
    assert counts(app) == (2, 0)
    for _ in range(2):
        like(reader, liked="no")
    assert counts(app) == (1, 0)


@pytest.mark.parametrize("liked", ["yes", "no"])
def test_concurrent_likes_by_one_user_count_once(app, liked):
    reader = logged_in(app, "other")
    if liked == "no":
        like(reader)
    cookie = reader.get_cookie("flaskr_session").value
    token = csrf_token_from(reader, "/1")
    barrier = threading.Barrier(20)
    statuses = []

    def click():
        client = app.test_client()
        client.set_cookie("flaskr_session", cookie)
        barrier.wait()
        response = client.post("/1/like", data={"liked": liked, "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 20
    assert counts(app) == ((1, 0) if liked == "yes" else (0, 0))


def test_like_needs_login_csrf_and_a_public_post(app, client):
    assert client.post("/1/like").status_code == 400  # no CSRF token
    token = csrf_token_from(client, "/auth/login")
    response = client.post("/1/like", data={"csrf_token": token})
    assert response.headers["Location"].startswith("/auth/login")
    assert client.get("/1/like").status_code == 405

    reader = logged_in(app, "other")
    assert like(reader, post_id=1).status_code == 302
    token = csrf_token_from(reader, "/1")
    assert reader.post("/999/like", data={"csrf_token": token}).status_code == 404


def test_drafts_cannot_be_liked(app):
    author = logged_in(app, "test", "test")
    write(author, title="Draft", action="draft")
    reader = logged_in(app, "other")
    token = csrf_token_from(reader, "/1")
    assert reader.post("/2/like", data={"csrf_token": token}).status_code == 404


def test_likes_page(app):
    author = logged_in(app, "test", "test")
    for number in range(12):
        write(author, title=f"post {number}")
    reader = logged_in(app, "other")
    for post_id in range(2, 14):
        like(reader, post_id)
    page = reader.get("/u/other/likes").get_data(as_text=True)
    assert "Posts other liked" in page
    assert page.count("<article") == 10
    # The latest like first.
    assert page.index('href="/p/post-11"') < page.index('href="/p/post-10"')
    older = page[page.index("/u/other/likes?before=") :].split('"')[0]
    rest = reader.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert rest.count("<article") == 2
    assert app.test_client().get("/u/nobody/likes").status_code == 404
    assert app.test_client().get("/u/test/likes").status_code == 200
    assert app.test_client().get("/u/OTHER/likes").status_code == 301


def test_comments(app):
    reader = logged_in(app, "other")
    response = comment(reader, "First!\nWith a <b>line</b> break")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/1#comment-")
    comment(logged_in(app, "test", "test"), "Second")
    assert counts(app) == (0, 2)

    page = app.test_client().get("/1").get_data(as_text=True)
    assert "Comments (2)" in page
    assert page.index("First!") < page.index("Second")  # oldest first
    assert "<p>First!<br>\nWith a &lt;b&gt;line&lt;/b&gt; break</p>" in page
    assert 'href="/u/other" dir="auto">other</a>' in page
    assert "<time datetime=" in page
    assert "2 comments" in app.test_client().get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", b"Comment is required."),
        ("   \n ", b"Comment is required."),
        ("x" * 5001, b"at most 5,000 characters"),
        ("nul\x00", b"NUL characters"),
    ],
)
def test_comment_validation(app, body, message):
    response = comment(logged_in(app, "other"), body)
    assert response.status_code == 422
    assert message in response.data
    assert counts(app) == (0, 0)


def test_longest_comment_is_accepted(app):
    assert comment(logged_in(app, "other"), "x" * 5000).status_code == 302


def test_comment_needs_login(app, client):
    token = csrf_token_from(client, "/auth/login")
    response = client.post("/1/comments", data={"body": "hello", "csrf_token": token})
    assert response.headers["Location"].startswith("/auth/login")
    assert b"Log in</a> to comment" in client.get("/1").data


def comment_ids(app):
    with app.app_context():
        return db.session.scalars(sa.select(Comment.id).order_by(Comment.id)).all()


def delete_comment(client, comment_id):
    token = csrf_token_from(client, "/1")
    return client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token})


def test_comment_deleted_by_its_author_or_the_posts_author(app, app_with):
    reader = logged_in(app, "other")
    comment(reader, "one")
    comment(reader, "two")
    first, second = comment_ids(app)

    assert delete_comment(reader, first).status_code == 302
    assert comment_ids(app) == [second]
    post_author = logged_in(app, "test", "test")
    assert delete_comment(post_author, second).status_code == 302
    assert comment_ids(app) == []
    assert counts(app) == (0, 0)


def test_comment_cannot_be_deleted_by_someone_else(app, password_hashes):
    from flaskr.models import User

    with app.app_context():
        db.session.add(User("third", password_hashes["other"]))
        db.session.commit()
    comment(logged_in(app, "test", "test"), "the author's own")
    comment(logged_in(app, "other"), "other's comment")
    third = logged_in(app, "third", "other")
    for comment_id in comment_ids(app):
        response = delete_comment(third, comment_id)
        assert response.status_code == 403
    assert len(comment_ids(app)) == 2
    assert delete_comment(third, 999).status_code == 404


def test_comments_are_throttled(app_with):
    app = app_with(RATELIMIT_ENABLED=True, COMMENT_LIMITS="3 per minute")
    reader = logged_in(app, "other")
    statuses = [comment(reader, f"c{number}").status_code for number in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_comment_pages(app_with):
    app = app_with(COMMENTS_PER_PAGE=3)
    reader = logged_in(app, "other")
    for number in range(5):
        comment(reader, f"comment number {number}")
    page = reader.get("/1").get_data(as_text=True)
    assert page.count('class="comment-body"') == 3
    later = page[page.index("/1?comments_after=") :].split('"')[0]
    rest = reader.get(later).get_data(as_text=True)
    assert "comment number 3" in rest and "comment number 4" in rest
    assert "comment number 2" not in rest


@pytest.mark.parametrize("posts", ["keep", "delete"])
def test_deleting_an_account_takes_back_likes_and_comments(app, posts):
    author = logged_in(app, "test", "test")
    write(author, title="by test")
    reader = logged_in(app, "other")
    like(reader, 1)
    like(reader, 2)
    comment(reader, "a comment by other")
    comment(author, "the author answers")
    token = csrf_token_from(reader, "/auth/account")
    reader.post(
        "/auth/account/delete",
        data={"delete-password": "other", "delete-posts": posts, "csrf_token": token},
    )
    assert counts(app, 1) == (0, 1 if posts == "delete" else 2)
    assert counts(app, 2) == (0, 0)
    page = app.test_client().get("/1").get_data(as_text=True)
    assert ("a comment by other" in page) == (posts == "keep")
    if posts == "keep":
        assert "deleted user" in page


def test_visitors_are_asked_to_log_in_to_like(client):
    page = client.get("/1").get_data(as_text=True)
    assert '<a href="/auth/login?next=/1">Log in to like</a>' in page
