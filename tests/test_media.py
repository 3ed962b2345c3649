"""A writer's picture library, and pictures placed in posts' text."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import MediaImage
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import jpeg_with_gps
from tests.helpers import png
from tests.helpers import post_files
from tests.helpers import write_in_editor

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
    write_in_editor(author, title="With a picture", body=f"Look:\n\n{markdown}")
    page = app.test_client().get("/p/with-a-picture").get_data(as_text=True)
    assert f'<img src="/media/{key}.webp" alt="A red square"' in page
    assert f'srcset="/media/{key}/small.webp 480w, /media/{key}.webp 1600w"' in page
    assert 'loading="lazy"' in page


@pytest.mark.parametrize("path", ["/feed.atom", "/feed.rss", "/feed.json"])
def test_a_picture_in_a_feed_has_only_absolute_addresses(app, author, path):
    markdown = upload(author, png()).get_json()["markdown"]
    key = MARKDOWN.fullmatch(markdown)[2]
    write_in_editor(author, title="With a picture", body=f"Look:\n\n{markdown}")
    feed = app.test_client().get(path).get_data(as_text=True)
    if path.endswith(".json"):
        content = json.loads(feed)["items"][0]["content_html"]
    else:
        content = html.unescape(feed)
    origin = "http://localhost"
    assert f'src="{origin}/media/{key}.webp"' in content
    assert (
        f'srcset="{origin}/media/{key}/small.webp 480w,'
        f' {origin}/media/{key}.webp 1600w"'
    ) in content
    assert '="/' not in content and ", /" not in content


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
    write_in_editor(author, title="Uses one", body=used)
    page = author.get("/images").get_data(as_text=True)
    assert "In 1 post" in page and "Not in any post" in page
    used_key, unused_key = MARKDOWN.fullmatch(used)[2], MARKDOWN.fullmatch(unused)[2]
    token = csrf_token_from(author, "/images")
    author.post(f"/images/{used_key}/delete", data={"delete-csrf_token": token})
    assert used_key in pictures(app)
    author.post(f"/images/{unused_key}/delete", data={"delete-csrf_token": token})
    assert pictures(app) == [used_key]


def test_each_picture_offers_its_markdown_to_copy_and_a_delete_that_asks(app, author):
    used = upload(author, png(), alt="In a post").get_json()["markdown"]
    spare = upload(author, png(), alt="Spare").get_json()["markdown"]
    write_in_editor(author, title="Uses one", body=used)
    page = BeautifulSoup(author.get("/images").data, "html.parser")
    items = {
        item.select_one(".library-alt").get_text(): item
        for item in page.select("li.library-item")
    }
    assert set(items) == {"In a post", "Spare"}
    for markdown, item in ((used, items["In a post"]), (spare, items["Spare"])):
        field = item.find("input", readonly=True)
        assert field["value"] == markdown, "visible and selectable without a script"
        assert item.find("label", attrs={"for": field["id"]}).get_text() == "Markdown"
        button = item.find("button", attrs={"data-copy": field["id"]})
        assert button.has_attr("hidden"), "shown by copy.js, which can copy"
    assert page.find("script", src="/static/copy.js")
    # Deleting asks first: the button is inside a closed disclosure.
    delete = items["Spare"].find("details", class_="library-delete")
    assert not delete.has_attr("open")
    form = delete.find("form")
    assert form["method"] == "post"
    assert form["action"] == f"/images/{MARKDOWN.fullmatch(spare)[2]}/delete"
    assert form.find("input", attrs={"name": "delete-csrf_token"})
    assert items["In a post"].find("details") is None
    assert "take it out of its post first" in items["In a post"].get_text()
    # The form's own token deletes; none, or another's, does not.
    key = MARKDOWN.fullmatch(spare)[2]
    assert author.post(f"/images/{key}/delete").status_code == 400
    assert key in pictures(app)
    token = form.find("input", attrs={"name": "delete-csrf_token"})["value"]
    response = author.post(f"/images/{key}/delete", data={"delete-csrf_token": token})
    assert response.headers["Location"] == "/images"
    assert key not in pictures(app)
    assert "The picture is deleted." in author.get("/images").get_data(as_text=True)


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
