"""The forms of the administrator's pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from flaskr.models import ABOUT_MAX_LENGTH
from flaskr.models import SITE_DESCRIPTION_MAX_LENGTH
from flaskr.models import SITE_TITLE_MAX_LENGTH
from flaskr.services.base.images import ACCEPTED_TYPES
from flaskr.services.base.site import about_problem
from flaskr.services.base.site import description_problem
from flaskr.services.base.site import title_problem
from flaskr.services.social.comment_policy import POLICY_LABELS
from flaskr.services.social.comment_policy import policy_problem
from flaskr.services.social.hold_rules import ACCOUNT_HOURS_MAX
from flaskr.services.social.hold_rules import LINK_LIMIT_MAX
from flaskr.services.social.hold_rules import RULE_LABELS
from flaskr.services.social.hold_rules import WORDS_MAX_LENGTH
from flaskr.web.shared_forms import as_text
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
