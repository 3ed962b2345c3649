"""The users page, an account's page and the audit log, for moderators.

Administrators and editors see the members and approve or refuse waiting
accounts; only administrators change roles, suspend, lift and remove, and
read the audit log. The services decide (``services/governance``); these
views translate forms into their calls and their refusals into pages.
"""

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

from flaskr.blueprints.admin.member_forms import ReasonForm
from flaskr.blueprints.admin.member_forms import RemoveForm
from flaskr.blueprints.admin.member_forms import RoleForm
from flaskr.blueprints.admin.views import bp
from flaskr.db import MAX_ID
from flaskr.models import User
from flaskr.models.governance import ACCOUNT_STATES
from flaskr.services.accounts import second_factor
from flaskr.services.accounts.directory import get_user
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.roles import ROLE_LABELS
from flaskr.services.governance import members
from flaskr.services.governance import removal
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import login_required

View = t.Callable[..., t.Any]

#: Audit entries per page of the audit log.
AUDIT_PER_PAGE = 50


def moderators_only(view: View) -> View:
    """Let administrators and editors in: visitors go to the login page,
    other users get a 403."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if not roles.may_moderate(g.user):
            abort(403)
        return view(**kwargs)

    return login_required(wrapped_view)


def _member(user_id: int) -> User:
    """:raise 404: no such account."""
    user = get_user(user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        abort(404, description="There is no such account.")
    return user


def _page_argument() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


@bp.route("/users", endpoint="users")
@moderators_only
def users_view() -> tuple[str, int]:
    """The accounts, waiting ones first, searched and filtered."""
    search = request.args.get("q", "")
    role = request.args.get("role") or None
    state = request.args.get("state") or None
    try:
        found = members.list_members(
            g.user, search=search, role=role, state=state, page=_page_argument()
        )
    except Invalid as refusal:
        abort(400, description=str(refusal))
    return render_template(
        "admin/users.html",
        found=found,
        search=search,
        role=role,
        state=state,
        role_labels=ROLE_LABELS,
        states=ACCOUNT_STATES,
        governs=roles.may_govern(g.user),
        button_form=ButtonForm(),
    ), 200


def _user_page(
    user: User,
    *,
    role_form: RoleForm | None = None,
    suspend_form: ReasonForm | None = None,
) -> tuple[str, int]:
    failed = any(f is not None and f.errors for f in (role_form, suspend_form))
    return render_template(
        "admin/user.html",
        member=user,
        history=members.history_of(g.user, user),
        counts=removal.removal_counts(user),
        role_labels=ROLE_LABELS,
        governs=roles.may_govern(g.user),
        role_form=role_form or RoleForm(prefix="role", data={"role": user.role}),
        suspend_form=suspend_form or ReasonForm(prefix="suspend"),
        button_form=ButtonForm(),
        factors=second_factor.factors_of(user),
    ), (INVALID_FORM if failed else 200)


@bp.route("/users/<id:user_id>", endpoint="user")
@moderators_only
def user_view(user_id: int) -> tuple[str, int]:
    """An account: its details, its audit history and the decisions."""
    return _user_page(_member(user_id))


@bp.route("/users/<id:user_id>/role", methods=["POST"], endpoint="change_role")
@moderators_only
def change_role_view(user_id: int) -> Response | tuple[str, int]:
    """Give the account another role."""
    user = _member(user_id)
    form = RoleForm(prefix="role")
    if not form.validate():
        return _user_page(user, role_form=form)
    try:
        members.change_role(g.user, user, form.role.data or "")
    except Invalid as refusal:
        show_problems(form, refusal, fallback=form.role)
        return _user_page(user, role_form=form)
    flash(f"{user.username} is now: {ROLE_LABELS[user.role]}.")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<id:user_id>/suspend", methods=["POST"], endpoint="suspend")
@moderators_only
def suspend_view(user_id: int) -> Response | tuple[str, int]:
    """Suspend the account, with a reason its owner sees."""
    user = _member(user_id)
    form = ReasonForm(prefix="suspend")
    if not form.validate():
        return _user_page(user, suspend_form=form)
    try:
        members.suspend(g.user, user, form.reason.data or "")
    except Invalid as refusal:
        show_problems(form, refusal, fallback=form.reason)
        return _user_page(user, suspend_form=form)
    flash(f"{user.username} is suspended.")
    return redirect(url_for("admin.user", user_id=user.id))


def _button_decision(
    user_id: int, decide: t.Callable[[User, User], None], done: str
) -> Response:
    user = _member(user_id)
    name = user.username
    if not ButtonForm().validate():
        abort(400, description="The form expired: try again.")
    try:
        decide(g.user, user)
    except Invalid as refusal:
        flash(str(refusal))
        return redirect(url_for("admin.user", user_id=user_id))
    flash(done.format(name=name))
    if decide is members.refuse or request.form.get("back") == "list":
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<id:user_id>/lift", methods=["POST"], endpoint="lift")
@moderators_only
def lift_view(user_id: int) -> Response:
    """End the account's suspension."""
    return _button_decision(user_id, members.lift, "{name}'s suspension is lifted.")


