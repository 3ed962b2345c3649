"""A writer's picture library: upload (from the editor or the library page),
list, delete unused ones; and serving the pictures."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.forms import MediaForm
from flaskr.blueprints.blog.views import bp
from flaskr.services.base.errors import Invalid
from flaskr.services.base.images import process_upload
from flaskr.services.content.editorial import check_may_write
from flaskr.services.content.media import add_picture
from flaskr.services.content.media import delete_picture
from flaskr.services.content.media import find_picture
from flaskr.services.content.media import library_of
from flaskr.services.content.media import markdown_for
from flaskr.services.content.media import MediaInUse
from flaskr.services.content.media import picture_bytes
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.uploads import processed_picture
from flaskr.web.uploads import unchanging_picture
from flaskr.web.users import login_required


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _library_page(form: MediaForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "blog/library.html",
        form=form,
        entries=library_of(g.user),
        markdown_for=markdown_for,
        delete_form=ButtonForm(prefix="delete", formdata=None),
    )
    return page, status


@bp.route("/images", methods=("GET", "POST"), endpoint="library")
@login_required
def library() -> Response | tuple[str, int] | tuple[Response, int]:
    """Your pictures, and a form to add one; the editor posts here too (and
    gets JSON: the Markdown to insert)."""
    check_may_write(g.user)
    form = MediaForm()
    if not form.is_submitted():
        return _library_page(form)
    picture = None
    if form.validate() and (
        processed := processed_picture(form.picture, process_upload)
    ):
        try:
            picture = add_picture(g.user, processed, form.alt.data)
        except Invalid as error:
            form.alt.errors = [str(error)]
    if picture is not None:
        if _wants_json():
            return jsonify(
                markdown=markdown_for(picture),
                url=url_for("blog.media", key=picture.key, size="display"),
            ), 201
        flash(f"Added: {markdown_for(picture)}")
        return redirect(url_for("blog.library"))
    if _wants_json():
        errors = [str(e) for field in form for e in field.errors]
        return jsonify(error=" ".join(errors) or "Not added."), INVALID_FORM
    return _library_page(form, INVALID_FORM)


@bp.route("/images/<key>/delete", methods=["POST"])
@login_required
def delete_media(key: str) -> Response:
    """Delete a picture of yours that no post shows."""
    picture = find_picture(key)
    if picture is None:
        abort(404)
    try:
        delete_picture(g.user, picture)
    except MediaInUse:
        flash("That picture is in a post's text: take it out first.")
    else:
        flash("The picture is deleted.")
    return redirect(url_for("blog.library"))


@bp.route("/media/<key>.webp", defaults={"size": "display"})
@bp.route("/media/<key>/small.webp", defaults={"size": "small"})
def media(key: str, size: str) -> Response:
    """A library picture, under its random key: it never changes."""
    data = picture_bytes(key, size)
    if data is None:
        abort(404)
    return unchanging_picture(data)
