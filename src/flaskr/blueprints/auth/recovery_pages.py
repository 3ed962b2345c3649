"""Pages for getting an account back: "Forgot your password?", the reset
link, and confirming an e-mail address.

A link from a mail is opened with a GET, which changes nothing: it moves the
token out of the URL into the session (so it leaves no trace in history,
logs or a ``Referer``) and redirects to the page that asks for the POST.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.auth.account_page import account_page
from flaskr.blueprints.auth.forms import EmailForm
from flaskr.blueprints.auth.forms import ForgotPasswordForm
from flaskr.blueprints.auth.forms import ResetPasswordForm
from flaskr.blueprints.auth.forms import ResetWithFactorForm
from flaskr.blueprints.auth.views import bp
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts.recovery import account_to_reset
from flaskr.services.accounts.recovery import confirm_email
from flaskr.services.accounts.recovery import request_email_change
from flaskr.services.accounts.recovery import request_password_reset
from flaskr.services.accounts.recovery import reset_password
from flaskr.services.accounts.second_factor import has_second_factor
from flaskr.services.accounts.second_factor import Proof
from flaskr.services.base.errors import Invalid
from flaskr.services.base.mail import deliver_due_mail
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.site_links import token_link_maker
from flaskr.web.users import fresh_confirmation_required
from flaskr.web.users import passkey_verified_for

#: Session keys of the links opened: the passkey pages read the reset's.
RESET_TOKEN, _CONFIRM_TOKEN = "reset_token", "confirm_email_token"
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


def _forgot_key() -> str:
    """Throttling per account: the username or address asked for."""
    return "forgot:" + request.form.get("login", "").strip().lower()[:320]


@bp.route("/forgot", methods=("GET", "POST"))
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_LIMITS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["FORGOT_PASSWORD_ACCOUNT_LIMITS"],
    methods=["POST"],
    key_func=_forgot_key,
)
def forgot_password() -> Response | tuple[str, int]:
    """Ask for a reset link. The answer is the same page, after the same
    work, whether or not the account or address exists: the look-up and the
    mail happen after the response."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        login, link_for = form.login.data, token_link_maker("auth.open_reset_link")
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def look_up_and_mail() -> None:
            with app.app_context():
                request_password_reset(login, link_for)
                deliver_due_mail()

        response = make_response(render_template("auth/forgot_sent.html"))
        response.call_on_close(look_up_and_mail)
        return response
    return render_form("auth/forgot.html", form)


@bp.route("/reset/<token>")
def open_reset_link(token: str) -> Response:
    session[RESET_TOKEN] = token
    return _without_referrer(redirect(url_for("auth.reset_password_page")))


def _without_referrer(response: Response) -> Response:
    response.headers.update(NO_REFERRER)
    return response


@bp.route("/reset", methods=("GET", "POST"), endpoint="reset_password_page")
def reset_password_view() -> Response | tuple[str, int, dict[str, str]]:
    """Choose a new password with the link opened before (its token is in the
    session); then log in with it."""
    token = session.get(RESET_TOKEN, "")
    user = account_to_reset(token) if isinstance(token, str) else None
    if user is None:
        session.pop(RESET_TOKEN, None)
        page = render_template("auth/link_invalid.html", kind="reset")
        return page, 400, NO_REFERRER
    guarded = has_second_factor(user)
    form = ResetWithFactorForm() if guarded else ResetPasswordForm()
    if form.validate_on_submit():
        proof = None
        if isinstance(form, ResetWithFactorForm):
            proof = Proof(code=form.code.data, passkey_for=passkey_verified_for())
        try:
            changed = reset_password(token, form.new_password.data, proof)
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            if changed is None:  # the link ended since the page was shown
                page = render_template("auth/link_invalid.html", kind="reset")
                return page, 400, NO_REFERRER
            session.pop(RESET_TOKEN, None)
            flash(
                "Your password is changed, and you are logged out everywhere."
                " Log in with the new one."
            )
            return redirect(url_for("auth.login"))
    page, status = render_form(
        "auth/reset.html", form, username=user.username, guarded=guarded
    )
    return page, status, NO_REFERRER


@bp.route("/account/email", methods=["POST"], endpoint="change_email")
@fresh_confirmation_required
def change_email() -> Response | tuple[str, int]:
    """Mail a confirmation link to a new address; it is used once opened."""
    form = EmailForm(prefix="email")
    if form.validate():
        try:
            request_email_change(
                g.user, form.address.data, token_link_maker("auth.open_confirm_link")
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            flash(
                f"We sent a link to {form.address.data}. Open it to use the"
                " address; until then nothing changes."
            )
            return redirect(url_for("auth.account"))
    return account_page(email=form)


@bp.route("/confirm-email/<token>")
def open_confirm_link(token: str) -> Response:
    session[_CONFIRM_TOKEN] = token
    return _without_referrer(redirect(url_for("auth.confirm_email_page")))


@bp.route("/confirm-email", methods=("GET", "POST"), endpoint="confirm_email_page")
def confirm_email_view() -> Response | tuple[str, int, dict[str, str]]:
    """Confirm the address of the link opened before, with a button."""
    token = session.get(_CONFIRM_TOKEN, "")
    if not isinstance(token, str) or not token:
        abort(400, description="Open the link from the mail again.")
    form = ButtonForm()
    if form.validate_on_submit():
        session.pop(_CONFIRM_TOKEN, None)
        try:
            user = confirm_email(token)
        except Invalid:  # another account confirmed the address first
            user = None
        if user is None:
            page = render_template("auth/link_invalid.html", kind="confirm")
            return page, 400, NO_REFERRER
        flash(f"{user.email} is now the address of your account.")
        return redirect(url_for("auth.account" if g.user else "auth.login"))
    return render_template("auth/confirm_email.html", form=form), 200, NO_REFERRER
