"""Serving the images of posts."""

from __future__ import annotations

from flask import abort
from flask import g
from flask import request
from werkzeug import Response

from ..images import image_bytes
from ..posts import readable_post_is_public
from .views import bp

ONE_YEAR = 365 * 24 * 3600


@bp.route("/images/<int:image_id>.webp", defaults={"size": "display"})
@bp.route("/images/<int:image_id>/thumbnail.webp", defaults={"size": "thumbnail"})
def image(image_id: int, size: str) -> Response:
    """An image, to whoever may read its post. A new image gets a new id, so
    an image never changes and browsers may keep it."""
    found = image_bytes(image_id, size)
    if found is None:
        abort(404)
    picture, data = found
    public = readable_post_is_public(picture.post_id, g.user)
    if public is None:
        abort(404)
    response = Response(data, mimetype="image/webp")
    scope = "public" if public else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={ONE_YEAR}, immutable"
    response.add_etag()
    return response.make_conditional(request)
