"""The trash: deleting is undoable for a while."""

import datetime as dt

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Image
from flaskr.models import Like
from flaskr.models import Post
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import comment
from tests.helpers import jpeg_with_gps
from tests.helpers import like
from tests.helpers import upload
from tests.helpers import write

TITLE = "Trashable zebra"

#: Where a public post shows, and what each page must not show once it is trashed.
PUBLIC_PAGES = [
    "/",
    "/tag/stripes",
    "/u/test",
    "/u/other/likes",
    "/search?q=zebra",
    "/feed.atom",
    "/feed.rss",
    "/tag/stripes/feed.atom",
    "/u/test/feed.atom",
    "/sitemap-0.xml",
]


@pytest.fixture
def full_post(app, client, auth):
    """Post 2: tagged, with an image, a like and a comment by ``other``."""
    auth.login()
    upload(client, data=jpeg_with_gps(), title=TITLE, body="stripes", tags="stripes")
    reader = app.test_client()
    AuthActions(reader).login("other", "other")
    like(reader, 2)
    comment(reader, "Lovely stripes", 2)
    return reader


def trash_post(client, post_id=2):
    token = csrf_token_from(client, f"/{post_id}/delete")
    return client.post(f"/{post_id}/delete", data={"csrf_token": token})


def snapshot(app, post_id=2):
    with app.app_context():
        post = db.session.get(Post, post_id)
        return {
            "title": post.title,
            "body_html": post.body_html,
            "published": post.published,
            "tags": post.tag_names,
            "like_count": post.like_count,
            "comment_count": post.comment_count,
            "likes": db.session.scalars(
                sa.select(Like.user_id).where(Like.post_id == post_id)
            ).all(),
            "comments": db.session.scalars(
                sa.select(Comment.body).where(Comment.post_id == post_id)
            ).all(),
            "image": db.session.scalars(
                sa.select(Image.id).where(Image.post_id == post_id)
            ).all(),
        }


def visible_on(client, path):
    response = client.get(path, follow_redirects=True)
    if path.startswith("/tag/") and response.status_code == 404:
        return False
    assert response.status_code == 200, path
    # By title, or by link (search highlights words, the sitemap has URLs only).
    return any(
        mark in response.data
        for mark in (
            TITLE.encode(),
            b'href="/p/trashable-zebra"',
            b"/p/trashable-zebra<",
        )
    )


def test_trashed_post_vanishes_everywhere_and_comes_back_intact(app, client, full_post):
    stranger = app.test_client()
    for path in PUBLIC_PAGES:
        assert visible_on(stranger, path), path
    before = snapshot(app)

    response = trash_post(client)
    assert response.headers["Location"] == "/"
    assert b"You can restore it from there" in client.get("/trash").data  # the flash
    for reader in (stranger, full_post, client):
        for path in PUBLIC_PAGES:
            assert not visible_on(reader, path), path
        assert reader.get("/2").status_code == 404
    with app.app_context():
        image_id = db.session.scalars(sa.select(Image.id)).one()
    assert stranger.get(f"/images/{image_id}.webp").status_code == 404
    assert TITLE.encode() in client.get("/trash").data
    assert TITLE.encode() not in full_post.get("/trash").data

    token = csrf_token_from(client, "/trash")
    response = client.post("/2/restore", data={"csrf_token": token})
    assert response.headers["Location"] == "/p/trashable-zebra"
    assert snapshot(app) == before
    for path in PUBLIC_PAGES:
        assert visible_on(stranger, path), path
    assert stranger.get(f"/images/{image_id}.webp").status_code == 200


def test_trashed_post_cannot_be_edited_liked_or_commented(app, client, full_post):
    trash_post(client)
    token = csrf_token_from(client, "/trash")
    assert client.get("/2/update").status_code == 404
    assert client.post("/2/delete", data={"csrf_token": token}).status_code == 404
    assert like(full_post, 1).status_code == 302  # other posts still work
    reader_token = csrf_token_from(full_post, "/1")
    assert (
        full_post.post("/2/like", data={"csrf_token": reader_token}).status_code == 404
    )
    response = full_post.post(
        "/2/comments", data={"body": "x", "csrf_token": reader_token}
    )
    assert response.status_code == 404


def test_only_the_author_restores_or_deletes(app, client, full_post):
    trash_post(client)
    token = csrf_token_from(full_post, "/1")
    assert full_post.post("/2/restore", data={"csrf_token": token}).status_code == 403
    assert (
        full_post.post("/2/delete-forever", data={"csrf_token": token}).status_code
        == 403
    )
    # A post outside the trash is not restored or deleted for good this way.
    own = csrf_token_from(client, "/trash")
    assert client.post("/1/restore", data={"csrf_token": own}).status_code == 404
    assert client.post("/1/delete-forever", data={"csrf_token": own}).status_code == 404


def test_delete_forever(app, client, full_post):
    trash_post(client)
    token = csrf_token_from(client, "/trash")
    response = client.post("/2/delete-forever", data={"csrf_token": token})
    assert response.headers["Location"] == "/trash"
    with app.app_context():
        assert db.session.get(Post, 2) is None
        for model in (Image, Like, Comment):
            assert db.session.scalars(sa.select(model)).all() == []
    assert b"The trash is empty." in client.get("/trash").data


def age_trash(app, days):
    with app.app_context():
        for post in db.session.scalars(
            sa.select(Post).where(Post.deleted.is_not(None))
        ):
            post.deleted -= dt.timedelta(days=days)
        db.session.commit()


def test_old_trash_is_purged_automatically(app, client, full_post):
    trash_post(client)
    age_trash(app, 31)
    write(client, title="Another")
    trash_post(client, 3)  # trashing purges what is older than 30 days
    with app.app_context():
        assert db.session.get(Post, 2) is None
        assert db.session.get(Post, 3).deleted is not None
        assert db.session.scalars(sa.select(Image)).all() == []


def test_recent_trash_is_kept(app, client, full_post):
    trash_post(client)
    age_trash(app, 29)
    write(client, title="Another")
    trash_post(client, 3)
    with app.app_context():
        assert db.session.get(Post, 2) is not None


def test_trash_lifetime_setting_and_command(app_with):
    app = app_with(TRASH_DAYS=7)
    client = app.test_client()
    AuthActions(client).login()
    trash_post(client, 1)
    assert b"for 7 days" in client.get("/trash").data
    age_trash(app, 8)
    result = app.test_cli_runner().invoke(args=["purge-trash"])
    assert "Deleted 1 posts from the trash for good." in result.output
    with app.app_context():
        assert db.session.get(Post, 1) is None


def test_trash_needs_login(client):
    assert client.get("/trash").headers["Location"] == "/auth/login?next=/trash"
