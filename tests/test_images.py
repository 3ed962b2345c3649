"""Images on posts: uploads checked, cleaned, re-encoded and served."""

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import Image
from tests.conftest import csrf_token_from
from tests.helpers import count_posts
from tests.helpers import jpeg_with_gps
from tests.helpers import png
from tests.helpers import upload


def image_rows(app):
    with app.app_context():
        return db.session.scalars(sa.select(Image)).all()


@pytest.fixture
def writer(client, auth):
    auth.login()
    return client


def image_urls(page):
    return re.findall(
        r'<img src="(/images/\d+(?:/thumbnail)?\.webp)" alt="([^"]*)"', page
    )


def test_upload_is_cleaned_and_served(app, writer):
    response = upload(writer, data=jpeg_with_gps())
    assert response.status_code == 302
    page = writer.get("/2", follow_redirects=True).get_data(as_text=True)
    [(url, alt)] = image_urls(page)
    assert alt == "A red square"
    assert 'width="64" height="32"' in page

    served = app.test_client().get(url)
    assert served.status_code == 200
    assert served.mimetype == "image/webp"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    picture = Pillow.open(io.BytesIO(served.data))
    assert picture.format == "WEBP"
    assert picture.size == (64, 32)
    assert dict(picture.getexif()) == {}
    assert "exif" not in picture.info and "xmp" not in picture.info
    for marker in (b"Exif", b"GPS", b"Camera maker"):
        assert marker not in served.data

    # Lists show the thumbnail; the front page shows its newest post large.
    thumbnails = image_urls(app.test_client().get("/u/test").get_data(as_text=True))
    assert thumbnails[0][0].endswith("/thumbnail.webp")
    [(feature, _)] = image_urls(app.test_client().get("/").get_data(as_text=True))
    assert feature == url


def test_orientation_is_applied_before_the_metadata_goes(app, writer):
    upload(writer, data=jpeg_with_gps(size=(64, 32), orientation=6))  # rotate 90°
    [(url, _)] = image_urls(
        writer.get("/2", follow_redirects=True).get_data(as_text=True)
    )
    assert Pillow.open(io.BytesIO(writer.get(url).data)).size == (32, 64)


def test_large_images_are_scaled(app, writer):
    upload(writer, data=png(size=(3200, 800), mode="RGB"), filename="wide.png")
    [(url, _)] = image_urls(
        writer.get("/2", follow_redirects=True).get_data(as_text=True)
    )
    assert Pillow.open(io.BytesIO(writer.get(url).data)).size == (1600, 400)
    thumbnail = writer.get(url.replace(".webp", "/thumbnail.webp"))
    assert Pillow.open(io.BytesIO(thumbnail.data)).size == (480, 120)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (png(mode="RGBA"), "clear.png"),
        (png(mode="P"), "palette.png"),
        (png(mode="LA"), "grey.png"),
    ],
)
def test_other_formats_and_modes(app, writer, data, filename):
    assert upload(writer, data=data, filename=filename).status_code == 302
    assert len(image_rows(app)) == 1


def test_gif_and_webp(app, writer):
    for image_format in ("GIF", "WEBP"):
        buffer = io.BytesIO()
        Pillow.new("RGB", (10, 10)).save(buffer, image_format)
        assert upload(writer, data=buffer.getvalue(), filename="x").status_code == 302
    assert len(image_rows(app)) == 2


def bomb():
    """A PNG of a few kilobytes that would decode to 100 million pixels."""
    buffer = io.BytesIO()
    Pillow.new("1", (10_000, 10_000)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (
            b"just some text, not a picture",
            "notes.png",
            b"is not a JPEG, PNG, WebP or GIF",
        ),
        (b"", "empty.jpg", b"The file is empty."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "vector.svg", b"is not a JPEG"),
        (jpeg_with_gps()[:200], "cut.jpg", b"is not a JPEG"),
        (b"BM" + b"\x00" * 100, "bitmap.bmp", b"is not a JPEG"),
    ],
)
def test_not_an_image_is_refused_and_nothing_is_saved(
    app, writer, data, filename, message
):
    response = upload(writer, data=data, filename=filename)
    assert response.status_code == 422
    assert message in response.data
    assert count_posts(app) == 1
    assert image_rows(app) == []


def test_decompression_bomb_is_refused(app, writer):
    data = bomb()
    assert len(data) < 100_000
    response = upload(writer, data=data, filename="bomb.png")
    assert response.status_code == 422
    assert b"pixels allowed" in response.data
    assert count_posts(app) == 1
    assert image_rows(app) == []


