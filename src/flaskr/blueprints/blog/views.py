"""Views of the blog blueprint: the index, a post's page, and writing posts."""

from __future__ import annotations

import dataclasses
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

from flaskr.blueprints.blog.forms import CommentForm
from flaskr.blueprints.blog.forms import PostForm
from flaskr.blueprints.blog.forms import PREVIEW
from flaskr.blueprints.blog.forms import PUBLISH
from flaskr.blueprints.blog.forms import RestoreForm
from flaskr.blueprints.blog.forms import SAVE_DRAFT
from flaskr.blueprints.blog.forms import SCHEDULE
from flaskr.blueprints.blog.post_page import render_post_page
from flaskr.db import MAX_ID
from flaskr.models import HeldImage
from flaskr.models import Post
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import PostChanged
from flaskr.services.base.images import ImageError
from flaskr.services.base.images import process_upload
from flaskr.services.base.images import scaled_size
from flaskr.services.content.access import drafts_of
from flaskr.services.content.access import get_post
from flaskr.services.content.editorial import check_may_write
from flaskr.services.content.held_images import held_image
from flaskr.services.content.held_images import hold_image
from flaskr.services.content.held_images import release_held_image
from flaskr.services.content.lifecycle import move_to_trash
from flaskr.services.content.lifecycle import unpublish
from flaskr.services.content.rules import parse_tags
from flaskr.services.content.rules import schedule_time
from flaskr.services.content.rules import ScheduleProblem
from flaskr.services.content.writing import create_post
from flaskr.services.content.writing import ImageChange
from flaskr.services.content.writing import preview
from flaskr.services.content.writing import update_post
from flaskr.services.reading.queries import published_list
from flaskr.web.cards import post_cards
from flaskr.web.form_tokens import made_from
from flaskr.web.form_tokens import new_form_token
from flaskr.web.form_tokens import remember_made_from
from flaskr.web.lookups import get_editable_post
from flaskr.web.lookups import get_readable_post_by_slug_or_404
from flaskr.web.lookups import get_readable_post_or_404
from flaskr.web.lookups import POST_ID
from flaskr.web.lookups import query_id
from flaskr.web.lookups import whole_number
from flaskr.web.page_links import page_position
from flaskr.web.page_links import per_page
from flaskr.web.post_links import address_slug
from flaskr.web.post_links import post_url
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import CONFLICT
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.times import local_input_value
from flaskr.web.times import local_time
from flaskr.web.uploads import process_within_limits
from flaskr.web.users import login_required

bp = Blueprint("blog", __name__, cli_group=None)
# Templates size <img> elements without loading the image bytes.
bp.add_app_template_global(scaled_size, "scaled_size")


@bp.route("/")
@kept_per_visitor
def index() -> str:
    """Show the published posts, newest first, a page at a time."""
    page = published_list().stubs(per_page(), **page_position())
    shows_reactions_of(post.id for post in page.posts)
    # The newest post leads the front page, its picture large.
    cards = post_cards(page.posts, feature_first=page.newer is None)
    return render_template("blog/index.html", page=page, cards=cards)


@bp.route(f"/<{POST_ID}:id>")
@kept_per_visitor
def post(id: int) -> str | Response:
    """Show a whole post with its comments; a draft only to its author. A
    post with a slug is at ``/p/<slug>``: this address sends there."""
    found = get_readable_post_or_404(id)
    if address_slug(found) is not None:
        query = request.query_string.decode("ascii", "replace")
        return canonical_redirect(post_url(found) + (f"?{query}" if query else ""))
    after = query_id("comments_after")
    # Made only for someone who may comment: a form makes a CSRF token, and that
    # would give every reader a session (and a page nobody else may share).
    form = CommentForm(formdata=None) if g.user is not None else None
    return render_post_page(found, form, comments_after=after)


@bp.route("/p/<slug>")
@kept_per_visitor
def post_by_slug(slug: str) -> str:
    """A post's page at its readable address."""
    found = get_readable_post_by_slug_or_404(slug)
    form = CommentForm(formdata=None) if g.user is not None else None
    return render_post_page(found, form, comments_after=query_id("comments_after"))


#: How long browsers may keep ``/<id>``'s redirect: a post's slug may change.
CANONICAL_REDIRECT_SECONDS = 24 * 3600


def canonical_redirect(location: str) -> Response:
    """A permanent redirect to a page's one address, kept a while only."""
    response = redirect(location, 301)
    response.headers["Cache-Control"] = f"public, max-age={CANONICAL_REDIRECT_SECONDS}"
    return response


@bp.route("/drafts")
@login_required
def drafts() -> str:
    """List the logged-in user's drafts."""
    return render_template("blog/drafts.html", posts=drafts_of(g.user))


#: Said on the image field when the form names a held image that is gone.
HELD_IMAGE_GONE = (
    "The image you chose earlier is no longer kept (images are kept for"
    " {hours} hours while you write). Choose it again."
)


