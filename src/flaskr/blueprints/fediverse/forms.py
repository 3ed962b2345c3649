"""Forms of the fediverse pages."""

from __future__ import annotations

from flask_wtf import FlaskForm

from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.services.federation.following import HANDLE_MAX_LENGTH
from flaskr.web.shared_forms import strip
from flaskr.web.shared_forms import TextArea
from flaskr.web.shared_forms import TextField


class FollowForm(FlaskForm):
    handle = TextField(
        "Account to follow",
        filters=[strip],
        description="As @name@example.social, or the address of its profile.",
        render_kw={
            "maxlength": HANDLE_MAX_LENGTH,
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "none",
            "placeholder": "@name@example.social",
        },
    )


class ReplyForm(FlaskForm):
    body = TextArea(
        "Your reply",
        description="*Emphasis*, `code` and links work; other marks stay as typed."
        " Your reply is public, on their server too.",
        render_kw={"maxlength": COMMENT_MAX_LENGTH, "rows": 4},
    )
