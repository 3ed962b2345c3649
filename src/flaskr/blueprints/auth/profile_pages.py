"""The account page's profile parts: name, bio and website; the picture; the
username."""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.auth.account_page import account_page
from flaskr.blueprints.auth.forms import AvatarForm
from flaskr.blueprints.auth.forms import ProfileForm
from flaskr.blueprints.auth.forms import RenameForm
from flaskr.blueprints.auth.views import bp
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts.profiles import remove_avatar
from flaskr.services.accounts.profiles import set_avatar
from flaskr.services.accounts.profiles import update_profile
from flaskr.services.accounts.users import rename
from flaskr.services.base.errors import Invalid
from flaskr.services.base.images import process_avatar
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import show_problems
from flaskr.web.uploads import processed_picture
from flaskr.web.users import login_required
from flaskr.web.users import rename_limit_key


@bp.route("/account/profile", methods=["POST"], endpoint="update_profile")
@login_required
def update_profile_view() -> Response | tuple[str, int]:
    """Save the name, bio and website readers see."""
    form = ProfileForm(prefix="profile")
    if form.validate():
        try:
            update_profile(
                g.user,
                display_name=form.display_name.data,
                bio=form.bio.data,
                website=form.website.data,
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            flash("Your profile is saved.")
            return redirect(url_for("auth.account"))
    return account_page(profile=form)


@bp.route("/account/avatar", methods=["POST"], endpoint="change_avatar")
@login_required
def change_avatar() -> Response | tuple[str, int]:
    """Give the profile a new picture, checked and re-encoded."""
    form = AvatarForm(prefix="avatar")
    if form.validate() and (picture := processed_picture(form.picture, process_avatar)):
        set_avatar(g.user, picture)
        flash("Your picture is changed.")
        return redirect(url_for("auth.account"))
    return account_page(avatar=form)


@bp.route("/account/avatar/remove", methods=["POST"], endpoint="remove_avatar")
@login_required
def remove_avatar_view() -> Response | tuple[str, int]:
    """Go back to the default picture."""
    form = ButtonForm(prefix="avatar-remove")
    if not form.validate():
        return account_page()
    if remove_avatar(g.user):
        flash("Your picture is removed.")
    return redirect(url_for("auth.account"))


def _renamed(response: Response) -> bool:
    """For ``deduct_when``: only renames that happened count."""
    return response.status_code == 302


@bp.route("/account/username", methods=["POST"], endpoint="change_username")
@limiter.shared_limit(
    lambda: current_app.config["RENAME_LIMITS"],
    scope="rename",  # shared with the JSON API's renames
    key_func=rename_limit_key,
    deduct_when=_renamed,
)
@login_required
def change_username() -> Response | tuple[str, int]:
    """Rename the account after asking for the password; the old name sends
    readers on, and stays the user's, for ``USERNAME_HOLD_DAYS``."""
    form = RenameForm(prefix="rename")
    if form.validate():
        new_name, old_name = form.username.data, g.user.username
        try:
            rename(g.user, new_name, form.password.data)
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            days = current_app.config["USERNAME_HOLD_DAYS"]
            flash(
                f"You are now {new_name}. Links to {old_name} lead here for"
                f" {days} days, and nobody else can take that name meanwhile."
            )
            return redirect(url_for("auth.account"))
    return account_page(rename=form)
