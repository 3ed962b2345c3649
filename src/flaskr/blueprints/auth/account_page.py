"""The account page: the profile, the e-mail address, the username, the
password, sessions, API tokens, mail, export and import, deletion. Each part
is a form of its own that posts to its own URL and, when refused, comes back
on the whole page with its errors."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import stream_with_context
from flask import url_for
from flask_wtf import FlaskForm
from werkzeug import Response

from flaskr.blueprints.auth.forms import ApiTokenForm
from flaskr.blueprints.auth.forms import AvatarForm
from flaskr.blueprints.auth.forms import ChangePasswordForm
from flaskr.blueprints.auth.forms import CommentMailForm
from flaskr.blueprints.auth.forms import DeleteAccountForm
from flaskr.blueprints.auth.forms import EmailForm
from flaskr.blueprints.auth.forms import EndSessionForm
from flaskr.blueprints.auth.forms import ImportForm
from flaskr.blueprints.auth.forms import ProfileForm
from flaskr.blueprints.auth.forms import RenameForm
from flaskr.blueprints.auth.forms import RevokeTokenForm
from flaskr.blueprints.auth.views import bp
from flaskr.blueprints.auth.views import waiting_page
from flaskr.db import utcnow
from flaskr.models.governance import PENDING
from flaskr.services.accounts.recovery import pending_address
from flaskr.services.accounts.sessions import api_tokens_of_user
from flaskr.services.accounts.sessions import browser_name
from flaskr.services.accounts.sessions import end_session_of_user
from flaskr.services.accounts.sessions import end_sessions_of_user
from flaskr.services.accounts.sessions import issue_named_api_token
from flaskr.services.accounts.sessions import log_out
from flaskr.services.accounts.sessions import revoke_api_token
from flaskr.services.accounts.sessions import sessions_of_user
from flaskr.services.accounts.sessions import TokenRefused
from flaskr.services.accounts.users import change_password
from flaskr.services.accounts.users import delete_account
from flaskr.services.base.errors import Invalid
from flaskr.services.portability.exports import export_own_blog
from flaskr.services.portability.imports import ArchiveRefused
from flaskr.services.portability.imports import import_own_zip
from flaskr.services.social.reactions import set_comment_mail
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import current_session_id
from flaskr.web.users import end_session
from flaskr.web.users import fresh_confirmation_required
from flaskr.web.users import login_required
from flaskr.web.users import start_user_session

#: The account page's forms, by the prefix of their fields' names.
ACCOUNT_FORMS: dict[str, type[FlaskForm]] = {
    "profile": ProfileForm,
    "avatar": AvatarForm,
    "import": ImportForm,
    "email": EmailForm,
    "comment_mail": CommentMailForm,
    "rename": RenameForm,
    "password": ChangePasswordForm,
    "sessions": ButtonForm,
    "end": EndSessionForm,
    "token": ApiTokenForm,
    "revoke": RevokeTokenForm,
    "delete": DeleteAccountForm,
}


def account_page(
    new_token: tuple[str, str] | None = None, **sent: FlaskForm
) -> tuple[str, int]:
    """The account page; ``sent`` is a form sent back with its errors (422),
    named by its prefix (``password=form``).

    Empty forms are filled from the account: the profile shows what it holds.

    :param new_token: the name and value of a token just made, shown this once.
    """
    forms = {
        prefix: form_class(prefix=prefix, formdata=None)
        for prefix, form_class in ACCOUNT_FORMS.items()
    }
    profile = forms["profile"]
    profile.display_name.data = g.user.display_name or ""
    profile.bio.data = g.user.bio
    profile.website.data = g.user.website or ""
    forms["comment_mail"].wanted.data = g.user.notify_comments
    forms.update(sent)
    page = render_template(
        "auth/account.html",
        forms=forms,
        sessions=sessions_of_user(g.user.id),
        api_tokens=api_tokens_of_user(g.user.id),
        current_session=current_session_id(),
        browser_name=browser_name,
        pending_address=pending_address(g.user),
        new_token=new_token,
    )
    return page, INVALID_FORM if sent else 200


@bp.route("/account")
@login_required
def account() -> tuple[str, int]:
    """Show the account page."""
    return account_page()


@bp.route("/account/password", methods=["POST"], endpoint="change_password")
@login_required
def change_password_view() -> Response | tuple[str, int]:
    """Change the password; every other session of the user ends."""
    form = ChangePasswordForm(prefix="password")
    if form.validate():
        try:
            change_password(
                g.user,
                form.current_password.data,
                form.new_password.data,
                keep_session=current_session_id(),
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            start_user_session(g.user.id)
            flash("Your password is changed. Every other session was logged out.")
            return redirect(url_for("auth.account"))
    return account_page(password=form)


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions() -> Response:
    """Log out every other browser logged in to this account."""
    ended = end_sessions_of_user(g.user.id, keep=current_session_id())
    flash(f"Logged out {ended} other session{'' if ended == 1 else 's'}.")
    return redirect(url_for("auth.account"))


@bp.route("/account/comment-mail", methods=["POST"])
@login_required
def comment_mail() -> Response:
    """Choose whether to be mailed about comments on one's posts."""
    form = CommentMailForm(prefix="comment_mail")
    if not form.validate():
        abort(400, description="That form is not one Flaskr made.")
    set_comment_mail(g.user, bool(form.wanted.data))
    flash(
        "You will be mailed about new comments."
        if form.wanted.data
        else "You will not be mailed about new comments."
    )
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end", methods=["POST"], endpoint="end_one_session")
@login_required
def end_one_session() -> Response:
    """Log out one browser logged in to this account (this one included)."""
    form = EndSessionForm(prefix="end")
    if not form.validate():
        abort(400, description="That form is not one Flaskr made.")
    session_id = form.session.data
    if session_id == current_session_id():
        # As the header's "Log out" does: this session ends with its cookie.
        log_out(g.user.id, session_id)
        end_session()
        flash("You have been logged out.")
        return redirect(url_for("index"))
    if not end_session_of_user(g.user.id, session_id):
        flash("That session had already ended.")
    else:
        flash("That browser is logged out.")
    return redirect(url_for("auth.account"))