def test_image_over_the_size_limit(app_with):
    app = app_with(IMAGE_MAX_BYTES=10_000, OVERSIZED_PICTURE_READ_BYTES=2_000_000)
    client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(client).login()
    noise = Pillow.effect_noise((200, 200), 100).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    big = buffer.getvalue()
    assert len(big) > 10_000
    response = upload(client, data=big, filename="big.png")
    assert response.status_code == 422
    size = f"{-(-len(big) // 100_000) / 10:g}"
    assert f"This picture is {size} MB; the limit is 0.1 MB.".encode() in response.data
    assert image_rows(app) == []

    # Larger than any request may be, but read: the form comes back.
    huge = b"\x00" * (1024 * 1024 + 20_000)
    response = upload(client, data=huge, filename="huge.png")
    assert response.status_code == 422
    assert b"This picture is 1.1 MB; the limit is 0.1 MB." in response.data
    assert image_rows(app) == []

    # Too large even to read: refused before, saying why.
    enormous = b"\x00" * 3_100_000
    response = upload(client, data=enormous, filename="enormous.png")
    assert response.status_code == 413
    assert b"What you sent is 3.2 MB: too large to read" in response.data
    assert image_rows(app) == []


def test_five_megabyte_uploads_fit(app, writer):
    """The upload forms accept more than the 1 MiB other requests may carry."""
    noise = Pillow.effect_noise((1100, 1100), 100).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    data = buffer.getvalue()
    assert 1024 * 1024 < len(data) < 5_000_000
    assert upload(writer, data=data, filename="noise.png").status_code == 302


@pytest.mark.parametrize("alt", ["", "   "])
def test_alt_text_is_required(app, writer, alt):
    response = upload(writer, data=jpeg_with_gps(), image_alt=alt)
    assert response.status_code == 422
    assert b"Describe the picture for people who cannot see it" in response.data
    assert count_posts(app) == 1
    assert image_rows(app) == []


def test_the_saves_refusal_shows_on_the_description_field(app, writer):
    """The form has no rule of its own for the description: the use case
    refuses it (the library's rule), and the page says so by the field."""
    response = upload(writer, data=jpeg_with_gps(), image_alt="A bell\x07")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        '<p class="error" id="image_alt-error">'
        "A description must not contain control characters.</p>"
    ) in page
    assert count_posts(app) == 1
    assert image_rows(app) == []


def test_replace_and_remove(app, writer):
    upload(writer, data=jpeg_with_gps())
    [first] = image_rows(app)
    response = upload(
        writer, "/2/update", data=png(), filename="new.png", image_alt="New"
    )
    assert response.status_code == 302
    [second] = image_rows(app)
    assert second.id != first.id and second.alt == "New"
    assert writer.get(f"/images/{first.id}.webp").status_code == 404

    upload(writer, "/2/update", data=None, image_alt="Better words")
    [kept] = image_rows(app)
    assert kept.id == second.id and kept.alt == "Better words"

    upload(writer, "/2/update", data=None, image_alt="", remove_image="y")
    assert image_rows(app) == []


def test_keeping_an_image_still_needs_alt_text(app, writer):
    upload(writer, data=jpeg_with_gps())
    response = upload(writer, "/2/update", data=None, image_alt="")
    assert response.status_code == 422
    assert image_rows(app)[0].alt == "A red square"


def test_draft_image_is_private(app, writer):
    upload(writer, data=jpeg_with_gps(), action="draft")
    [picture] = image_rows(app)
    url = f"/images/{picture.id}.webp"
    own = writer.get(url)
    assert own.status_code == 200
    assert own.headers["Cache-Control"].startswith("private")
    assert app.test_client().get(url).status_code == 404


def test_unknown_image_is_404(client):
    assert client.get("/images/999.webp").status_code == 404
    assert client.get("/images/999/thumbnail.webp").status_code == 404


def test_deleting_a_post_for_good_removes_its_image(app, writer):
    upload(writer, data=jpeg_with_gps())
    [picture] = image_rows(app)
    writer.post("/2/delete", data={"csrf_token": csrf_token_from(writer, "/2/delete")})
    assert app.test_client().get(f"/images/{picture.id}.webp").status_code == 404
    assert len(image_rows(app)) == 1  # in the trash, still restorable
    token = csrf_token_from(writer, "/trash")
    writer.post("/2/delete-forever", data={"csrf_token": token})
    assert image_rows(app) == []


def test_serving_an_image_does_not_load_its_post(app, writer):
    """Every thumbnail on a page is a request: it reads the image and the post's
    visibility, not the post with its author, tags and image."""
    from tests.conftest import statements_for_page

    upload(writer, data=jpeg_with_gps())
    [picture] = image_rows(app)
    reader = app.test_client()
    statements = statements_for_page(
        app, reader, f"/images/{picture.id}/thumbnail.webp"
    )
    assert len(statements) == 2, [sql for sql, _ in statements]
