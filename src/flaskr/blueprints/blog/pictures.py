"""Serving the images of posts, and profiles' pictures."""

from __future__ import annotations

from flask import abort
from flask import g
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.services.accounts.profiles import avatar_bytes
from flaskr.services.base.images import image_bytes
from flaskr.services.content.access import Access
from flaskr.services.content.access import access_to_post
from flaskr.services.content.held_images import held_image_bytes
from flaskr.web.uploads import unchanging_picture
from flaskr.web.users import login_required


@bp.route("/images/<id:image_id>.webp", defaults={"size": "display"})
@bp.route("/images/<id:image_id>/thumbnail.webp", defaults={"size": "thumbnail"})
def image(image_id: int, size: str) -> Response:
    """An image, to whoever may read its post. A new image gets a new id, so
    an image never changes and browsers may keep it."""
    found = image_bytes(image_id, size)
    if found is None:
        abort(404)
    picture, data = found
    access = access_to_post(picture.post_id, g.user)
    if access is Access.NOBODY:
        abort(404)
    return unchanging_picture(data, public=access is Access.EVERYONE)


@bp.route("/images/held/<id:held_id>.webp", defaults={"size": "display"})
@bp.route("/images/held/<id:held_id>/thumbnail.webp", defaults={"size": "thumbnail"})
@login_required
def held_image(held_id: int, size: str) -> Response:
    """An image held for the logged-in writer while they write, to them alone."""
    data = held_image_bytes(g.user.id, held_id, size)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/webp")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/avatars/<id:avatar_id>.webp", defaults={"size": "large"})
@bp.route("/avatars/<id:avatar_id>/small.webp", defaults={"size": "small"})
def avatar(avatar_id: int, size: str) -> Response:
    """A profile's picture, public like the bylines that show it. A new
    picture gets a new id, so browsers may keep one for good."""
    data = avatar_bytes(avatar_id, size)
    if data is None:
        abort(404)
    return unchanging_picture(data)
