"""Views of the auth blueprint: register, log in, log out."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.auth.forms import LoginForm
from flaskr.blueprints.auth.forms import RegisterForm
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts import users as accounts
from flaskr.services.accounts.login_policy import log_in
from flaskr.services.accounts.sessions import log_out
from flaskr.services.accounts.users import AddressLinks
from flaskr.services.base.errors import Invalid
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.site_links import site_link
from flaskr.web.site_links import token_link_maker
from flaskr.web.users import current_session_id
from flaskr.web.users import end_session
from flaskr.web.users import safe_next
from flaskr.web.users import start_user_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=("GET", "POST"))
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"], methods=["POST"])
def register() -> Response | tuple[str, int]:
    """Register a new user, then send them to log in. An e-mail address, if
    given, is mailed a link to confirm it."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                form.username.data,
                form.password.data,
                form.email.data,
                links=AddressLinks(
                    confirm=token_link_maker("auth.open_confirm_link"),
                    forgot=site_link("auth.forgot_password"),
                ),
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            flash("Your account is ready. Log in to start writing.")
            if user.is_admin:
                flash(
                    "As the site's first account, you are its administrator:"
                    " set its title, description and icon under Settings."
                )
            if form.email.data:
                flash(
                    f"We sent a link to {form.email.data}: open it to use"
                    " that address for password resets."
                )
            return redirect(url_for("auth.login"))
    return render_form("auth/register.html", form)


@bp.route("/login", methods=("GET", "POST"))
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMITS"],
    methods=["POST"],
    deduct_when=failed_form,
)
def login() -> Response | tuple[str, int]:
    """Log a user in and go where they were going, or to the index."""
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user_id = log_in(form.username.data, form.password.data)
        if user_id is not None:
            start_user_session(user_id)
            return redirect(safe_next(form.next.data) or url_for("index"))
        form.form_errors.append("Incorrect username or password.")
    return render_form("auth/login.html", form)


@bp.route("/logout", methods=("GET", "POST"))
def logout() -> str | Response:
    """Log out with a POST; a GET only asks for confirmation."""
    form = ButtonForm()
    if form.validate_on_submit():
        if g.user is not None:
            log_out(g.user.id, current_session_id())
        end_session()
        flash("You have been logged out.")
        return redirect(url_for("index"))
    return render_template("auth/logout.html", form=form)
