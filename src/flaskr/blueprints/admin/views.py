"""The site's settings page: title, description, About page, icon, and who
may join."""

from __future__ import annotations

import dataclasses

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_wtf import FlaskForm
from werkzeug import Response

from flaskr.blueprints.admin.forms import CommentSettingsForm
from flaskr.blueprints.admin.forms import IconForm
from flaskr.blueprints.admin.forms import IdentityForm
from flaskr.blueprints.admin.forms import JoiningForm
from flaskr.blueprints.admin.forms import SecondFactorRuleForm
from flaskr.blueprints.admin.forms import SubscriberVisibilityForm
from flaskr.models import SiteSettings
from flaskr.services.accounts import joining
from flaskr.services.accounts import second_factor
from flaskr.services.base import site
from flaskr.services.base.errors import Invalid
from flaskr.services.base.images import process_icon
from flaskr.services.governance.moderation import update_comment_settings
from flaskr.services.social import hold_rules
from flaskr.services.social import subscriber_admin
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.uploads import processed_picture
from flaskr.web.users import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _settings_page(
    identity: FlaskForm | None = None,
    icon: FlaskForm | None = None,
    comments: FlaskForm | None = None,
    joining_form: FlaskForm | None = None,
    sign_in: FlaskForm | None = None,
    subscribers: FlaskForm | None = None,
) -> tuple[str, int]:
    """The settings page, with any form that failed in its error state."""
    settings = site.settings()
    if joining_form is None:
        joining_form = JoiningForm(
            prefix="joining", data=dataclasses.asdict(joining.join_settings())
        )
    if identity is None:
        identity = IdentityForm(
            prefix="identity",
            data={
                "title": settings.title,
                "description": settings.description,
                "about": settings.about,
                "serif_body": settings.serif_body,
            },
        )
    if comments is None:
        comments = _comment_settings_form(settings)
    if sign_in is None:
        sign_in = SecondFactorRuleForm(
            prefix="sign_in", data={"required": settings.second_factor_required}
        )
    if subscribers is None:
        subscribers = SubscriberVisibilityForm(
            prefix="subscribers",
            data={"writers_see": settings.writers_see_subscribers},
        )
    has_errors = any(
        form.errors
        for form in (identity, icon, joining_form, comments, sign_in, subscribers)
        if form is not None
    )
    return render_template(
        "admin/settings.html",
        identity_form=identity,
        icon_form=icon or IconForm(prefix="icon"),
        remove_icon_form=ButtonForm(prefix="icon-remove"),
        icon_key=settings.icon_key,
        joining_form=joining_form,
        administrators=site.administrators(),
        comments_form=comments,
        sign_in_form=sign_in,
        subscribers_form=subscribers,
    ), (INVALID_FORM if has_errors else 200)


@bp.route("", methods=["GET", "POST"], endpoint="settings")
@admin_required
def settings_view() -> Response | tuple[str, int]:
    """Show the site's settings; save the title, description and About page."""
    form = IdentityForm(prefix="identity")
    if not form.is_submitted():
        return _settings_page()
    if not form.validate():
        return _settings_page(identity=form)
    try:
        site.update_identity(
            form.title.data,
            form.description.data,
            form.about.data,
            serif_body=form.serif_body.data,
        )
    except Invalid as refusal:
        show_problems(form, refusal)
        return _settings_page(identity=form)
    flash("The site's settings are saved.")
    return redirect(url_for("admin.settings"))


@bp.route("/icon", methods=["POST"], endpoint="change_icon")
@admin_required
def change_icon() -> Response | tuple[str, int]:
    """Give the site a new icon, checked and re-encoded."""
    form = IconForm(prefix="icon")
    if form.validate() and (picture := processed_picture(form.picture, process_icon)):
        site.set_icon(picture)
        flash("The site's icon is changed.")
        return redirect(url_for("admin.settings"))
    return _settings_page(icon=form)


@bp.route("/icon/remove", methods=["POST"], endpoint="remove_icon")
@admin_required
def remove_icon_view() -> Response | tuple[str, int]:
    """Go back to the default icon."""
    form = ButtonForm(prefix="icon-remove")
    if form.validate() and site.remove_icon():
        flash("The site's icon is removed.")
    return redirect(url_for("admin.settings"))


def _comment_settings_form(settings: SiteSettings) -> CommentSettingsForm:
    return CommentSettingsForm(
        prefix="comments",
        data={
            "policy": settings.comment_policy,
            "rules": list(hold_rules.active_rules(settings)),
            "link_limit": settings.hold_link_limit,
            "words": settings.hold_words,
            "account_hours": settings.hold_account_hours,
        },
    )


@bp.route("/comments", methods=["POST"], endpoint="comments")
@admin_required
def comment_settings() -> Response | tuple[str, int]:
    """Save who may comment and the hold rules."""
    form = CommentSettingsForm(prefix="comments")
    if not form.validate():
        return _settings_page(comments=form)
    try:
        update_comment_settings(
            g.user,
            form.policy.data or "",
            list(form.rules.data or []),
            form.link_limit.data,
            form.words.data,
            form.account_hours.data,
        )
    except Invalid as refusal:
        show_problems(form, refusal)
        return _settings_page(comments=form)
    flash("The comment settings are saved.")
    return redirect(url_for("admin.settings", _anchor="comments-heading"))


@bp.route("/joining", methods=["POST"], endpoint="joining")
@admin_required
def joining_view() -> Response | tuple[str, int]:
    """Save who may join: the mode, new accounts' role, refused domains."""
    form = JoiningForm(prefix="joining")
    if not form.validate():
        return _settings_page(joining_form=form)
    try:
        joining.update_join_settings(
            g.user,
            form.join_mode.data or "",
            form.default_role.data or "",
            form.refused_email_domains.data,
        )
    except Invalid as refusal:
        show_problems(form, refusal)
        return _settings_page(joining_form=form)
    flash("Who may join is saved.")
    return redirect(url_for("admin.settings"))


@bp.route("/sign-in", methods=["POST"], endpoint="sign_in_rule")
@admin_required
def sign_in_rule() -> Response | tuple[str, int]:
    """Save whether administrators and editors must have a second factor."""
    form = SecondFactorRuleForm(prefix="sign_in")
    if not form.validate():
        return _settings_page(sign_in=form)
    required = bool(form.required.data)
    second_factor.set_requirement(g.user, required)
    flash(
        "Administrators and editors now need a second factor."
        if required
        else "A second factor is no longer required."
    )
    return redirect(url_for("admin.settings", _anchor="sign-in-heading"))


@bp.route("/subscriber-visibility", methods=["POST"], endpoint="subscriber_visibility")
@admin_required
def subscriber_visibility() -> Response | tuple[str, int]:
    """Save whether writers see their subscribers' addresses."""
    form = SubscriberVisibilityForm(prefix="subscribers")
    if not form.validate():
        return _settings_page(subscribers=form)
    allowed = bool(form.writers_see.data)
    subscriber_admin.set_writers_see_subscribers(g.user, allowed)
    flash(
        "Writers now see their subscribers' addresses."
        if allowed
        else "Writers now see how many subscribers they have, not who."
    )
    return redirect(url_for("admin.settings", _anchor="subscribers-heading"))
