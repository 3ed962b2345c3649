"""A post's history: its revisions, what changed between two, restoring one.
Only the post's writer sees it."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.forms import RestoreForm
from flaskr.blueprints.blog.views import bp
from flaskr.blueprints.blog.views import opened_version
from flaskr.models import Post
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import PostChanged
from flaskr.services.content.revisions import compare
from flaskr.services.content.revisions import Comparison
from flaskr.services.content.revisions import get_revision
from flaskr.services.content.revisions import restore
from flaskr.services.content.revisions import revisions_of
from flaskr.web.lookups import get_editable_post
from flaskr.web.lookups import POST_ID
from flaskr.web.lookups import query_id
from flaskr.web.shared_forms import CONFLICT
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.times import human_date
from flaskr.web.users import login_required


def _history_page(post: Post, problem: str | None = None) -> tuple[str, int]:
    """The revisions, newest first, and the comparison the query string asks
    for (``?older=&newer=``), else the newest revision against the one before.

    :raise 404: a revision of another post, or none.
    """
    revisions = revisions_of(post)
    older_id, newer_id = query_id("older"), query_id("newer")
    comparison: Comparison | None = None
    if older_id is not None or newer_id is not None:
        older = get_revision(post, older_id) if older_id else None
        newer = get_revision(post, newer_id) if newer_id else None
        if older is None or newer is None:
            abort(404, description="This post has no such revision.")
        comparison = compare(older, newer)
    elif len(revisions) >= 2:
        comparison = compare(revisions[1], revisions[0])
    form = RestoreForm(formdata=None, version=str(post.version))
    page = render_template(
        "blog/history.html",
        post=post,
        revisions=revisions,
        comparison=comparison,
        form=form,
        problem=problem,
    )
    return page, 200 if problem is None else CONFLICT


@bp.route(f"/<{POST_ID}:id>/history")
@login_required
def history(id: int) -> tuple[str, int]:
    """The post's revisions, and what changed between two of them."""
    return _history_page(get_editable_post(id))


@bp.route(f"/<{POST_ID}:id>/revisions/<id:revision_id>/restore", methods=["POST"])
@login_required
def restore_revision(id: int, revision_id: int) -> Response | tuple[str, int]:
    """Save the post as a revision had it; that is a new revision."""
    post = get_editable_post(id)
    revision = get_revision(post, revision_id)
    if revision is None:
        abort(404, description="This post has no such revision.")
    form = RestoreForm()
    if not form.validate():
        abort(400, description="That form is not one Flaskr made.")
    try:
        restore(g.user, post, revision, opened_at=opened_version(form))
    except PostChanged as error:
        return _history_page(get_editable_post(id), problem=str(error))
    except Invalid as error:  # a revision saved under older rules than today's
        page, _ = _history_page(get_editable_post(id), problem=str(error))
        return page, INVALID_FORM
    created = human_date(revision.created, with_time=True)
    flash(f"Restored the revision of {created}; the one before is kept too.")
    return redirect(url_for("blog.history", id=post.id))