@bp.route(
    "/users/<id:user_id>/remove-factors", methods=["POST"], endpoint="remove_factors"
)
@moderators_only
def remove_factors_view(user_id: int) -> Response:
    """Remove the second factors of an owner who lost them all."""
    return _button_decision(
        user_id,
        second_factor.remove_for_owner,
        "{name}'s second factors are removed: the password alone logs in.",
    )


@bp.route("/users/<id:user_id>/approve", methods=["POST"], endpoint="approve")
@moderators_only
def approve_view(user_id: int) -> Response:
    """Let a waiting account in."""
    return _button_decision(user_id, members.approve, "{name} is approved.")


@bp.route("/users/<id:user_id>/refuse", methods=["POST"], endpoint="refuse")
@moderators_only
def refuse_view(user_id: int) -> Response:
    """Turn a waiting account away (it is deleted)."""
    return _button_decision(user_id, members.refuse, "{name} was turned away.")


@bp.route("/users/<id:user_id>/remove", methods=["GET", "POST"], endpoint="remove")
@moderators_only
def remove_view(user_id: int) -> Response | tuple[str, int]:
    """Confirm removing the account with everything it posted, then do it."""
    user = _member(user_id)
    if not roles.may_govern(g.user):
        abort(403)
    counts = removal.removal_counts(user)
    form = RemoveForm(
        prefix="remove",
        data={"expected_posts": counts.posts, "expected_comments": counts.comments},
    )
    if form.is_submitted() and form.validate():
        try:
            removal.remove(
                g.user,
                user,
                form.reason.data or "",
                expected_posts=form.expected_posts.data or 0,
                expected_comments=form.expected_comments.data or 0,
            )
        except Invalid as refusal:
            show_problems(form, refusal, fallback=form.reason)
            # The page names the new counts, and sends them back next time.
            form.expected_posts.data = counts.posts
            form.expected_comments.data = counts.comments
        else:
            flash(f"{user.username} is removed; their posts are in the trash.")
            return redirect(url_for("admin.user", user_id=user.id))
    status = INVALID_FORM if form.is_submitted() else 200
    return render_template(
        "admin/remove_user.html", member=user, counts=counts, form=form
    ), status


@bp.route("/users/<id:user_id>/restore", methods=["POST"], endpoint="restore")
@moderators_only
def restore_view(user_id: int) -> Response:
    """Bring a removed account back, before it is purged."""
    return _button_decision(user_id, removal.restore, "{name} is restored.")


@bp.route("/audit", endpoint="audit")
@moderators_only
def audit_view() -> tuple[str, int]:
    """The audit log, newest first (administrators)."""
    if not roles.may_govern(g.user):
        abort(403)
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    entries = audit.recent_entries(AUDIT_PER_PAGE + 1, before_id)
    older = entries[AUDIT_PER_PAGE - 1].id if len(entries) > AUDIT_PER_PAGE else None
    return render_template(
        "admin/audit.html", entries=entries[:AUDIT_PER_PAGE], older=older
    ), 200
