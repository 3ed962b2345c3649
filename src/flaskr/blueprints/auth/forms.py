"""Forms of the auth blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField
from wtforms import RadioField

# types-WTForms predates WTForms 3.3, which added SelectChoice.
from wtforms import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired
from wtforms.validators import StopValidation

from flaskr.models import API_TOKEN_NAME_MAX_LENGTH
from flaskr.models import BIO_MAX_LENGTH
from flaskr.models import DISPLAY_NAME_MAX_LENGTH
from flaskr.models import USERNAME_MAX_LENGTH
from flaskr.models import WEBSITE_MAX_LENGTH
from flaskr.models.factors import PASSKEY_NAME_MAX_LENGTH
from flaskr.services.accounts.directory import USERNAME_CHARACTERS_HELP
from flaskr.services.accounts.directory import username_problem
from flaskr.services.accounts.passkeys import name_problem as passkey_name_problem
from flaskr.services.accounts.passwords import PASSWORD_MAX_LENGTH
from flaskr.services.accounts.passwords import PASSWORD_MIN_LENGTH
from flaskr.services.accounts.passwords import password_problem
from flaskr.services.accounts.profiles import bio_problem
from flaskr.services.accounts.profiles import display_name_problem
from flaskr.services.accounts.profiles import website_problem
from flaskr.services.accounts.recovery import email_problem
from flaskr.services.accounts.sessions import token_name_problem
from flaskr.services.base.images import ACCEPTED_TYPES
from flaskr.web.shared_forms import as_text
from flaskr.web.shared_forms import HiddenText
from flaskr.web.shared_forms import PasswordText
from flaskr.web.shared_forms import PictureField
from flaskr.web.shared_forms import Rule
from flaskr.web.shared_forms import strip
from flaskr.web.shared_forms import TextArea
from flaskr.web.shared_forms import TextField


class RegisterForm(FlaskForm):
    username = TextField(
        "Username",
        filters=[strip],
        validators=[Rule(username_problem)],
        description=f"Up to {USERNAME_MAX_LENGTH} {USERNAME_CHARACTERS_HELP}.",
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordText(
        "Password",
        filters=[as_text],
        description=(
            f"At least {PASSWORD_MIN_LENGTH} characters; any characters, spaces"
            " included. Very common passwords are refused."
        ),
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )

    email = TextField(
        "E-mail address (optional)",
        filters=[strip],
        validators=[Rule(lambda value: email_problem(value) if value else None)],
        description=(
            "To reset your password if you forget it. Never shown to others;"
            " we mail it a link to confirm it."
        ),
        render_kw={"autocomplete": "email", "type": "email", "maxlength": 320},
    )
    #: The honeypot: hidden from people and screen readers; bots fill it.
    homepage = TextField(
        "Leave this empty",
        filters=[strip],
        render_kw={"tabindex": "-1", "autocomplete": "off", "maxlength": 200},
    )
    #: When the form was shown (signed), to refuse forms sent too fast.
    form_started = HiddenText(filters=[as_text])
    #: The invitation link's token, kept from the link.
    invitation = HiddenText(filters=[strip])

    def validate_password(self, field: PasswordText) -> None:
        message = password_problem(field.data, self.username.data)
        if message is not None:
            raise StopValidation(message)


def _required(message: str) -> Rule:
    return Rule(lambda value: None if value else message)


class LoginForm(FlaskForm):
    username = TextField(
        "Username",
        filters=[strip],
        validators=[_required("Username is required.")],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordText(
        "Password",
        filters=[as_text],
        validators=[_required("Password is required.")],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenText(filters=[as_text])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordText(
        "Current password",
        filters=[as_text],
        validators=[_required("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordText(
        "New password",
        filters=[as_text],
        description=RegisterForm.password.kwargs["description"],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordText(
        "Your password",
        filters=[as_text],
        validators=[_required("Enter your password to delete your account.")],
        render_kw={"autocomplete": "current-password"},
    )
    posts = RadioField(
        "Your posts",
        choices=[
            SelectChoice("keep", "Keep them on the blog, shown as by “deleted user”"),
            SelectChoice("delete", "Delete them too"),
        ],
        validators=[InputRequired("Choose what happens to your posts.")],
    )


def _email_rule(value: str) -> str | None:
    return email_problem(value) if value else "Enter an e-mail address."


class EmailForm(FlaskForm):
    address = TextField(
        "E-mail address",
        filters=[strip],
        validators=[Rule(_email_rule)],
        description="Never shown to others. Used to reset your password.",
        render_kw={"autocomplete": "email", "type": "email", "maxlength": 320},
    )


class ForgotPasswordForm(FlaskForm):
    login = TextField(
        "Username or e-mail address",
        filters=[strip],
        validators=[_required("Enter your username or e-mail address.")],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )


class ResetPasswordForm(FlaskForm):
    new_password = PasswordText(
        "New password",
        filters=[as_text],
        description=RegisterForm.password.kwargs["description"],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )


#: A field for an app's code or a recovery code: no capitals or spelling
#: fixes, and room for a recovery code typed with spaces.
_SECOND_FACTOR_CODE = {
    "autocomplete": "one-time-code",
    "autocapitalize": "none",
    "spellcheck": "false",
    "maxlength": 40,
}


class ResetWithFactorForm(ResetPasswordForm):
    """The reset form of an account with a second factor."""

    code = TextField(
        "Code from your authenticator app, or a recovery code",
        filters=[strip],
        render_kw=_SECOND_FACTOR_CODE,
    )


class SecondStepForm(FlaskForm):
    code = TextField(
        "Code",
        filters=[strip],
        validators=[_required("Type the code.")],
        description="The 6 digits your authenticator app shows, or a recovery code.",
        render_kw=_SECOND_FACTOR_CODE,
    )


class AppCodeForm(FlaskForm):
    code = TextField(
        "Code the app shows",
        filters=[strip],
        validators=[_required("Type the code the app shows.")],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "maxlength": 10,
        },
    )


class ConfirmIdentityForm(FlaskForm):
    password = PasswordText(
        "Password",
        filters=[as_text],
        validators=[_required("Password is required.")],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenText(filters=[as_text])


class ProfileForm(FlaskForm):
    display_name = TextField(
        "Name",
        filters=[strip],
        validators=[Rule(display_name_problem)],
        description="Optional: shown beside your @username on your posts.",
        render_kw={"maxlength": DISPLAY_NAME_MAX_LENGTH, "autocomplete": "name"},
    )
    bio = TextArea(
        "Bio",
        filters=[as_text],
        validators=[Rule(bio_problem)],
        description=(
            f"Up to {BIO_MAX_LENGTH} characters on your author page. Links,"
            " *emphasis* and `code` work."
        ),
        render_kw={"maxlength": BIO_MAX_LENGTH, "rows": 4},
    )
    website = TextField(
        "Website",
        filters=[strip],
        validators=[Rule(website_problem)],
        render_kw={
            "maxlength": WEBSITE_MAX_LENGTH,
            "autocomplete": "url",
            "inputmode": "url",
        },
    )


class AvatarForm(FlaskForm):
    picture = PictureField(
        "New picture",
        description=(
            "A JPEG, PNG, WebP or GIF image, up to 5 MB; its middle square is kept."
        ),
        render_kw={"accept": ACCEPTED_TYPES},
    )


class ImportForm(FlaskForm):
    archive = FileField(
        "Your blog as a zip",
        description=(
            "A zip from \u201cDownload your blog\u201d, or of Markdown files with"
            " front matter (Jekyll, Hugo), up to 5 MB. Posts already here are kept."
        ),
        render_kw={"accept": ".zip,application/zip"},
    )


class RenameForm(FlaskForm):
    username = TextField(
        "New username",
        filters=[strip],
        validators=[Rule(username_problem)],
        description=RegisterForm.username.kwargs["description"],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordText(
        "Your password",
        filters=[as_text],
        validators=[_required("Enter your password to change your username.")],
        render_kw={"autocomplete": "current-password"},
    )


class EndSessionForm(FlaskForm):
    #: The ``AuthSession`` id of the session to end.
    session = HiddenText(filters=[as_text])


class CommentMailForm(FlaskForm):
    wanted = BooleanField("Mail me when someone comments on my posts")


class ApiTokenForm(FlaskForm):
    name = TextField(
        "Name of a new token",
        filters=[strip],
        validators=[Rule(token_name_problem)],
        description="What will use it, such as “Backup script” or “Phone app”.",
        render_kw={"maxlength": API_TOKEN_NAME_MAX_LENGTH, "autocomplete": "off"},
    )


class RevokeTokenForm(FlaskForm):
    #: The ``ApiToken`` id of the token to revoke.
    token = HiddenText(filters=[as_text])


class PasskeyNameForm(FlaskForm):
    """A passkey's new name (one form per passkey, prefixed with its id)."""

    name = TextField(
        "New name",
        filters=[strip],
        validators=[Rule(passkey_name_problem)],
        render_kw={"maxlength": PASSKEY_NAME_MAX_LENGTH, "autocomplete": "off"},
    )