@dataclasses.dataclass(frozen=True)
class ImageChoice:
    """The image a sent post form holds, if any, and what went wrong."""

    held: HeldImage | None = None
    #: Why the image chosen now, or earlier, cannot be used.
    problem: str | None = None
    #: The writer set the held image aside.
    dropped: bool = False

    def change(self, form: PostForm) -> ImageChange:
        """What the form asks of the post's image; the use case checks it."""
        adding = self.held is not None
        removing = bool(form.remove_image.data) and not adding
        return ImageChange(held=self.held, alt=form.image_alt.data, remove=removing)

    def show_on(self, form: PostForm) -> None:
        """Name the held image in the form; add the problem to its field.
        Call after validating: validation starts each field's errors anew."""
        form.held_image.data = str(self.held.id) if self.held else ""
        if self.problem:
            form.image_file.errors = [*form.image_file.errors, self.problem]


def choose_image(form: PostForm) -> ImageChoice:
    """Process and hold a file chosen now; else find the image held earlier
    that the form names, or let it go if the writer set it aside.

    :raise 400: a held-image reference Flaskr did not write.
    """
    if not form.is_submitted():
        return ImageChoice()
    upload = form.image_file.data
    if upload is not None and upload.filename:
        try:
            processed = process_within_limits(upload, process_upload)
        except ImageError as error:
            return ImageChoice(problem=str(error))
        return ImageChoice(held=hold_image(g.user, processed))
    if not form.held_image.data:
        return ImageChoice()
    held_id = whole_number(form.held_image.data, 1, MAX_ID)
    if held_id is None:
        abort(400, description="That form is not one Flaskr made.")
    held = held_image(g.user.id, held_id)
    if held is None:
        hours = current_app.config["HELD_IMAGE_HOURS"]
        return ImageChoice(problem=HELD_IMAGE_GONE.format(hours=hours))
    if form.drop_held_image.data:
        release_held_image(held)
        return ImageChoice(dropped=True)
    return ImageChoice(held=held)


def _form_page(
    template: str, form: PostForm, choice: ImageChoice, **context: object
) -> Response | tuple[str, int]:
    """The form again: with a preview when asked, else with its errors."""
    choice.show_on(form)
    context.update(held=choice.held, dropped=choice.dropped)
    if request.form.get("action") == PREVIEW and not any(f.errors for f in form):
        page = render_template(
            template, form=form, preview=preview(form.body.data), **context
        )
        return page, 200
    return render_form(template, form, **context)


def asked_zone(form: PostForm, schedule_at: dt.datetime | None) -> str | None:
    """The time zone a schedule was chosen in, for the writer's next visit."""
    return form.time_zone.data if schedule_at is not None else None


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> Response | tuple[str, int]:
    """Write a new post: publish it, save it as a draft, or preview it (a
    contributor submits it for review instead of publishing it)."""
    check_may_write(g.user)
    form = PostForm()
    if not form.is_submitted():
        form.form_token.data = new_form_token()
    elif (made := post_made_by(form)) is not None:
        # The same form sent again (Back, then Publish; or a save racing the
        # autosave that made the draft): it edits the post it made.
        return edit_post(made)
    action = request.form.get("action", PUBLISH)
    show_schedule(form)
    choice = choose_image(form)
    valid = form.validate_on_submit()
    schedule_at = asked_schedule(form) if valid and action == SCHEDULE else None
    if (
        action != PREVIEW
        and valid
        and (action != SCHEDULE or schedule_at is not None)
        and not choice.problem
    ):
        try:
            post = create_post(
                g.user,
                form.title.data,
                form.body.data,
                tags=parse_tags(form.tags.data),
                publish=action not in (SAVE_DRAFT, SCHEDULE),
                image=choice.change(form),
                summary=form.summary.data,
                slug=form.slug.data,
                schedule_at=schedule_at,
                time_zone=asked_zone(form, schedule_at),
                mail_subscribers=not form.no_mail.data,
            )
        except Invalid as error:
            show_problems(form, error, fallback=form.body)
        else:
            remember_made_from(form.form_token.data, post.id)
            flash(saved_message(post))
            return redirect(post_url(post))
    return _form_page("blog/create.html", form, choice)


def post_made_by(form: PostForm) -> Post | None:
    """The logged-in writer's post that this new-post form made before (and
    that is not in the trash), if any."""
    made = made_from(form.form_token.data)
    if made is None:
        return None
    post = get_post(made)
    if post is None or post.deleted is not None or post.author_id != g.user.id:
        return None
    return post


