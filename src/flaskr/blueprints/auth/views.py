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

from flaskr.blueprints.auth.forms import DeleteAccountForm
from flaskr.blueprints.auth.forms import LoginForm
from flaskr.blueprints.auth.forms import RegisterForm
from flaskr.models import User
from flaskr.models.governance import PENDING
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts import joining
from flaskr.services.accounts import users as accounts
from flaskr.services.accounts.directory import get_user
from flaskr.services.accounts.login_policy import log_in
from flaskr.services.accounts.second_factor import has_second_factor
from flaskr.services.accounts.sessions import log_out
from flaskr.services.accounts.users import AddressLinks
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.web.bot_check import form_started_stamp
from flaskr.web.bot_check import refused_as_bot
from flaskr.web.bot_check import REFUSED_MESSAGE
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.site_links import site_link
from flaskr.web.site_links import token_link_maker
from flaskr.web.users import begin_second_step
from flaskr.web.users import current_session_id
from flaskr.web.users import end_session
from flaskr.web.users import login_required
from flaskr.web.users import safe_next
from flaskr.web.users import start_user_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=("GET", "POST"))
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"], methods=["POST"])
def register() -> Response | tuple[str, int]:
    """Register a new user, then send them to log in. An e-mail address, if
    given, is mailed a link to confirm it. Who may join decides whether the
    form is offered (``joining.entry``); a form that looks sent by a bot
    makes no account (400)."""
    form = RegisterForm()
    if not form.is_submitted():
        form.invitation.data = request.args.get("invitation", "")[:200]
    terms = joining.entry(form.invitation.data or None)
    if not terms.allowed:
        return render_template("auth/register.html", form=None, terms=terms), 403
    if form.is_submitted() and refused_as_bot(
        form.homepage.data or "", form.form_started.data or ""
    ):
        form.form_started.data = form_started_stamp()
        form.homepage.data = ""
        form.form_errors.append(REFUSED_MESSAGE)
        return render_template("auth/register.html", form=form, terms=terms), 400
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
                invitation=form.invitation.data or None,
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        except NotAllowed as refusal:
            refused = joining.Entry(False, str(refusal))
            return render_template("auth/register.html", form=None, terms=refused), 403
        else:
            _flash_welcome(user, form.email.data)
            return redirect(url_for("auth.login"))
    form.form_started.data = form_started_stamp()
    return render_form("auth/register.html", form, terms=terms)


def _flash_welcome(user: User, address: str) -> None:
    if user.state == PENDING:
        flash(
            "Your account is made and waits for approval by a moderator. You can"
            " log in to see when it is approved."
        )
    else:
        flash("Your account is ready. Log in to start writing.")
    if user.is_admin:
        flash(
            "As the site's first account, you are its administrator:"
            " set its title, description and icon under Settings."
        )
    if address:
        flash(
            f"We sent a link to {address}: open it to use"
            " that address for password resets."
        )


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
        try:
            user_id = log_in(form.username.data, form.password.data)
        except NotAllowed as refusal:
            form.form_errors.append(str(refusal))
            return render_template("auth/login.html", form=form), 403
        user = get_user(user_id) if user_id is not None else None
        if user is not None and has_second_factor(user):
            begin_second_step(user.id, safe_next(form.next.data) or "")
            return redirect(url_for("auth.second_step"))
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


@bp.route("/waiting", endpoint="waiting")
@login_required
def waiting() -> Response | tuple[str, int]:
    """What an account waiting for approval sees instead of every page."""
    if g.user.state != PENDING:
        return redirect(url_for("index"))
    return waiting_page()


def waiting_page(delete_form: DeleteAccountForm | None = None) -> tuple[str, int]:
    """The waiting page, with the deletion form in its error state if sent."""
    return render_template(
        "auth/waiting.html",
        logout_form=ButtonForm(),
        delete_form=delete_form or DeleteAccountForm(prefix="delete"),
    ), (INVALID_FORM if delete_form is not None else 200)
