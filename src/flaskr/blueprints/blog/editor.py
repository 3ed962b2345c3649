"""What the post form's script asks of the server as a writer types: the
live preview (the same renderer as a save), autosaves of drafts, and the
first autosave of a new post, which makes it a draft. All answer JSON;
without the script, the form's Preview and Save draft buttons do the same."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.forms import PostForm
from flaskr.blueprints.blog.views import bp
from flaskr.blueprints.blog.views import opened_version
from flaskr.blueprints.blog.views import post_made_by
from flaskr.plumbing.throttle import limiter
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import PostChanged
from flaskr.services.content.editorial import check_may_write
from flaskr.services.content.rules import body_problem
from flaskr.services.content.rules import parse_tags
from flaskr.services.content.rules import reading_stats
from flaskr.services.content.writing import autosave
from flaskr.services.content.writing import create_post
from flaskr.services.content.writing import preview
from flaskr.web.form_tokens import is_form_token
from flaskr.web.form_tokens import remember_made_from
from flaskr.web.lookups import get_editable_post
from flaskr.web.lookups import POST_ID
from flaskr.web.users import login_required


def _editor_limits() -> str:
    return str(current_app.config["EDITOR_LIMITS"])


def _problem(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


def _not_saved(error: Invalid) -> tuple[Response, int]:
    return _problem(f"Not saved: {error}", 422)


@bp.route("/preview", methods=["POST"])
@limiter.limit(_editor_limits)
@login_required
def live_preview() -> Response | tuple[Response, int]:
    """The body rendered as saving it would, with its word count (for
    those who may write)."""
    check_may_write(g.user)
    body = request.form.get("body", "")
    if (problem := body_problem(body)) is not None:
        return _problem(problem, 422)
    stats = reading_stats(body)
    return jsonify(html=preview(body), words=stats.words, minutes=stats.minutes)


@bp.route(f"/<{POST_ID}:id>/autosave", methods=["POST"])
@limiter.limit(_editor_limits)
@login_required
def autosave_draft(id: int) -> Response | tuple[Response, int]:
    """Save a draft's text as its writer types; the answer carries the
    post's new version, for the form's next save."""
    post = get_editable_post(id)
    if not post.is_draft:
        return _problem("Only drafts are saved as you type.", 409)
    form = PostForm()
    if (problem := _autosave_problem(form)) is not None:
        return problem
    opened_at = opened_version(form)
    if opened_at is None:
        return _problem("Not saved: the form does not say its version.", 422)
    try:
        autosave(
            g.user,
            post,
            form.title.data,
            form.body.data,
            tags=parse_tags(form.tags.data),
            summary=form.summary.data,
            opened_at=opened_at,
        )
    except Invalid as error:
        return _not_saved(error)
    except PostChanged as error:
        return _problem(str(error), 409)
    return jsonify(version=post.version)


#: The title of a draft saved as its writer types before giving it one.
UNTITLED = "Untitled"


def _autosave_problem(form: PostForm) -> tuple[Response, int] | None:
    """Validate the form for an autosave; words typed before a title are
    saved under :data:`UNTITLED` rather than lost."""
    if not form.title.data:
        form.title.data = UNTITLED
    if form.validate():
        return None
    field = next(f for f in form if f.errors)
    return _problem(f"Not saved: {' '.join(map(str, field.errors))}", 422)


@bp.route("/create/autosave", methods=["POST"])
@limiter.limit(_editor_limits)
@login_required
def autosave_new_post() -> Response | tuple[Response, int]:
    """A new post's first autosave: it becomes a draft, remembered under the
    form's token, and the answer names the draft's addresses for the form's
    next saves. The same form again saves into that draft."""
    form = PostForm()
    if not is_form_token(form.form_token.data):
        return _problem("Not saved: reload the page to start a new post.", 422)
    if (problem := _autosave_problem(form)) is not None:
        return problem
    post = post_made_by(form)
    tags = parse_tags(form.tags.data)
    if post is None:
        try:
            post = create_post(
                g.user,
                form.title.data,
                form.body.data,
                tags=tags,
                publish=False,
                summary=form.summary.data,
            )
        except Invalid as error:
            return _not_saved(error)
        remember_made_from(form.form_token.data, post.id)
    elif not post.is_draft:
        return _problem("Only drafts are saved as you type.", 409)
    else:
        try:
            autosave(
                g.user,
                post,
                form.title.data,
                form.body.data,
                tags=tags,
                summary=form.summary.data,
                opened_at=post.version,
            )
        except Invalid as error:
            return _not_saved(error)
        except PostChanged as error:
            return _problem(str(error), 409)
    answer = jsonify(
        id=post.id,
        version=post.version,
        update_url=url_for("blog.update", id=post.id),
        autosave_url=url_for("blog.autosave_draft", id=post.id),
    )
    return answer, 201
