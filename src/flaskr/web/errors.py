"""Domain errors to HTTP: the services say no, the web floor says which status.

Each handler turns the domain error into the HTTP error that says the same
thing, then lets the app answer that as it answers any HTTP error (an HTML
page here; a blueprint with handlers of its own, such as a JSON API, answers
in its own way).
"""

from __future__ import annotations

from flask import current_app
from flask import Flask
from werkzeug.exceptions import Conflict
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import TooManyRequests
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.wrappers import Response

from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import LockedOut
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.errors import PostChanged


def _answered_as(http_error: HTTPException) -> Response:
    """The app's usual answer to ``http_error``."""
    return current_app.make_response(current_app.handle_http_exception(http_error))


def locked_out(error: LockedOut) -> Response:
    """429 with ``Retry-After``: the account is locked out for a while."""
    return _answered_as(TooManyRequests(str(error), retry_after=error.wait_seconds))


def post_changed(error: PostChanged) -> Response:
    """409: a save over a newer version of the post, refused whole. (The edit
    page catches it itself, to give the writer their text back.)"""
    return _answered_as(Conflict(str(error)))


def not_allowed(error: NotAllowed) -> Response:
    """403 with the service's words: the role or the account's state does
    not allow it."""
    return _answered_as(Forbidden(str(error)))


def invalid(error: Invalid) -> Response:
    """422 with the use case's messages: a refusal no form put beside its
    fields (the views show them on their forms; the JSON API answers its
    own way)."""
    return _answered_as(UnprocessableEntity(str(error)))


def init_app(app: Flask) -> None:
    app.register_error_handler(Invalid, invalid)
    app.register_error_handler(LockedOut, locked_out)
    app.register_error_handler(PostChanged, post_changed)
    app.register_error_handler(NotAllowed, not_allowed)
