"""Likes and comments on posts, and the list of what a user liked."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from ..auth import login_required
from ..forms import INVALID_FORM
from ..models import Post
from ..page_cache import shared
from ..posts import get_readable_post
from ..reactions import add_comment
from ..reactions import delete_comment
from ..reactions import get_comment
from ..reactions import likes_of
from ..reactions import may_delete
from ..reactions import set_like
from ..throttle import limiter
from .browse import get_author
from .forms import CommentForm
from .views import bp
from .views import page_position
from .views import per_page
from .views import POST_ID
from .views import render_post_page


def public_post(post_id: int) -> Post:
    """:raise 404: no published post outside the trash has this id."""
    post = get_readable_post(post_id, None)
    if post is None:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    return post


@bp.route(f"/<{POST_ID}:id>/like", methods=["POST"])
@login_required
def like(id: int) -> Response:
    """Like (``liked=yes``) or stop liking (``liked=no``) a post."""
    post = public_post(id)
    set_like(g.user, post, liked=request.form.get("liked") != "no")
    return redirect(url_for("blog.post", id=post.id, _anchor="likes"))


@bp.route(f"/<{POST_ID}:id>/comments", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"])
def comment(id: int) -> Response | tuple[str, int]:
    """Add a comment to a post."""
    post = public_post(id)
    form = CommentForm()
    if form.validate_on_submit():
        added = add_comment(post, g.user, form.body.data)
        flash("Your comment is posted.")
        return redirect(url_for("blog.post", id=post.id, _anchor=f"comment-{added.id}"))
    return render_post_page(post, form), INVALID_FORM


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def uncomment(comment_id: int) -> Response:
    """Delete a comment: its author and the post's author may."""
    found = get_comment(comment_id)
    if found is None:
        abort(404, description="That comment doesn't exist.")
    post = get_readable_post(found.post_id, g.user)
    if post is None:
        abort(404, description="That comment doesn't exist.")
    if not may_delete(g.user, found, post):
        abort(403)
    delete_comment(found)
    flash("The comment is deleted.")
    return redirect(url_for("blog.post", id=post.id, _anchor="comments"))


@bp.route("/u/<username>/likes")
@shared
def likes(username: str) -> str | Response:
    """The posts a user liked, most recently liked first."""
    author = get_author(username)
    if author.username != username:
        return redirect(url_for("blog.likes", username=author.username), 301)
    page = likes_of(author, per_page(), before=page_position()["before"])
    return render_template("blog/likes.html", author=author, page=page)
