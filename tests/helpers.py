"""Builders the tests share: pictures, posts, logged-in clients, uploads.

Fixtures stay in ``conftest.py``; what a test calls directly lives here, so no
test module imports another (``test_layers`` checks it).
"""

import io

from PIL import Image as Pillow
from werkzeug.test import EnvironBuilder

from tests.conftest import csrf_token_from

#: EXIF's GPS directory and orientation tags.
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(64, 32), orientation=None):
    """A JPEG carrying EXIF with a GPS position (and optionally an orientation)."""
    picture = Pillow.new("RGB", size, (200, 30, 30))
    exif = Pillow.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}
    )
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png(size=(40, 40), mode="RGBA"):
    """A blank PNG of ``size``."""
    buffer = io.BytesIO()
    Pillow.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, path="/create", data=b"", filename="photo.jpg", **fields):
    """Submit the post form at ``path`` with ``data`` as its picture (none if
    ``data`` is ``None``)."""
    form = {
        "title": "With a picture",
        "body": "",
        "tags": "",
        "image_alt": "A red square",
        **fields,
        "csrf_token": csrf_token_from(client, path),
    }
    if data is not None:
        form["image_file"] = (io.BytesIO(data), filename)
    return post_files(client, path, form)


def post_files(client, path, form):
    """POST a form with files. Werkzeug spools a large request body to a
    temporary file that nothing closes; the request is built here so that
    it can be closed."""
    builder = EnvironBuilder(path=path, method="POST", data=form)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
