"""The forms of the administrator's pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]

# types-WTForms predates WTForms 3.3, which added SelectChoice.
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from flaskr.models import ABOUT_MAX_LENGTH
from flaskr.models import SITE_DESCRIPTION_MAX_LENGTH
from flaskr.models import SITE_TITLE_MAX_LENGTH
from flaskr.models.federation import DOMAIN_MAX_LENGTH
from flaskr.models.governance import AUTHOR
from flaskr.services.accounts.joining import INVITATION_DAYS_MAX
from flaskr.services.accounts.joining import invitation_days_problem
from flaskr.services.accounts.joining import JOIN_MODE_LABELS
from flaskr.services.accounts.joining import refused_domains_problem
from flaskr.services.base.images import ACCEPTED_TYPES
from flaskr.services.base.roles import JOINING_ROLES
from flaskr.services.base.roles import ROLE_LABELS
from flaskr.services.base.site import about_problem
from flaskr.services.base.site import description_problem
from flaskr.services.base.site import title_problem
from flaskr.services.federation.blocks import (
    REASON_MAX_LENGTH as BLOCK_REASON_MAX_LENGTH,
)
from flaskr.services.social.comment_policy import POLICY_LABELS
from flaskr.services.social.comment_policy import policy_problem
from flaskr.services.social.hold_rules import ACCOUNT_HOURS_MAX
from flaskr.services.social.hold_rules import LINK_LIMIT_MAX
from flaskr.services.social.hold_rules import RULE_LABELS
from flaskr.services.social.hold_rules import WORDS_MAX_LENGTH
from flaskr.web.shared_forms import as_text
from flaskr.web.shared_forms import HiddenText
from flaskr.web.shared_forms import PictureField
from flaskr.web.shared_forms import Rule
from flaskr.web.shared_forms import strip
from flaskr.web.shared_forms import TextArea
from flaskr.web.shared_forms import TextField


class IdentityForm(FlaskForm):
    title = TextField(
        "Site title",
        filters=[strip],
        validators=[Rule(title_problem)],
        description="In the header of every page and in feeds. Empty: the default.",
        render_kw={"maxlength": SITE_TITLE_MAX_LENGTH},
    )
    description = TextArea(
        "Description",
        filters=[strip],
        validators=[Rule(description_problem)],
        description=("One or two sentences for the footer, feeds and link previews."),
        render_kw={"maxlength": SITE_DESCRIPTION_MAX_LENGTH, "rows": 2},
    )
    about = TextArea(
        "About page",
        filters=[as_text],
        validators=[Rule(about_problem)],
        description=(
            "Markdown, as in posts; the footer links to it. Empty: no About page."
        ),
        render_kw={"maxlength": ABOUT_MAX_LENGTH, "rows": 10},
    )
    serif_body = BooleanField("Set the text of posts in a serif typeface")


class IconForm(FlaskForm):
    picture = PictureField(
        "New icon",
        description=(
            "A JPEG, PNG, WebP or GIF image, up to 5 MB; its middle square becomes"
            " the logo in the header, the browser tab's icon and the home-screen"
            " icon."
        ),
        render_kw={"accept": ACCEPTED_TYPES},
    )


class CommentSettingsForm(FlaskForm):
    """Who may comment, and which comments wait for a moderator."""

    policy = RadioField(
        "Who may comment",
        choices=[SelectChoice(value, label) for value, label in POLICY_LABELS.items()],
        validators=[Rule(policy_problem)],
    )
    rules = SelectMultipleField(
        "Hold for a moderator",
        choices=[SelectChoice(value, label) for value, label in RULE_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    link_limit = IntegerField(
        "Most links a comment may carry",
        description="With more, the “links” rule holds it.",
        render_kw={"min": 0, "max": LINK_LIMIT_MAX, "inputmode": "numeric"},
    )
    words = TextArea(
        "Listed words",
        filters=[as_text],
        description=(
            "One word or phrase a line, matched as whole words whatever their case."
        ),
        render_kw={"maxlength": WORDS_MAX_LENGTH, "rows": 5},
    )
    account_hours = IntegerField(
        "A young account is younger than (hours)",
        render_kw={"min": 0, "max": ACCOUNT_HOURS_MAX, "inputmode": "numeric"},
    )


class JoiningForm(FlaskForm):
    """Who may join (``joining.update_join_settings`` checks each field)."""

    join_mode = SelectField(
        "Who may join",
        choices=[SelectChoice(mode, label) for mode, label in JOIN_MODE_LABELS.items()],
        validate_choice=False,
    )
    default_role = SelectField(
        "Role of new accounts",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in JOINING_ROLES],
        validate_choice=False,
        description="Invitations give the role chosen for each.",
    )
    refused_email_domains = TextArea(
        "Refused e-mail domains",
        filters=[as_text],
        validators=[Rule(refused_domains_problem)],
        description=(
            "One domain a line, like example.com; its subdomains are refused too."
            " Nobody registers or changes their address to one of these."
        ),
        render_kw={"rows": 4, "autocapitalize": "none", "spellcheck": "false"},
    )


def _days_rule(value: str) -> str | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        return "Enter a number of days."
    return invitation_days_problem(int(value))


class InvitationForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in JOINING_ROLES],
        validate_choice=False,
        default=AUTHOR,
    )
    days = TextField(
        "Days the link works",
        filters=[strip],
        validators=[Rule(_days_rule)],
        description=f"From 1 to {INVITATION_DAYS_MAX}; empty: the site's default.",
        render_kw={"inputmode": "numeric", "maxlength": 3},
    )


class WithdrawInvitationForm(FlaskForm):
    invitation_id = HiddenText()


class SubscriberVisibilityForm(FlaskForm):
    """What writers see of their subscribers."""

    writers_see = BooleanField(
        "Writers see their subscribers' addresses",
        description=(
            "And may export, import and remove them. Off: writers see how many"
            " follow them; administrators always see every address."
        ),
    )


class SecondFactorRuleForm(FlaskForm):
    """Whether administrators and editors must have a second factor."""

    required = BooleanField("Require a second factor of administrators and editors")


class BlockForm(FlaskForm):
    domain = StringField(
        "Domain",
        description="Its subdomains are blocked too. Its followers of this site's"
        " writers are removed, and nothing more is sent to it.",
        filters=[strip],
        validators=[
            InputRequired("Give a domain name, such as social.example."),
            Length(max=DOMAIN_MAX_LENGTH),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    reason = StringField(
        "Reason",
        description="For other administrators; the server is not told.",
        filters=[strip],
        validators=[Length(max=BLOCK_REASON_MAX_LENGTH)],
    )


class UnblockForm(FlaskForm):
    domain = HiddenField(validators=[InputRequired()])
