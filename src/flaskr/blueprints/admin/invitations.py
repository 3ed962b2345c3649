"""The invitations page: links to join a site that takes members by
invitation, made by administrators and editors and shown once to copy."""

from __future__ import annotations

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_wtf import FlaskForm
from werkzeug import Response

# types-WTForms predates WTForms 3.3, which added SelectChoice.
from wtforms import SelectChoice  # type: ignore[attr-defined]

from flaskr.blueprints.admin.forms import InvitationForm
from flaskr.blueprints.admin.forms import WithdrawInvitationForm
from flaskr.blueprints.admin.views import bp
from flaskr.services.accounts import joining
from flaskr.services.base.errors import Invalid
from flaskr.services.base.roles import ROLE_LABELS
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.site_links import site_link
from flaskr.web.users import login_required


def _invitations_page(
    form: FlaskForm | None = None, new_link: str | None = None, status: int = 200
) -> tuple[str, int]:
    invitations = joining.open_invitations(g.user)
    allowed = joining.roles_to_invite(g.user)
    if form is None:
        form = InvitationForm(prefix="invite")
    form.role.choices = [SelectChoice(role, ROLE_LABELS[role]) for role in allowed]
    return render_template(
        "admin/invitations.html",
        form=form,
        invitations=invitations,
        new_link=new_link,
        withdraw_form=WithdrawInvitationForm(prefix="withdraw"),
        join_mode=joining.join_settings().join_mode,
        role_labels=ROLE_LABELS,
    ), status


@bp.route("/invitations", methods=["GET", "POST"], endpoint="invitations")
@login_required
def invitations() -> tuple[str, int]:
    """List the open invitations; make one and show its link this once."""
    form = InvitationForm(prefix="invite")
    if not form.is_submitted():
        return _invitations_page()
    if not form.validate():
        return _invitations_page(form, status=INVALID_FORM)
    try:
        _, token = joining.make_invitation(
            g.user,
            form.role.data or "",
            int(form.days.data) if form.days.data else None,
        )
    except Invalid as refusal:
        show_problems(form, refusal)
        return _invitations_page(form, status=INVALID_FORM)
    link = site_link("auth.register", invitation=token)
    return _invitations_page(new_link=link, status=201)


@bp.route("/invitations/withdraw", methods=["POST"], endpoint="withdraw_invitation")
@login_required
def withdraw_invitation() -> Response:
    """Withdraw an open invitation: its link stops working."""
    form = WithdrawInvitationForm(prefix="withdraw")
    raw = form.invitation_id.data if form.validate() else ""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        flash("This invitation is used, expired or gone.")
        return redirect(url_for("admin.invitations"))
    try:
        joining.withdraw_invitation(g.user, int(raw))
    except Invalid as refusal:
        flash(str(refusal))
    else:
        flash("The invitation is withdrawn: its link no longer works.")
    return redirect(url_for("admin.invitations"))
