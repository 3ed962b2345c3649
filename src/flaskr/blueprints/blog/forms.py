"""Forms of the blog blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectChoice  # type: ignore[attr-defined]
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import widgets

from flaskr.models import ALT_MAX_LENGTH
from flaskr.models import BODY_MAX_LENGTH
from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.models import MAX_TAGS_PER_POST
from flaskr.models import SLUG_MAX_LENGTH
from flaskr.models import SUMMARY_MAX_LENGTH
from flaskr.models import TITLE_MAX_LENGTH
from flaskr.models.subscribers import EACH_POST
from flaskr.models.subscribers import WEEKLY
from flaskr.services.base.images import ACCEPTED_TYPES
from flaskr.services.content.editorial import note_problem
from flaskr.services.content.media import alt_problem
from flaskr.services.content.rules import body_problem
from flaskr.services.content.rules import slug_problem
from flaskr.services.content.rules import summary_problem
from flaskr.services.content.rules import time_zones
from flaskr.services.content.rules import title_problem
from flaskr.services.content.rules import typed_tags_problem
from flaskr.services.governance.reports import (
    REASON_MAX_LENGTH as REPORT_REASON_MAX_LENGTH,
)
from flaskr.services.governance.reports import reason_problem as report_reason_problem
from flaskr.services.social import subscriptions
from flaskr.services.social.reactions import comment_problem
from flaskr.web.shared_forms import as_text
from flaskr.web.shared_forms import HiddenText
from flaskr.web.shared_forms import PictureField
from flaskr.web.shared_forms import Rule
from flaskr.web.shared_forms import strip
from flaskr.web.shared_forms import TextArea
from flaskr.web.shared_forms import TextField

#: What the buttons of the post form ask for (the ``action`` field).
PUBLISH, SAVE_DRAFT, SAVE, PREVIEW = "publish", "draft", "save", "preview"
SCHEDULE = "schedule"


class PostForm(FlaskForm):
    title = TextField(
        "Title",
        filters=[strip],
        validators=[Rule(title_problem)],
        # No maxlength: a browser cuts a pasted title short without a word;
        # the script warns while typing, the server says so on saving.
        render_kw={
            "data-max-length": TITLE_MAX_LENGTH,
            "required": True,
            "placeholder": "Title",
            "autocomplete": "off",
            "dir": "auto",
        },
    )
    body = TextArea(
        "Body",
        filters=[as_text],
        validators=[Rule(body_problem)],
        description=(
            "Markdown: # headings, *emphasis*, **strong**, - lists, > quotes,"
            " `code`, [links](https://example.org). HTML is shown as text."
        ),
        render_kw={
            "maxlength": BODY_MAX_LENGTH,
            "rows": 18,
            "placeholder": "Write your post…",
            "dir": "auto",
        },
    )
    image_file = PictureField(
        "Cover picture",
        description="Optional: a JPEG, PNG, WebP or GIF picture, up to 5 MB,"
        " shown above the text and in lists.",
        render_kw={"accept": ACCEPTED_TYPES},
    )
    image_alt = TextField(
        "Cover description (alt text)",
        filters=[strip],
        description="What the image shows, for people who cannot see it. Required"
        " with an image.",
        render_kw={"maxlength": ALT_MAX_LENGTH},
    )
    remove_image = BooleanField("Remove the cover picture")
    #: The image chosen earlier and held for the writer (across previews and
    #: forms sent back), by its ``HeldImage`` id.
    held_image = HiddenText()
    drop_held_image = BooleanField("Do not use this image")
    tags = TextField(
        "Tags",
        filters=[strip],
        validators=[Rule(typed_tags_problem)],
        description=(
            f"Up to {MAX_TAGS_PER_POST}, separated by commas. Letters and digits;"
            " spaces become hyphens."
        ),
    )
    summary = TextArea(
        "Summary",
        filters=[as_text],
        validators=[Rule(summary_problem)],
        description=(
            f"Optional, up to {SUMMARY_MAX_LENGTH} characters: what lists, feeds"
            " and link previews show. Empty: the start of the text."
        ),
        render_kw={"maxlength": SUMMARY_MAX_LENGTH, "rows": 2},
    )
    slug = TextField(
        "Address",
        filters=[strip],
        validators=[Rule(slug_problem)],
        description=(
            "The end of the post's address, /p/…: lower-case letters, digits and"
            " hyphens. Empty: made from the title."
        ),
        render_kw={"maxlength": SLUG_MAX_LENGTH, "autocapitalize": "none"},
    )
    publish_at = TextField(
        "Publish at",
        filters=[strip],
        description="For “Schedule”: a date and time to come, in the zone below.",
        render_kw={"type": "datetime-local"},
    )
    time_zone = SelectField(
        "Time zone",
        # Checked by the schedule's rule, with its own message.
        choices=lambda: [(zone, zone) for zone in time_zones()],
        validate_choice=False,
        render_kw={"autocomplete": "off"},
    )
    #: Kept out of the newsletter (``Post.mail_subscribers`` false): read
    #: when the post comes out, so it counts only until then.
    no_mail = BooleanField(
        "Do not mail this post to subscribers",
        description="It still shows on the site and in feeds.",
    )
    #: The post's version when the edit form was opened (kept across previews).
    version = HiddenText()
    #: Made once per opened new-post form: the post it made (by an autosave
    #: or a save) is remembered under it, so sending the form again (Back,
    #: then Publish) edits that post instead of making a second one.
    form_token = HiddenText()


class CommentForm(FlaskForm):
    body = TextArea(
        "Your comment",
        filters=[as_text],
        validators=[Rule(comment_problem)],
        description="*Emphasis*, `code` and links work; other marks stay as typed.",
        render_kw={"maxlength": COMMENT_MAX_LENGTH, "rows": 4},
    )


class RestoreForm(FlaskForm):
    """Restoring a revision: the post's version when its history was shown."""

    version = HiddenText()


