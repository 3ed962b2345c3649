"""Pictures sent with a form, and pictures sent back: the parts every
upload form and every picture address share."""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import request
from werkzeug import Response
from wtforms import Field

from flaskr.services.images import ImageError

ONE_YEAR = 365 * 24 * 3600

Processed = t.TypeVar("Processed")


def processed_picture(
    field: Field, process: t.Callable[..., Processed]
) -> Processed | None:
    """The picture sent in ``field``, checked and re-encoded by ``process``
    within the configured limits; ``None`` after putting on the field why not
    (none chosen, or not a picture that can be used)."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        field.errors = [*field.errors, "Choose a picture to upload."]
        return None
    try:
        return process(
            upload.stream,
            max_bytes=current_app.config["IMAGE_MAX_BYTES"],
            max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
        )
    except ImageError as error:
        field.errors = [*field.errors, str(error)]
        return None


def unchanging_picture(
    data: bytes, *, public: bool = True, mimetype: str = "image/webp"
) -> Response:
    """A picture whose address never shows another one, so browsers (and, if
    ``public``, shared caches) may keep it for good."""
    response = Response(data, mimetype=mimetype)
    scope = "public" if public else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={ONE_YEAR}, immutable"
    response.add_etag()
    return response.make_conditional(request)
