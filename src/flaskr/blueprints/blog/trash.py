"""The trash: deleted posts wait here, to be restored or deleted for good."""

from __future__ import annotations

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.services.content.access import trash_of
from flaskr.services.content.lifecycle import delete_forever
from flaskr.services.content.lifecycle import restore
from flaskr.web.lookups import get_editable_post
from flaskr.web.lookups import POST_ID
from flaskr.web.post_links import post_url
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.users import login_required


@bp.route("/trash")
@login_required
def trash() -> str:
    """List the logged-in user's deleted posts."""
    return render_template(
        "blog/trash.html", posts=trash_of(g.user), form=ButtonForm(formdata=None)
    )


@bp.route(f"/<{POST_ID}:id>/restore", methods=["POST"])
@login_required
def restore_post(id: int) -> Response:
    """Bring a post back from the trash."""
    post = get_editable_post(id, in_trash=True)
    restore(g.user, post)
    flash(f"Restored “{post.title}”.")
    return redirect(post_url(post))


@bp.route(f"/<{POST_ID}:id>/delete-forever", methods=["POST"])
@login_required
def delete_post_forever(id: int) -> Response:
    """Delete a post in the trash for good."""
    post = get_editable_post(id, in_trash=True)
    delete_forever(g.user, post)
    flash(f"Deleted “{post.title}” for good.")
    return redirect(url_for("blog.trash"))
