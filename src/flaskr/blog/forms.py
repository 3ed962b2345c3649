"""Forms of the blog blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField

from ..forms import as_text
from ..forms import Rule
from ..forms import strip
from ..models import BODY_MAX_LENGTH
from ..models import TITLE_MAX_LENGTH
from ..posts import body_problem
from ..posts import title_problem


class PostForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[strip],
        validators=[Rule(title_problem)],
        render_kw={"maxlength": TITLE_MAX_LENGTH, "required": True},
    )
    body = TextAreaField(
        "Body",
        filters=[as_text],
        validators=[Rule(body_problem)],
        render_kw={"maxlength": BODY_MAX_LENGTH, "rows": 12},
    )