@bp.route("/account/tokens", methods=["POST"], endpoint="create_api_token")
@fresh_confirmation_required
def create_api_token() -> Response | tuple[str, int]:
    """Make a named API token, and show it this once: only its hash is kept."""
    form = ApiTokenForm(prefix="token")
    if form.validate():
        try:
            token = issue_named_api_token(g.user.id, form.name.data)
        except TokenRefused as refused:
            form.name.errors = [str(refused)]
        else:
            page, _ = account_page(new_token=(" ".join(form.name.data.split()), token))
            response = Response(page, mimetype="text/html")
            # The token is in this page alone: no cache keeps a copy.
            response.headers["Cache-Control"] = "no-store"
            return response
    return account_page(token=form)


@bp.route("/account/tokens/revoke", methods=["POST"], endpoint="revoke_api_token")
@login_required
def revoke_api_token_view() -> Response:
    """Revoke one of the account's API tokens: its apps are logged out."""
    form = RevokeTokenForm(prefix="revoke")
    if not form.validate():
        abort(400, description="That form is not one Flaskr made.")
    if revoke_api_token(g.user.id, form.token.data):
        flash("The token is revoked: what used it is logged out.")
    else:
        flash("That token had already ended.")
    return redirect(url_for("auth.account"))


@bp.route("/account/delete", methods=["POST"], endpoint="delete_account")
@login_required
def delete_account_view() -> Response | tuple[str, int]:
    """Delete the account after asking for the password again."""
    form = DeleteAccountForm(prefix="delete")
    if form.validate():
        try:
            delete_account(
                g.user, form.password.data, keep_posts=form.posts.data == "keep"
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            end_session()
            flash("Your account is deleted.")
            return redirect(url_for("index"))
    if g.user.state == PENDING:
        return waiting_page(form)
    return account_page(delete=form)


@bp.route("/account/export", endpoint="export_blog")
@login_required
def export_blog() -> Response:
    """Your posts, pictures, profile, and the comments and likes on your
    posts, as a zip, written as it downloads."""
    name = f"flaskr-{g.user.username}-{utcnow():%Y-%m-%d}.zip"
    response = Response(
        stream_with_context(export_own_blog(g.user)),
        mimetype="application/zip",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


#: Failures listed after an import from the account page.
MAX_SHOWN_FAILURES = 10


@bp.route("/account/import", methods=["POST"], endpoint="import_blog")
@login_required
def import_blog() -> Response | tuple[str, int]:
    """Import one's own posts from a zip: a Flaskr download, or Markdown
    files with front matter; every post becomes this writer's. Says what
    happened, item by item for failures."""
    form = ImportForm(prefix="import")
    upload = form.archive.data
    if not form.validate() or upload is None or not upload.filename:
        form.archive.errors = ["Choose a zip file to import."]
        return account_page(**{"import": form})
    try:
        report = import_own_zip(upload.stream, g.user)
    except ArchiveRefused as error:
        form.archive.errors = [str(error)]
        return account_page(**{"import": form})
    flash(
        f"Imported {report.created['post']} posts and"
        f" {report.created['picture']} pictures;"
        f" {report.skipped['post']} were here already."
    )
    for item, reason in report.failed[:MAX_SHOWN_FAILURES]:
        flash(f"Not imported: {item}: {reason}")
    if len(report.failed) > MAX_SHOWN_FAILURES:
        flash(f"… and {len(report.failed) - MAX_SHOWN_FAILURES} more not imported.")
    return redirect(url_for("auth.account"))
