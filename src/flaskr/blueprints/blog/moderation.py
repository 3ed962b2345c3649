"""The moderation queue, readers' reports and each post's comment switch."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.forms import ReportForm
from flaskr.blueprints.blog.views import bp
from flaskr.models import Post
from flaskr.models.governance import REPORTED_SUBJECTS
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.governance import moderation
from flaskr.services.governance import reports
from flaskr.services.social.comment_policy import set_comments_open
from flaskr.web.lookups import get_readable_post_or_404
from flaskr.web.lookups import POST_ID
from flaskr.web.post_links import post_url
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.site_links import post_site_link
from flaskr.web.users import login_required

#: What the queue's buttons say was done, for the flash.
_DONE = {
    moderation.APPROVE: "approved",
    moderation.REJECT: "rejected",
    moderation.MARK_SPAM: "marked as spam",
}
#: The most comment ids one bulk decision takes.
_MAX_CHOSEN = moderation.QUEUE_SIZE


def _comments_link(post: Post) -> str:
    return post_site_link(post, _anchor="comments")


@bp.route("/moderation")
@login_required
def moderation_queue() -> str:
    """Held comments (and, for moderators, open reports) waiting for a decision."""
    if not moderation.may_see_queue(g.user):
        abort(403, description="The moderation queue is for moderators and writers.")
    return render_template(
        "blog/moderation.html",
        held=moderation.held_comments(g.user),
        open_reports=reports.open_reports(g.user),
        decide_form=ButtonForm(prefix="decide"),
        resolve_form=ButtonForm(prefix="resolve"),
        is_moderator=roles.may_moderate(g.user),
    )


def _chosen_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("comment")[:_MAX_CHOSEN]:
        if value.isdigit() and len(value) <= 18:
            ids.append(int(value))
    return ids


@bp.route("/moderation/comments", methods=["POST"])
@login_required
def decide_comments() -> Response:
    """Approve, reject or mark spam the chosen held comments, together."""
    form = ButtonForm(prefix="decide")
    if not form.validate():
        abort(400, description="The form expired; open the queue again.")
    decision = request.form.get("decision", "")
    try:
        decided = moderation.decide_comments(
            g.user, _chosen_ids(), decision, post_link=_comments_link
        )
    except Invalid as refusal:
        flash(str(refusal))
        return redirect(url_for("blog.moderation_queue"))
    if decided.done:
        plural = "comment" if decided.done == 1 else "comments"
        flash(f"{decided.done} {plural} {_DONE[decision]}.")
    if decided.already:
        flash(
            f"{decided.already} of the chosen comments had already been decided"
            " by another moderator, or are gone; they are left as they are."
        )
    for username in decided.suspended:
        flash(f"The new account {username} is suspended as a spammer.")
    return redirect(url_for("blog.moderation_queue"))


@bp.route("/moderation/reports/<id:report_id>", methods=["POST"])
@login_required
def resolve_report(report_id: int) -> Response:
    """Dismiss a report, or hide what it reports."""
    form = ButtonForm(prefix="resolve")
    if not form.validate():
        abort(400, description="The form expired; open the queue again.")
    try:
        done = reports.resolve_report(
            g.user, report_id, request.form.get("resolution", "")
        )
    except Invalid as refusal:
        flash(str(refusal))
    else:
        flash(f"The report is resolved: {done}.")
    return redirect(url_for("blog.moderation_queue"))


@bp.route("/report/<subject>/<id:subject_id>", methods=["GET", "POST"])
@login_required
def report(subject: str, subject_id: int) -> Response | tuple[str, int]:
    """Report a post, a comment or a profile to the moderators."""
    if subject not in REPORTED_SUBJECTS:
        abort(404, description="Only posts, comments and profiles can be reported.")
    item = reports.find_reported(subject, subject_id)
    if item is None:
        abort(404, description="There is nothing there to report.")
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.report(g.user, subject, subject_id, form.reason.data)
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            flash("Thank you: the moderators will look at your report.")
            if item.post is not None:
                return redirect(post_url(item.post))
            return redirect(url_for("blog.index"))
    return render_form("blog/report.html", form, item=item)


@bp.route(f"/<{POST_ID}:id>/comments/switch", methods=["POST"])
@login_required
def switch_comments(id: int) -> Response:
    """Open (``open=yes``) or close (``open=no``) a post's comments."""
    post = get_readable_post_or_404(id)
    form = ButtonForm(prefix="switch")
    if not form.validate():
        abort(400, description="The form expired; open the post again.")
    wanted = request.form.get("open") == "yes"
    set_comments_open(g.user, post, wanted)  # NotAllowed: a 403 page
    flash("Comments are open." if wanted else "Comments are closed.")
    return redirect(post_url(post, _anchor="comments"))
