"""Serving the images of posts."""

from __future__ import annotations

from flask import abort
from flask import g
from flask import request
from werkzeug import Response

from ..images import image_bytes
from ..posts import get_readable_post
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
    post = get_readable_post(picture.post_id, g.user)
    if post is None:
        abort(404)
    response = Response(data, mimetype="image/webp")
    scope = "public" if post.is_public else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={ONE_YEAR}, immutable"
    response.add_etag()
    return response.make_conditional(request)
