"""An image chosen in a post form is kept for its writer across previews,
forms sent back with errors and refused saves, until the post is saved."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import HeldImage
from flaskr.models import Image
from flaskr.models import Post
from flaskr.services.base import images
from flaskr.services.content import held_images
from tests.helpers import png
from tests.helpers import upload

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
HELD = re.compile(r'name="held_image" type="hidden" value="(\d*)"')


def held_id_in(page):
    [value] = HELD.findall(page)
    return value


def held_rows(app):
    with app.app_context():
        return db.session.scalars(sa.select(HeldImage).order_by(HeldImage.id)).all()


def send_form(client, path="/create", **fields):
    """The post form sent without a file, as a browser sends it again."""
    return upload(client, path, data=None, **fields)


@pytest.fixture
def writer(client, auth):
    auth.login()
    return client


def test_a_preview_keeps_the_image_and_shows_it(app, writer, monkeypatch):
    processed = []
    real = images.process_upload

    def counting(*args, **kwargs):
        processed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("flaskr.blueprints.blog.views.process_upload", counting)
    response = upload(writer, data=png((300, 200)), filename="a.png", action="preview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    held_id = held_id_in(page)
    assert held_id
    # Shown in the form and in the preview, to its writer.
    assert f'src="/images/held/{held_id}/thumbnail.webp"' in page
    preview = page[page.index('id="preview-heading"') :]
    assert f'src="/images/held/{held_id}.webp"' in preview
    assert 'width="300" height="200"' in preview
    shown = writer.get(f"/images/held/{held_id}.webp")
    assert shown.mimetype == "image/webp"
    assert shown.headers["Cache-Control"] == "private, no-store"

    # Published from the form as the browser sends it again: no file in it.
    response = send_form(writer, held_image=held_id, action="publish")
    assert response.status_code == 302
    assert processed == [1], "the upload is processed once"
    with app.app_context():
        [image] = db.session.scalars(sa.select(Image)).all()
        assert (image.width, image.height, image.alt) == (300, 200, "A red square")
        assert image.display == shown.data
    assert held_rows(app) == [], "saving the post ends the hold"
    assert writer.get(f"/images/held/{held_id}.webp").status_code == 404


def test_a_missing_alt_text_keeps_the_image(app, writer):
    response = upload(writer, data=png(), filename="a.png", image_alt="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Describe the picture" in page
    held_id = held_id_in(page)
    assert held_id and "The image you chose" in page

    response = send_form(writer, held_image=held_id, image_alt="Now described")
    assert response.status_code == 302
    assert [i.alt for i in image_list(app)] == ["Now described"]


def image_list(app):
    with app.app_context():
        return db.session.scalars(sa.select(Image)).all()


def test_an_error_elsewhere_keeps_the_image(app, writer):
    page = upload(writer, data=png(), filename="a.png", title="").get_data(as_text=True)
    assert "Title is required." in page
    response = send_form(writer, held_image=held_id_in(page))
    assert response.status_code == 302
    assert len(image_list(app)) == 1


def test_setting_the_image_aside_says_so(app, writer):
    page = upload(writer, data=png(), filename="a.png", action="preview").get_data(
        as_text=True
    )
    held_id = held_id_in(page)
    page = send_form(
        writer, held_image=held_id, drop_held_image="y", action="preview"
    ).get_data(as_text=True)
    assert "was set aside" in page
    assert held_id_in(page) == ""
    assert held_rows(app) == []
    assert send_form(writer, action="publish").status_code == 302
    assert image_list(app) == []


def test_an_expired_or_foreign_image_is_never_saved_silently(app, client, auth):
    auth.login("other", "other")
    page = upload(client, data=png(), filename="a.png", action="preview").get_data(
        as_text=True
    )
    others = held_id_in(page)
    auth.logout()
    auth.login()
    # Someone else's held image: not shown, not usable.
    assert client.get(f"/images/held/{others}.webp").status_code == 404
    response = send_form(client, held_image=others)
    assert response.status_code == 422
    assert "no longer kept" in response.get_data(as_text=True)
    assert post_titles(app) == ["test title"]

    page = upload(client, data=png(), filename="a.png", action="preview").get_data(
        as_text=True
    )
    mine = held_id_in(page)
    with app.app_context():
        db.session.execute(sa.update(HeldImage).values(created=LONG_AGO))
        db.session.commit()
    response = send_form(client, held_image=mine)
    assert response.status_code == 422
    assert "kept for 24 hours" in response.get_data(as_text=True)
    assert client.get(f"/images/held/{mine}.webp").status_code == 404
    assert post_titles(app) == ["test title"]


def post_titles(app):
    with app.app_context():
        return db.session.scalars(sa.select(Post.title).order_by(Post.id)).all()


def test_held_images_are_for_logged_in_writers(client):
    response = client.get("/images/held/1.webp")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("value", ["abc", "0", "-1", "9" * 40])
def test_a_held_image_reference_flaskr_did_not_write_is_400(writer, value):
    assert send_form(writer, held_image=value).status_code == 400


def test_a_refused_save_keeps_the_new_image(app, writer):
    old_tab = writer.get("/1/update").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', old_tab)[1]
    assert send_form(writer, "/1/update", title="From the other tab", version=version)
    response = upload(
        writer,
        "/1/update",
        data=png(),
        filename="a.png",
        title="From the old tab",
        version=version,
        action="save",
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    held_id = held_id_in(page)
    assert held_id and "From the old tab" in page
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    response = send_form(
        writer,
        "/1/update",
        title="From the old tab",
        held_image=held_id,
        version=new_version,
        action="save",
    )
    assert response.status_code == 302
    assert len(image_list(app)) == 1


def test_a_writer_holds_a_bounded_number_of_images(app, writer):
    extra = 2
    for _ in range(held_images.MAX_HELD_PER_WRITER + extra):
        upload(writer, data=png(), filename="a.png", action="preview")
    rows = held_rows(app)
    assert len(rows) == held_images.MAX_HELD_PER_WRITER
    assert rows[0].id == extra + 1, "the oldest went first"


def test_expired_images_go_when_another_is_held(app, client, auth):
    auth.login("other", "other")
    upload(client, data=png(), filename="a.png", action="preview")
    with app.app_context():
        db.session.execute(sa.update(HeldImage).values(created=LONG_AGO))
        db.session.commit()
    auth.logout()
    auth.login()
    upload(client, data=png(), filename="a.png", action="preview")
    assert [row.user_id for row in held_rows(app)] == [1]


@pytest.mark.parametrize("posts", ["keep", "delete"])
def test_deleting_the_account_deletes_its_held_images(app, writer, posts):
    from tests.helpers import delete_account

    upload(writer, data=png(), filename="a.png", action="preview")
    assert len(held_rows(app)) == 1
    assert delete_account(writer, "test", posts).status_code == 302
    assert held_rows(app) == []
