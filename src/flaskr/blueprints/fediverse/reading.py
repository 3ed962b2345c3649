"""Following remote accounts, reading their posts, replying to them."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.fediverse.forms import FollowForm
from flaskr.blueprints.fediverse.forms import ReplyForm
from flaskr.blueprints.fediverse.views import bp
from flaskr.plumbing.throttle import limiter
from flaskr.services.base.errors import Invalid
from flaskr.services.base.roles import may_write
from flaskr.services.federation import following as following_service
from flaskr.services.federation import remote_posts
from flaskr.services.federation.following import WRITERS_ONLY
from flaskr.services.federation.remote_actors import domain_of
from flaskr.web.page_links import page_position
from flaskr.web.page_links import per_page
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import login_required


def _following_page(form: FollowForm) -> str:
    page = remote_posts.posts_for(
        g.user.id, per_page(), before=page_position()["before"]
    )
    return render_template(
        "fediverse/following.html",
        form=form,
        accounts=remote_posts.followed_accounts(g.user.id),
        page=page,
        may_follow=may_write(g.user),
        writers_only=WRITERS_ONLY,
    )


@bp.route("/following")
@login_required
def following() -> str:
    """The fediverse accounts the user follows, and their newest posts."""
    return _following_page(FollowForm(formdata=None))


@bp.route("/following", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"])
def follow() -> Response | tuple[str, int]:
    """Follow a fediverse account (``handle``): it is looked up, and a
    request to follow sent."""
    form = FollowForm()
    if form.validate_on_submit():
        try:
            actor = following_service.follow(g.user, form.handle.data)
        except Invalid as refusal:
            show_problems(form, refusal, fallback=form.handle)
        else:
            flash(
                f"You asked to follow {actor.handle}: their new posts come here"
                " once their server accepts."
            )
            return redirect(url_for("fediverse.following"))
    return _following_page(form), INVALID_FORM


@bp.route("/following/<id:actor_id>/unfollow", methods=["POST"])
@login_required
def unfollow(actor_id: int) -> Response:
    """Stop following a fediverse account (or withdraw the request)."""
    if not ButtonForm().validate():
        abort(400)
    if not following_service.unfollow(g.user, actor_id):
        abort(404, description="You do not follow that account.")
    flash("You no longer follow that account.")
    return redirect(url_for("fediverse.following"))


def _post_page(post_id: int, form: ReplyForm) -> str:
    found = remote_posts.readable_post(g.user.id, post_id)
    if found is None:
        abort(404, description="That post is not one of an account you follow.")
    post, actor = found
    return render_template(
        "fediverse/post.html",
        post=post,
        actor=actor,
        replies=remote_posts.replies_of(g.user.id, post.id),
        url_host=domain_of(post.url) if post.url else None,
        form=form,
        may_reply=may_write(g.user),
    )


@bp.route("/posts/<id:post_id>")
@login_required
def post(post_id: int) -> str:
    """A post of a fediverse account the user follows, and their replies."""
    return _post_page(post_id, ReplyForm(formdata=None))


@bp.route("/posts/<id:post_id>/reply", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"])
def reply(post_id: int) -> Response | tuple[str, int]:
    """Reply to a post of a fediverse account the user follows."""
    form = ReplyForm()
    if remote_posts.readable_post(g.user.id, post_id) is None:
        abort(404, description="That post is not one of an account you follow.")
    if form.validate_on_submit():
        try:
            added = following_service.reply(g.user, post_id, form.body.data)
        except Invalid as refusal:
            show_problems(form, refusal, fallback=form.body)
        else:
            flash("Your reply is on its way.")
            return redirect(
                url_for("fediverse.post", post_id=post_id, _anchor=f"reply-{added.id}")
            )
    return _post_page(post_id, form), INVALID_FORM
