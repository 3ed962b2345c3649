"""Pieces shared by the blueprints' forms."""

from __future__ import annotations

import typing as t

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import StopValidation

#: Status of a form page sent back because of what was filled in.
INVALID_FORM = 422


def render_form(template: str, form: FlaskForm, **context: t.Any) -> tuple[str, int]:
    """A form's page: 200 when first shown, 422 when sent back with its errors."""
    status = INVALID_FORM if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


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


def strip(value: str | None) -> str:
    """Field filter: surrounding white space removed; a missing field is empty."""
    return (value or "").strip()


def as_text(value: str | None) -> str:
    """Field filter: a missing field is empty."""
    return value or ""
