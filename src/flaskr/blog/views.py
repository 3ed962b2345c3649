"""Views of the blog blueprint: the index, and writing, editing, deleting posts."""

from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from ..auth import login_required
from ..db import MAX_ID
from ..forms import ButtonForm
from ..forms import render_form
from ..models import Post
from ..posts import create_post
from ..posts import Cursor
from ..posts import delete_post
from ..posts import get_post
from ..posts import InvalidCursorError
from ..posts import page_of_posts
from ..posts import update_post
from .forms import PostForm

bp = Blueprint("blog", __name__)

#: URL converter for a post id: numbers past the database's range are a 404.
POST_ID = f"int(max={MAX_ID})"


def _cursor_arg(name: str) -> Cursor | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return Cursor.parse(text)
    except InvalidCursorError:
        abort(400, description="That page link is not valid.")


@bp.route("/")
def index() -> str:
    """Show the posts, newest first, a page at a time."""
    page = page_of_posts(
        current_app.config["POSTS_PER_PAGE"],
        before=_cursor_arg("before"),
        after=_cursor_arg("after"),
    )
    return render_template("blog/index.html", page=page)


def get_own_post(post_id: int) -> Post:
    """The post with this id, if the logged-in user wrote it.

    :raise 404: no such post.
    :raise 403: someone else wrote it.
    """
    post = get_post(post_id)
    if post is None:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    if post.author_id != g.user.id:
        abort(403)
    return post


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> Response | tuple[str, int]:
    """Write a new post."""
    form = PostForm()
    if form.validate_on_submit():
        create_post(g.user, form.title.data, form.body.data)
        flash("Your post is published.")
        return redirect(url_for("blog.index"))
    return render_form("blog/create.html", form)


@bp.route(f"/<{POST_ID}:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> Response | tuple[str, int]:
    """Edit a post the logged-in user wrote."""
    post = get_own_post(id)
    form = PostForm(obj=post)
    if form.validate_on_submit():
        update_post(post, form.title.data, form.body.data)
        flash("Your changes are saved.")
        return redirect(url_for("blog.index"))
    return render_form("blog/update.html", form, post=post)


@bp.route(f"/<{POST_ID}:id>/delete", methods=("GET", "POST"))
@login_required
def delete(id: int) -> str | Response:
    """Delete a post with a POST; a GET only asks for confirmation."""
    post = get_own_post(id)
    form = ButtonForm()
    if form.validate_on_submit():
        delete_post(post)
        flash(f"Deleted “{post.title}”.")
        return redirect(url_for("blog.index"))
    return render_template("blog/delete.html", form=form, post=post)
