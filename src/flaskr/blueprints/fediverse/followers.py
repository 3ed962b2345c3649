"""A writer's followers from the fediverse: listed, approved, removed."""

from __future__ import annotations

import functools
import typing as t

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.fediverse.follower_forms import ApprovalForm
from flaskr.blueprints.fediverse.views import bp
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.federation import follows
from flaskr.services.federation import ids
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.users import login_required

View = t.Callable[..., t.Any]


def _writers_only(view: View) -> View:
    """Visitors go to the login page; readers get a 403; with federation
    off there is no such page."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if not ids.federating():
            abort(404)
        if not roles.may_write(g.user):
            abort(403)
        return view(**kwargs)

    return login_required(wrapped_view)


def _page_argument() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


@bp.route("/followers", endpoint="followers")
@_writers_only
def followers_view() -> tuple[str, int]:
    """Your followers from the fediverse, and those waiting for approval."""
    return render_template(
        "fediverse/followers.html",
        handle=f"@{g.user.username}@{ids.host()}",
        approval_form=ApprovalForm(
            prefix="approval", data={"approve": g.user.approve_fediverse_followers}
        ),
        waiting=follows.followers_of(g.user, PENDING),
        found=follows.followers_of(g.user, ACCEPTED, _page_argument()),
        button_form=ButtonForm(),
    ), 200


@bp.route("/followers/approval", methods=["POST"], endpoint="follower_approval")
@_writers_only
def follower_approval() -> Response:
    """Approve new followers yourself, or accept them all."""
    form = ApprovalForm(prefix="approval")
    if not form.validate():
        abort(400, description="The form expired; try again.")
    accepted = follows.set_approval(g.user, bool(form.approve.data))
    if form.approve.data:
        flash("New followers from the fediverse now wait for your approval.")
    else:
        flash(
            "New followers from the fediverse follow you at once."
            + (f" {accepted} waiting were accepted." if accepted else "")
        )
    return redirect(url_for("fediverse.followers"))


_ACTIONS: dict[str, tuple[t.Callable[[t.Any, int], None], str]] = {
    "approve": (follows.approve_follower, "The follower was approved."),
    "decline": (follows.decline_follower, "The request was declined."),
    "remove": (follows.remove_follower, "The follower was removed."),
}


@bp.route(
    "/followers/<id:actor_id>/<any(approve, decline, remove):action>",
    methods=["POST"],
    endpoint="follower_action",
)
@_writers_only
def follower_action(actor_id: int, action: str) -> Response:
    """Approve or decline a waiting follower, or remove one."""
    form = ButtonForm()
    if not form.validate():
        abort(400, description="The form expired; try again.")
    use_case, done = _ACTIONS[action]
    try:
        use_case(g.user, actor_id)
    except Invalid as refusal:
        flash(str(refusal))
    else:
        flash(done)
    return redirect(url_for("fediverse.followers"))
