"""Pictures sent with a form, and pictures sent back: the parts every
upload form and every picture address share."""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import request
from werkzeug import Response
from werkzeug.datastructures import FileStorage
from wtforms import Field

from flaskr.plumbing.protection import picture_too_large
from flaskr.plumbing.protection import sent_size
from flaskr.services.base.images import ImageError

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
        return process_within_limits(upload, process)
    except ImageError as error:
        field.errors = [*field.errors, str(error)]
        return None


def process_within_limits(
    upload: FileStorage, process: t.Callable[..., Processed]
) -> Processed:
    """``process`` the sent picture within the configured limits.

    :raise ImageError: over the size limit (with the size sent), or as
        ``process`` raises.
    """
    limit = int(current_app.config["IMAGE_MAX_BYTES"])
    size = sent_size(upload.stream)
    if size is not None and size > limit:
        raise ImageError(picture_too_large(size, limit))
    return process(
        upload.stream,
        max_bytes=limit,
        max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
    )


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
