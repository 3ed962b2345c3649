"""The forms of the users page and an account's page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField

# types-WTForms predates WTForms 3.3, which added SelectChoice.
from wtforms import SelectChoice  # type: ignore[attr-defined]
from wtforms import SelectField
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange

from flaskr.services.base.roles import ROLE_LABELS
from flaskr.services.governance.members import REASON_MAX_LENGTH
from flaskr.services.governance.members import reason_problem
from flaskr.web.shared_forms import Rule
from flaskr.web.shared_forms import strip
from flaskr.web.shared_forms import TextArea


class RoleForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()],
    )


class ReasonForm(FlaskForm):
    """Suspending: the reason is shown to the account's owner."""

    reason = TextArea(
        "Reason",
        filters=[strip],
        validators=[Rule(reason_problem)],
        description="The account's owner sees it, and the audit log keeps it.",
        render_kw={"maxlength": REASON_MAX_LENGTH, "rows": 3},
    )


class RemoveForm(ReasonForm):
    """Removing, from its confirmation page: the counts it named come back,
    so a removal never takes more than the administrator saw."""

    expected_posts = IntegerField(
        validators=[InputRequired(), NumberRange(min=0)], render_kw={"hidden": True}
    )
    expected_comments = IntegerField(
        validators=[InputRequired(), NumberRange(min=0)], render_kw={"hidden": True}
    )
