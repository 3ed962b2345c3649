"""Pieces shared by the blueprints' forms."""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import Field
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import StopValidation

from flaskr.services.base.errors import Invalid

#: Status of a form page sent back because of what was filled in.
INVALID_FORM = 422
#: Status of a form page sent back because what it edits changed meanwhile.
CONFLICT = 409


def render_form(template: str, form: FlaskForm, **context: t.Any) -> tuple[str, int]:
    """A form's page: 200 when first shown, 422 when sent back with its errors."""
    status = INVALID_FORM if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


def show_problems(
    form: FlaskForm, refusal: Invalid, fallback: Field | None = None
) -> None:
    """Put a use case's refusal on the form: each field's messages beside
    that field (the use cases name fields as the forms do); a message for a
    field the form does not have goes beside ``fallback``, or above the form."""
    fields = {field.short_name: field for field in form}
    for name, messages in refusal.problems.items():
        field = fields.get(name, fallback)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


class ButtonForm(FlaskForm):
    """A form with no fields: a button that POSTs with a CSRF token."""


class Rule:
    """A WTForms validator that asks a service function what is wrong.

    The services own the rules (and their messages) so that the HTML forms and
    the JSON API refuse the same input with the same words.
    """

    def __init__(self, problem: t.Callable[[str], str | None]) -> None:
        self.problem = problem

    def __call__(self, form: FlaskForm, field: Field) -> None:
        message = self.problem(field.data or "")
        if message is not None:
            raise StopValidation(message)


Filter = t.Callable[[t.Any], t.Any]


def strip(value: str | None) -> str:
    """Field filter: surrounding white space removed; a missing field is empty."""
    return (value or "").strip()


def as_text(value: str | None) -> str:
    """Field filter: a missing field is empty."""
    return value or ""


class _AlwaysText:
    """A text field whose ``data`` is a string even when the field was not
    sent, so views and services get ``str``.

    A submitted form without the field is read as the field left empty (as
    the tutorial's ``request.form["title"]`` refused it), never as "keep what
    the post had": WTForms would otherwise keep the object's data.
    """

    def __init__(
        self, *args: t.Any, filters: t.Sequence[Filter] = (), **kwargs: t.Any
    ) -> None:
        # A mixin: the next class in line is the WTForms field, which takes
        # these arguments (the type checker sees only ``object``).
        super().__init__(*args, filters=[*filters, as_text], **kwargs)  # type: ignore[call-arg]

    def process_formdata(self, valuelist: list[t.Any]) -> None:
        """Take the sent text; a missing field is empty.

        :raise 400: a file was sent where text belongs.
        """
        if not valuelist:
            self.data = ""
            return
        if not isinstance(valuelist[0], str):
            abort(400, description="A file was sent where text belongs.")
        self.data = valuelist[0]


class TextField(_AlwaysText, StringField):
    """A one-line text input."""

    data: str


class PasswordText(_AlwaysText, PasswordField):
    """A password input."""

    data: str


class TextArea(_AlwaysText, TextAreaField):
    """A multi-line text input."""

    data: str


class HiddenText(_AlwaysText, HiddenField):
    """A hidden input."""

    data: str


class PictureField(FileField):
    """A file input for a picture that names the size limit
    (``data-max-bytes``), so the page's script refuses a larger picture
    before it is sent."""

    def __call__(self, **kwargs: t.Any) -> Markup:
        kwargs.setdefault("data-max-bytes", current_app.config["IMAGE_MAX_BYTES"])
        return t.cast(Markup, super().__call__(**kwargs))