def show_schedule(form: PostForm, post: Post | None = None) -> None:
    """Fill the schedule's fields of a form shown for the first time: the
    writer's time zone, and a scheduled post's time in it."""
    if form.is_submitted():
        return
    form.time_zone.data = g.user.time_zone or "UTC"
    if post is not None and post.is_scheduled and post.published is not None:
        form.publish_at.data = local_input_value(post.published, g.user.time_zone)


def asked_schedule(form: PostForm) -> dt.datetime | None:
    """The time "Schedule" asks for; ``None`` after putting the reason it
    cannot be on the form."""
    try:
        return schedule_time(form.publish_at.data, form.time_zone.data or "")
    except ScheduleProblem as problem:
        form.publish_at.errors = [str(problem)]
        return None


def saved_message(post: Post) -> str:
    if post.is_scheduled and post.published is not None:
        when = local_time(post.published, g.user.time_zone)
        return f"Scheduled: your post comes out on {when}. Until then only you see it."
    if post.is_draft and post.review_requested is not None:
        return "Submitted for review: an editor will publish it. You may still edit it."
    if post.is_draft:
        return "Draft saved."
    return "Your post is published."


@bp.route(f"/<{POST_ID}:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> Response | tuple[str, int]:
    """Edit a post the logged-in user may change (their own, or anyone's for
    an editor); publish it if it is a draft."""
    return edit_post(get_editable_post(id))


def edit_post(post: Post) -> Response | tuple[str, int]:
    """The edit form of ``post``, and what its buttons do."""
    form = PostForm(
        obj=post,
        tags=", ".join(post.tag_names),
        image_alt=post.image.alt if post.image else "",
        no_mail=not post.mail_subscribers,
    )
    action = request.form.get("action")
    show_schedule(form, post)
    choice = choose_image(form)
    valid = form.validate_on_submit()
    pending = post.is_pending
    schedule_at = (
        asked_schedule(form) if valid and pending and action == SCHEDULE else None
    )
    if (
        action != PREVIEW
        and valid
        and (action != SCHEDULE or schedule_at is not None or not pending)
        and not choice.problem
    ):
        publishing = pending and action == PUBLISH
        try:
            update_post(
                g.user,
                post,
                form.title.data,
                form.body.data,
                tags=parse_tags(form.tags.data),
                publish=publishing,
                image=choice.change(form),
                opened_at=opened_version(form),
                summary=form.summary.data,
                slug=form.slug.data,
                schedule_at=schedule_at,
                to_draft=action == SAVE_DRAFT,
                time_zone=asked_zone(form, schedule_at),
                mail_subscribers=not form.no_mail.data if pending else None,
            )
        except Invalid as error:
            show_problems(form, error, fallback=form.body)
            return _form_page("blog/update.html", form, choice, post=post)
        except PostChanged as error:
            # The writer's text and image stay in the form; saving it again is
            # a choice made after seeing that the post changed.
            form.version.data = str(post.version)
            held = held_image(g.user.id, choice.held.id) if choice.held else None
            choice = ImageChoice(held=held)
            choice.show_on(form)
            page = render_template(
                "blog/update.html", form=form, post=post, changed=error, held=held
            )
            return page, CONFLICT
        changed = publishing or schedule_at is not None or action == SAVE_DRAFT
        flash(saved_message(post) if changed else "Your changes are saved.")
        return redirect(post_url(post))
    return _form_page("blog/update.html", form, choice, post=post)


def opened_version(form: PostForm | RestoreForm) -> int | None:
    """The version the form was opened at; ``None`` if the form did not
    say (a script or the tutorial's tests: the save applies to any version).

    :raise 400: a version Flaskr did not write.
    """
    if not form.version.data:
        return None
    version = whole_number(form.version.data, 1, MAX_ID)
    if version is None:
        abort(400, description="That form is not one Flaskr made.")
    return version


@bp.route(f"/<{POST_ID}:id>/unpublish", methods=["POST"])
@login_required
def unpublish_post(id: int) -> Response:
    """Take a published post back to the drafts."""
    post = get_editable_post(id)
    form = ButtonForm(prefix="unpublish")
    if not form.validate():
        abort(400, description="That form is not one Flaskr made.")
    if post.is_draft:
        flash("That post is a draft already.")
    else:
        unpublish(g.user, post)
        flash(f"“{post.title}” is a draft again: only its writer and editors see it.")
    return redirect(url_for("blog.update", id=post.id))


@bp.route(f"/<{POST_ID}:id>/delete", methods=("GET", "POST"))
@login_required
def delete(id: int) -> str | Response:
    """Move a post to the trash with a POST; a GET only asks for confirmation."""
    post = get_editable_post(id)
    form = ButtonForm()
    if form.validate_on_submit():
        move_to_trash(g.user, post)
        flash(
            f"Moved “{post.title}” to the trash. You can restore it from there"
            f" for {current_app.config['TRASH_DAYS']} days."
        )
        return redirect(url_for("blog.index"))
    return render_template("blog/delete.html", form=form, post=post)
