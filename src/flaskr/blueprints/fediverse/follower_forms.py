"""The forms of a writer's fediverse followers page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class ApprovalForm(FlaskForm):
    approve = BooleanField(
        "Approve new followers from the fediverse",
        description="Each new follower waits here until you approve them. Turning"
        " this off accepts everyone waiting.",
    )