class ReturnForm(FlaskForm):
    """Returning a submitted draft to its writer (``/review``; prefix
    ``return``)."""

    note = TextArea(
        "Note to the writer",
        description="Optional: what to change before it is published.",
        validators=[Rule(note_problem)],
        filters=[as_text],
    )


class MediaForm(FlaskForm):
    picture = PictureField(
        "Picture",
        description="A JPEG, PNG, WebP or GIF image, up to 5 MB.",
        render_kw={"accept": ACCEPTED_TYPES},
    )
    alt = TextField(
        "Description (alt text)",
        filters=[strip],
        validators=[Rule(alt_problem)],
        description="What the picture shows, for people who cannot see it.",
        render_kw={"maxlength": ALT_MAX_LENGTH},
    )


class ReportForm(FlaskForm):
    reason = TextArea(
        "What is wrong with it?",
        filters=[strip],
        validators=[Rule(report_reason_problem)],
        description="The moderators read this; the writer does not see who reported.",
        render_kw={"maxlength": REPORT_REASON_MAX_LENGTH, "rows": 4},
    )


#: The prefix of the follow-by-mail form's fields: it shares pages with others.
SUBSCRIBE_PREFIX = "subscribe"


class SubscribeForm(FlaskForm):
    """An address to mail new posts to, and what to follow (``to``)."""

    email = TextField(
        "Your e-mail address",
        filters=[strip],
        validators=[Rule(subscriptions.address_problem)],
        render_kw={
            "autocomplete": "email",
            "type": "email",
            "maxlength": subscriptions.MAX_ADDRESS_LENGTH,
            "autocapitalize": "none",
            "spellcheck": "false",
            "placeholder": "you@example.com",
        },
    )
    #: ``site``, or a writer's id (:func:`subscriptions.follow_value`).
    to = HiddenText(filters=[strip])
    #: The honeypot: hidden from people and screen readers; bots fill it.
    homepage = TextField(
        "Leave this empty",
        filters=[strip],
        render_kw={"tabindex": "-1", "autocomplete": "off", "maxlength": 200},
    )
    #: When the form was made (signed), to refuse forms sent too fast.
    form_started = HiddenText()


class PreferencesForm(FlaskForm):
    """What a subscriber keeps following, and how often it is mailed."""

    site = SelectMultipleField(
        choices=[SelectChoice(subscriptions.SITE, "Everything")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,
    )
    writers = SelectMultipleField(
        "Writers",
        coerce=str,
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,
    )
    cadence = RadioField(
        "How often",
        choices=[
            SelectChoice(EACH_POST, "Each post, as it comes out"),
            SelectChoice(WEEKLY, "One mail a week with the week's posts"),
        ],
        validate_choice=False,
    )
