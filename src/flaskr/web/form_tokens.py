"""One opened form, one thing made: a form carries a token made when it was
shown, and what sending it made is remembered under that token in the
session, so the same form sent again (Back, then the button again) finds it
instead of making another."""

from __future__ import annotations

import re
import secrets

from flask import session

#: The session's key: form token to the id of what the form made.
_MADE = "made_from_forms"
#: Forms remembered per session; the oldest is forgotten first.
_KEPT = 20
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def is_form_token(text: str) -> bool:
    """Whether ``text`` is a token :func:`new_form_token` could have made."""
    return _TOKEN.fullmatch(text) is not None


def made_from(token: str) -> int | None:
    """The id of what the form with ``token`` made, if it made something."""
    if not is_form_token(token):
        return None
    made = session.get(_MADE, {}).get(token)
    return made if isinstance(made, int) else None


def remember_made_from(token: str, made_id: int) -> None:
    """Remember that the form with ``token`` made ``made_id``."""
    if not is_form_token(token):
        return
    made = {key: value for key, value in session.get(_MADE, {}).items() if key != token}
    made[token] = made_id
    # Assigned anew, so the session knows it changed.
    session[_MADE] = dict(list(made.items())[-_KEPT:])
