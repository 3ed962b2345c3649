"""The trash: deleted posts wait here, to be restored or deleted for good."""

from __future__ import annotations

import click
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from ..auth import login_required
from ..db import db
from ..forms import ButtonForm
from ..posts import delete_forever
from ..posts import purge_trash
from ..posts import restore
from ..posts import trash_of
from .views import bp
from .views import get_own_post
from .views import POST_ID
from .views import trash_lifetime


@bp.cli.command("purge-trash")
def purge_trash_command() -> None:
    """Delete the posts that have been in the trash too long (deleting a post
    also does this as it goes)."""
    purged = purge_trash(trash_lifetime())
    db.session.commit()
    click.echo(f"Deleted {purged} posts from the trash for good.")


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
    post = get_own_post(id, in_trash=True)
    restore(post)
    flash(f"Restored “{post.title}”.")
    return redirect(url_for("blog.post", id=post.id))


@bp.route(f"/<{POST_ID}:id>/delete-forever", methods=["POST"])
@login_required
def delete_post_forever(id: int) -> Response:
    """Delete a post in the trash for good."""
    post = get_own_post(id, in_trash=True)
    delete_forever(post)
    flash(f"Deleted “{post.title}” for good.")
    return redirect(url_for("blog.trash"))
