"""Strong login's pages: a login's second step, confirming it is you before
a risky change, and the sign-in security page (the authenticator app and
recovery codes; passkeys are :mod:`passkey_pages`')."""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.auth.forms import AppCodeForm
from flaskr.blueprints.auth.forms import ConfirmIdentityForm
from flaskr.blueprints.auth.forms import SecondStepForm
from flaskr.blueprints.auth.views import bp
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts import authenticator
from flaskr.services.accounts import recovery_codes
from flaskr.services.accounts import second_factor
from flaskr.services.accounts.login_policy import check_password_attempt
from flaskr.services.accounts.login_policy import finish_second_step
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import render_form
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import end_second_step
from flaskr.web.users import fresh_confirmation_required
from flaskr.web.users import login_required
from flaskr.web.users import mark_confirmed
from flaskr.web.users import safe_next
from flaskr.web.users import second_step_pending
from flaskr.web.users import start_user_session

#: Pages that show secrets once (a QR code, recovery codes): kept by no cache.
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/login/second-step", methods=("GET", "POST"), endpoint="second_step")
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMITS"],
    methods=["POST"],
    deduct_when=failed_form,
)
def second_step() -> Response | tuple[str, int]:
    """The login's second step: a code from the app, a recovery code, or a
    passkey. Without a password given in this browser first, it sends to
    the login page."""
    pending = second_step_pending()
    if pending is None:
        flash("Log in again: the first step was not done, or took too long.")
        return redirect(url_for("auth.login"))
    user, next_path = pending
    form = SecondStepForm()
    if form.validate_on_submit():
        try:
            step = finish_second_step(user, form.code.data)
        except NotAllowed as refusal:
            end_second_step()
            form.form_errors.append(str(refusal))
            return render_template("auth/second_step.html", form=form, user=user), 403
        if step is not None:
            end_second_step()
            start_user_session(
                user.id, second_factor.method_of(second_factor.PASSWORD, step)
            )
            if step == second_factor.RECOVERY_CODE:
                left = recovery_codes.left(user)
                flash(
                    f"You logged in with a recovery code: {left} left. Make new"
                    " ones under Sign-in security when few are left."
                )
            return redirect(safe_next(next_path) or url_for("index"))
        form.code.errors = [second_factor.WRONG_PROOF]
    return render_form("auth/second_step.html", form, user=user)


@bp.route("/confirm", methods=("GET", "POST"), endpoint="confirm_identity")
@login_required
def confirm_identity() -> Response | tuple[str, int]:
    """Prove it is you again (the password, or a passkey) before a change
    to how the account logs in, then go back."""
    form = ConfirmIdentityForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        if check_password_attempt(g.user, form.password.data):
            mark_confirmed()
            return redirect(safe_next(form.next.data) or url_for("auth.security"))
        form.password.errors = ["That is not your password."]
    return render_form("auth/confirm_identity.html", form)


def security_page(**context: object) -> tuple[str, int, dict[str, str]]:
    """The sign-in security page; ``context`` adds a form sent back (422)."""
    factors = second_factor.factors_of(g.user)
    page = render_template(
        "auth/security.html",
        factors=factors,
        required=second_factor.required_of(g.user),
        button=ButtonForm(),
        app_setup=authenticator.setup_in_progress(g.user),
        app_form=context.pop("app_form", None) or AppCodeForm(formdata=None),
        **context,
    )
    status = INVALID_FORM if context.get("sent_back") else 200
    return page, status, NO_STORE


@bp.route("/account/security", endpoint="security")
@fresh_confirmation_required
def security() -> tuple[str, int, dict[str, str]]:
    """How the account logs in: passkeys, an authenticator app, recovery
    codes."""
    return security_page()


@bp.route("/account/security/app", methods=["POST"], endpoint="security_app_begin")
@fresh_confirmation_required
def begin_app() -> Response | tuple[str, int, dict[str, str]]:
    """Start setting up an authenticator app: the page shows its QR code."""
    if not ButtonForm().validate():
        return security_page(sent_back=True)
    try:
        authenticator.begin_setup(g.user)
    except Invalid as refusal:
        flash(" ".join(refusal.problems["code"]))
    return redirect(url_for("auth.security", _anchor="app"))


@bp.route(
    "/account/security/app/confirm", methods=["POST"], endpoint="security_app_confirm"
)
@fresh_confirmation_required
def confirm_app() -> Response | tuple[str, int, dict[str, str]]:
    """Confirm the app with a first code. An account that had no recovery
    codes gets its first ten, shown once."""
    form = AppCodeForm()
    if not form.validate():
        return security_page(app_form=form, sent_back=True)
    try:
        authenticator.confirm_setup(g.user, form.code.data)
    except Invalid as refusal:
        show_problems(form, refusal)
        return security_page(app_form=form, sent_back=True)
    if recovery_codes.left(g.user) == 0:
        return recovery_codes_page(recovery_codes.make_new(g.user), first=True)
    flash("The authenticator app is set up: logging in now asks for its code.")
    return redirect(url_for("auth.security"))


@bp.route(
    "/account/security/app/remove", methods=["POST"], endpoint="security_app_remove"
)
@fresh_confirmation_required
def remove_app() -> Response | tuple[str, int, dict[str, str]]:
    if not ButtonForm().validate():
        return security_page(sent_back=True)
    if authenticator.remove(g.user):
        flash("The authenticator app is removed.")
    return redirect(url_for("auth.security"))


@bp.route(
    "/account/security/recovery-codes",
    methods=["POST"],
    endpoint="security_recovery_codes",
)
@fresh_confirmation_required
def new_recovery_codes() -> Response | tuple[str, int, dict[str, str]]:
    """Make ten new recovery codes (the old ones stop working), shown once."""
    if not ButtonForm().validate():
        return security_page(sent_back=True)
    return recovery_codes_page(recovery_codes.make_new(g.user), first=False)


def recovery_codes_page(codes: list[str], *, first: bool) -> Response:
    """The page that shows recovery codes, this once: no cache keeps it."""
    text = "\n".join(codes) + "\n"
    page = render_template(
        "auth/recovery_codes.html", codes=codes, as_text=text, first=first
    )
    return Response(page, mimetype="text/html", headers=NO_STORE)
