"""What the post form's script asks of the server as a writer types: the
live preview (the same renderer as a save) and autosaves of drafts. Both
answer JSON; without the script, the form's Preview and Save draft buttons
do the same."""

from __future__ import annotations

from flask import current_app
from flask import jsonify
from flask import request
from werkzeug import Response

from flaskr.blueprints.blog.forms import PostForm
from flaskr.blueprints.blog.views import bp
from flaskr.blueprints.blog.views import opened_version
from flaskr.plumbing.throttle import limiter
from flaskr.services.errors import PostChanged
from flaskr.services.posts import autosave
from flaskr.services.posts import body_problem
from flaskr.services.posts import parse_tags
from flaskr.services.posts import preview
from flaskr.services.posts import reading_stats
from flaskr.web.lookups import get_own_post
from flaskr.web.lookups import POST_ID
from flaskr.web.users import login_required


def _editor_limits() -> str:
    return str(current_app.config["EDITOR_LIMITS"])


def _problem(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.route("/preview", methods=["POST"])
@limiter.limit(_editor_limits)
@login_required
def live_preview() -> Response | tuple[Response, int]:
    """The body rendered as saving it would, with its word count."""
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
    post = get_own_post(id)
    if not post.is_draft:
        return _problem("Only drafts are saved as you type.", 409)
    form = PostForm()
    if not form.validate():
        field = next(f for f in form if f.errors)
        return _problem(f"Not saved: {' '.join(map(str, field.errors))}", 422)
    opened_at = opened_version(form)
    if opened_at is None:
        return _problem("Not saved: the form does not say its version.", 422)
    try:
        autosave(
            post,
            form.title.data,
            form.body.data,
            tags=parse_tags(form.tags.data),
            summary=form.summary.data,
            opened_at=opened_at,
        )
    except PostChanged as error:
        return _problem(str(error), 409)
    return jsonify(version=post.version)
