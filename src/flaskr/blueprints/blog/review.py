"""Editors' review: contributors' drafts submitted for review, published
or returned from one page (``/review``)."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.forms import ReturnForm
from flaskr.blueprints.blog.views import bp
from flaskr.models import Post
from flaskr.services.base import roles
from flaskr.services.base.errors import NotAllowed
from flaskr.services.content.access import get_post
from flaskr.services.content.editorial import publish_submission
from flaskr.services.content.editorial import return_submission
from flaskr.services.content.editorial import submissions
from flaskr.web.lookups import POST_ID
from flaskr.web.post_links import post_url
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.users import login_required


def _check_moderator() -> None:
    if not roles.may_moderate(g.user):
        raise NotAllowed("Only editors and administrators review submissions.")


def _submitted(post_id: int) -> Post:
    """:raise 404: no such post, or it is in the trash."""
    post = get_post(post_id)
    if post is None or post.deleted is not None:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    return post


@bp.route("/review")
@login_required
def review() -> str:
    """Drafts submitted for review, the longest waiting first (editors)."""
    _check_moderator()
    return render_template(
        "blog/review.html",
        posts=submissions(),
        form=ButtonForm(formdata=None),
        return_form=ReturnForm(prefix="return", formdata=None),
    )


@bp.route(f"/review/<{POST_ID}:id>/publish", methods=["POST"])
@login_required
def publish_submitted(id: int) -> Response:
    """Publish a submitted draft now."""
    _check_moderator()
    post = _submitted(id)
    if not ButtonForm().validate():
        abort(400, description="That form is not one Flaskr made.")
    publish_submission(g.user, post)
    flash(f"Published “{post.title}”.")
    return redirect(post_url(post))


@bp.route(f"/review/<{POST_ID}:id>/return", methods=["POST"])
@login_required
def return_submitted(id: int) -> Response:
    """Send a submitted draft back to its writer, with a note."""
    _check_moderator()
    post = _submitted(id)
    form = ReturnForm(prefix="return")
    if not form.validate():
        problems = [str(error) for field in form for error in field.errors]
        abort(400, description=" ".join(problems) or "That form is not valid.")
    return_submission(g.user, post, form.note.data)
    flash(f"Returned “{post.title}” to its writer.")
    return redirect(url_for("blog.review"))
