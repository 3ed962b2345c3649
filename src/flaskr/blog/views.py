"""Views of the blog blueprint: the index, a post's page, and writing posts."""

from __future__ import annotations

import datetime as dt

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
from ..images import ImageError
from ..images import process_upload
from ..images import scaled_size
from ..models import ALT_MAX_LENGTH
from ..models import Post
from ..page_cache import shared
from ..paging import Cursor
from ..paging import InvalidCursorError
from ..posts import create_post
from ..posts import drafts_of
from ..posts import get_post
from ..posts import get_readable_post
from ..posts import ImageChange
from ..posts import move_to_trash
from ..posts import parse_tags
from ..posts import preview
from ..posts import published_posts
from ..posts import update_post
from ..reactions import comments_on
from ..reactions import liked_among
from .forms import CommentForm
from .forms import PostForm
from .forms import PREVIEW
from .forms import PUBLISH
from .forms import SAVE_DRAFT

bp = Blueprint("blog", __name__, cli_group=None)
# Templates size <img> elements without loading the image bytes.
bp.add_app_template_global(scaled_size, "scaled_size")

#: URL converter for a post id: numbers past the database's range are a 404.
POST_ID = f"int(max={MAX_ID})"


def page_position() -> dict[str, Cursor | None]:
    """The ``before`` and ``after`` page links of the request, read.

    :raise 400: a link that Flaskr did not make.
    """
    position: dict[str, Cursor | None] = {}
    for name in ("before", "after"):
        text = request.args.get(name)
        try:
            position[name] = Cursor.parse(text) if text is not None else None
        except InvalidCursorError:
            abort(400, description="That page link is not valid.")
    return position


def per_page() -> int:
    return int(current_app.config["POSTS_PER_PAGE"])


@bp.route("/")
@shared
def index() -> str:
    """Show the published posts, newest first, a page at a time."""
    page = published_posts(per_page(), **page_position())
    return render_template("blog/index.html", page=page)


@bp.route(f"/<{POST_ID}:id>")
@shared
def post(id: int) -> str:
    """Show a whole post with its comments; a draft only to its author."""
    found = get_readable_post(id, g.user)
    if found is None:
        abort(404, description=f"Post id {id} doesn't exist.")
    after = request.args.get("comments_after", type=int)
    # Made only for someone who may comment: a form makes a CSRF token, and that
    # would give every reader a session (and a page nobody else may share).
    form = CommentForm(formdata=None) if g.user is not None else None
    return render_post_page(found, form, comments_after=after)


def render_post_page(
    post: Post, comment_form: CommentForm | None, *, comments_after: int | None = None
) -> str:
    """A post's page: the post, a page of its comments, likes, the comment form
    (``None`` for visitors, who are asked to log in instead)."""
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    comments = comments_on(post, per_page, after=comments_after)
    return render_template(
        "blog/post.html",
        post=post,
        comments=comments[:per_page],
        more_comments=len(comments) > per_page,
        liked=post.id in liked_among(g.user, [post]),
        comment_form=comment_form,
    )


@bp.route("/drafts")
@login_required
def drafts() -> str:
    """List the logged-in user's drafts."""
    return render_template("blog/drafts.html", posts=drafts_of(g.user))


def get_own_post(post_id: int, *, in_trash: bool = False) -> Post:
    """The post with this id, if the logged-in user wrote it.

    :param in_trash: look in the trash instead of among the other posts.
    :raise 404: no such post (where it was looked for).
    :raise 403: someone else wrote it.
    """
    post = get_post(post_id)
    if post is None or (post.deleted is not None) != in_trash:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    if post.author_id != g.user.id:
        abort(403)
    return post


def _form_page(
    template: str, form: PostForm, **context: object
) -> Response | tuple[str, int]:
    """The form again: with a preview when asked, else with its errors."""
    if request.form.get("action") == PREVIEW and form.validate():
        page = render_template(
            template, form=form, preview=preview(form.body.data), **context
        )
        return page, 200
    return render_form(template, form, **context)


def checked_image(form: PostForm, post: Post | None = None) -> ImageChange | None:
    """What the form asks of the post's image, or ``None`` after adding the
    reasons it cannot be done to the form's fields."""
    upload = form.image_file.data
    uploading = upload is not None and bool(upload.filename)
    removing = bool(form.remove_image.data) and not uploading
    keeping = post is not None and post.image is not None and not removing
    if (uploading or keeping) and not form.image_alt.data:
        form.image_alt.errors = [
            "Describe the image for people who cannot see it (alt text)."
        ]
        return None
    if len(form.image_alt.data) > ALT_MAX_LENGTH:
        form.image_alt.errors = [f"At most {ALT_MAX_LENGTH} characters."]
        return None
    new = None
    if uploading:
        try:
            new = process_upload(
                upload.stream,
                max_bytes=current_app.config["IMAGE_MAX_BYTES"],
                max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
            )
        except ImageError as error:
            form.image_file.errors = [str(error)]
            return None
    return ImageChange(new=new, alt=form.image_alt.data, remove=removing)


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> Response | tuple[str, int]:
    """Write a new post: publish it, save it as a draft, or preview it."""
    form = PostForm()
    action = request.form.get("action", PUBLISH)
    if (
        action != PREVIEW
        and form.validate_on_submit()
        and (image := checked_image(form)) is not None
    ):
        post = create_post(
            g.user,
            form.title.data,
            form.body.data,
            tags=parse_tags(form.tags.data),
            publish=action != SAVE_DRAFT,
            image=image,
        )
        flash("Your post is published." if not post.is_draft else "Draft saved.")
        return redirect(url_for("blog.post", id=post.id))
    return _form_page("blog/create.html", form)


@bp.route(f"/<{POST_ID}:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> Response | tuple[str, int]:
    """Edit a post the logged-in user wrote; publish it if it is a draft."""
    post = get_own_post(id)
    form = PostForm(
        obj=post,
        tags=", ".join(post.tag_names),
        image_alt=post.image.alt if post.image else "",
    )
    action = request.form.get("action")
    if (
        action != PREVIEW
        and form.validate_on_submit()
        and (image := checked_image(form, post)) is not None
    ):
        publishing = post.is_draft and action == PUBLISH
        update_post(
            post,
            form.title.data,
            form.body.data,
            tags=parse_tags(form.tags.data),
            publish=publishing,
            image=image,
        )
        flash("Your post is published." if publishing else "Your changes are saved.")
        return redirect(url_for("blog.post", id=post.id))
    return _form_page("blog/update.html", form, post=post)


@bp.route(f"/<{POST_ID}:id>/delete", methods=("GET", "POST"))
@login_required
def delete(id: int) -> str | Response:
    """Move a post to the trash with a POST; a GET only asks for confirmation."""
    post = get_own_post(id)
    form = ButtonForm()
    if form.validate_on_submit():
        move_to_trash(post, trash_lifetime())
        flash(
            f"Moved “{post.title}” to the trash. You can restore it from there"
            f" for {current_app.config['TRASH_DAYS']} days."
        )
        return redirect(url_for("blog.index"))
    return render_template("blog/delete.html", form=form, post=post)


def trash_lifetime() -> dt.timedelta:
    return dt.timedelta(days=current_app.config["TRASH_DAYS"])
