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

from flaskr.blueprints.blog.forms import CommentForm
from flaskr.blueprints.blog.post_page import render_post_page
from flaskr.blueprints.blog.views import bp
from flaskr.models import Post
from flaskr.models.governance import HELD
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.throttle import limiter
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.content.access import get_readable_post
from flaskr.services.social.reactions import add_comment
from flaskr.services.social.reactions import delete_comment
from flaskr.services.social.reactions import edit_comment
from flaskr.services.social.reactions import get_comment
from flaskr.services.social.reactions import likes_of
from flaskr.services.social.reactions import may_delete
from flaskr.services.social.reactions import set_like
from flaskr.web.lookups import get_author
from flaskr.web.lookups import POST_ID
from flaskr.web.page_links import page_position
from flaskr.web.page_links import per_page
from flaskr.web.post_links import post_url
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import render_form
from flaskr.web.site_links import post_site_link
from flaskr.web.users import login_required


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
    return redirect(post_url(post, _anchor="likes"))


@bp.route(f"/<{POST_ID}:id>/comments", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"])
def comment(id: int) -> Response | tuple[str, int]:
    """Add a comment to a post."""
    post = public_post(id)
    form = CommentForm()
    if form.validate_on_submit():
        link = post_site_link(post, _anchor="comments")
        try:
            added = add_comment(post, g.user, form.body.data, post_link=link)
        except Invalid as error:
            form.body.errors = [str(error)]
        except NotAllowed as refusal:
            form.body.errors = [str(refusal)]
            return render_post_page(post, form), 403
        else:
            if added.state == HELD:
                flash(
                    "Your comment waits for a moderator: others will see it"
                    " once it is approved."
                )
            else:
                flash("Your comment is posted.")
            return redirect(post_url(post, _anchor=f"comment-{added.id}"))
    return render_post_page(post, form), INVALID_FORM


@bp.route("/comments/<id:comment_id>/edit", methods=("GET", "POST"))
@login_required
def edit_comment_view(comment_id: int) -> Response | tuple[str, int]:
    """Change a comment's text: only its author may; it shows as edited."""
    found = get_comment(comment_id)
    post = get_readable_post(found.post_id, g.user) if found else None
    if found is None or post is None:
        abort(404, description="That comment doesn't exist.")
    if found.author_id != g.user.id:
        abort(403)
    form = CommentForm(obj=found)
    if form.validate_on_submit():
        try:
            edit_comment(found, form.body.data)
        except Invalid as error:
            form.body.errors = [str(error)]
        else:
            flash("Your comment is changed.")
            return redirect(post_url(post, _anchor=f"comment-{found.id}"))
    return render_form("blog/edit_comment.html", form, comment=found, post=post)


@bp.route("/comments/<id:comment_id>/delete", methods=["POST"])
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
    return redirect(post_url(post, _anchor="comments"))


@bp.route("/u/<username>/likes")
@kept_per_visitor
def likes(username: str) -> str | Response:
    """The posts a user liked, most recently liked first."""
    author = get_author(username)
    if author.username != username:
        return redirect(url_for("blog.likes", username=author.username), 301)
    page = likes_of(author, per_page(), before=page_position()["before"])
    return render_template("blog/likes.html", author=author, page=page)
