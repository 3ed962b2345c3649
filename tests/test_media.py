"""A writer's picture library, and pictures placed in posts' text."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import MediaImage
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.test_images import jpeg_with_gps
from tests.test_images import png
from tests.test_images import post_files
from tests.test_publishing import write

MARKDOWN = re.compile(r"!\[([^\]]*)\]\(/media/([A-Za-z0-9_-]{22})\.webp\)")


def upload(client, data=None, alt="A red square", as_json=True, filename="p.jpg"):
    form = {"alt": alt, "csrf_token": csrf_token_from(client, "/images")}
    if data is not None:
        form["picture"] = (io.BytesIO(data), filename)
    if as_json:
        client.environ_base["HTTP_ACCEPT"] = "application/json"
    try:
        return post_files(client, "/images", form)
    finally:
        client.environ_base.pop("HTTP_ACCEPT", None)


def pictures(app):
    with app.app_context():
        return db.session.scalars(sa.select(MediaImage.key)).all()


def test_an_upload_gives_markdown_for_the_text(app, author):
    response = upload(author, jpeg_with_gps(size=(2000, 1000)), alt="A [red] square")
    assert response.status_code == 201
    answer = response.get_json()
    alt, key = MARKDOWN.fullmatch(answer["markdown"]).groups()
    assert alt == "A (red) square"
    assert answer["url"] == f"/media/{key}.webp"
    served = app.test_client().get(answer["url"])
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    picture = Pillow.open(io.BytesIO(served.data))
    assert picture.size == (1600, 800)
    assert not picture.getexif()
    small = app.test_client().get(f"/media/{key}/small.webp").data
    assert Pillow.open(io.BytesIO(small)).size == (480, 240)


def test_a_picture_in_the_text_shows_with_its_sizes(app, author):
    markdown = upload(author, png()).get_json()["markdown"]
    key = MARKDOWN.fullmatch(markdown)[2]
    write(author, title="With a picture", body=f"Look:\n\n{markdown}")
    page = app.test_client().get("/p/with-a-picture").get_data(as_text=True)
    assert f'<img src="/media/{key}.webp" alt="A red square"' in page
    assert f'srcset="/media/{key}/small.webp 480w, /media/{key}.webp 1600w"' in page
    assert 'loading="lazy"' in page


@pytest.mark.parametrize(
    ("data", "alt", "message"),
    [
        (None, "x", "Choose a picture to upload."),
        (b"not a picture", "x", "is not a JPEG, PNG, WebP or GIF image"),
        (png(), "", "Describe the picture"),
        (png(), "x" * 301, "at most 300 characters"),
        (png(), "bell\x07", "control characters"),
    ],
)
def test_a_bad_upload_adds_nothing(app, author, data, alt, message):
    response = upload(author, data, alt=alt)
    assert response.status_code == 422
    assert message in response.get_json()["error"]
    page = upload(author, data, alt=alt, as_json=False)
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert pictures(app) == []


def test_the_library_lists_and_deletes_only_unused_pictures(app, author):
    used = upload(author, png()).get_json()["markdown"]
    unused = upload(author, png(), alt="Spare").get_json()["markdown"]
    write(author, title="Uses one", body=used)
    page = author.get("/images").get_data(as_text=True)
    assert "In 1 post" in page and "Not in any post" in page
    used_key, unused_key = MARKDOWN.fullmatch(used)[2], MARKDOWN.fullmatch(unused)[2]
    token = csrf_token_from(author, "/images")
    author.post(f"/images/{used_key}/delete", data={"delete-csrf_token": token})
    assert used_key in pictures(app)
    author.post(f"/images/{unused_key}/delete", data={"delete-csrf_token": token})
    assert pictures(app) == [used_key]


def test_only_the_writer_deletes(app, author):
    key = MARKDOWN.fullmatch(upload(author, png()).get_json()["markdown"])[2]
    other = app.test_client()
    AuthActions(other).login("other", "other")
    token = csrf_token_from(other, "/images")
    response = other.post(f"/images/{key}/delete", data={"delete-csrf_token": token})
    assert response.status_code == 403
    assert other.post("/images/x/delete", data={"csrf_token": token}).status_code == 404
    assert "Not in any post" not in other.get("/images").get_data(as_text=True)
    assert pictures(app) == [key]


@pytest.mark.parametrize("key", ["x", "a" * 21, "a" * 23, "%00" * 22, "../" * 8])
def test_made_up_keys_are_404(client, key):
    assert client.get(f"/media/{key}.webp").status_code == 404


def test_pictures_go_with_an_account_deleted_with_its_posts(app, author):
    upload(author, png())
    token = csrf_token_from(author, "/auth/account")
    author.post(
        "/auth/account/delete",
        data={"csrf_token": token, "delete-password": "test", "delete-posts": "delete"},
    )
    assert pictures(app) == []
