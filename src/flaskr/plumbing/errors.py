"""Error pages: every HTTP error is shown in the site's style, never a traceback.

Under a path given to :func:`answer_in_json` (the JSON API's), errors are JSON
instead: ``{"errors": {"body": ["what went wrong"]}}``, RealWorld's shape.
"""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from flaskr.db import db

#: What each error page tells the visitor, in words for people, not protocols.
EXPLANATIONS = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "You do not have permission to do that.",
    404: "There is nothing at this address. It may have been deleted or mistyped.",
    405: "That address does not accept this kind of request.",
    413: "What you sent is too large. Shorten it and try again.",
    429: "Too many requests. Please wait a little and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}

CSRF_EXPLANATION = (
    "This form has expired or was not sent from this site, so nothing was changed."
    " Go back, reload the page and submit the form again."
)


#: ``app.extensions`` key: the path prefixes whose errors are JSON.
_JSON_PREFIXES = "flaskr.errors.json_prefixes"


def answer_in_json(app: Flask, prefix: str) -> None:
    """Answer errors under ``prefix`` (a path such as ``/api``) in JSON."""
    app.extensions.setdefault(_JSON_PREFIXES, []).append(prefix.rstrip("/"))


def _is_json_path(path: str) -> bool:
    return any(
        path == prefix or path.startswith(prefix + "/")
        for prefix in current_app.extensions.get(_JSON_PREFIXES, ())
    )


def json_errors(messages: t.Mapping[str, list[str]], code: int) -> t.Any:
    """A JSON error response in RealWorld's shape."""
    response = jsonify({"errors": messages})
    response.status_code = code
    return response


def render_error(error: HTTPException) -> t.Any:
    code = error.code or 500
    if _is_json_path(request.path):
        response = json_errors({"body": [_explanation(error, code)]}, code)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    page = render_template(
        "errors/error.html",
        code=code,
        name=error.name,
        explanation=_explanation(error, code),
    )
    # Keep what the error says in headers, such as Allow (405) and Retry-After.
    headers = [
        (name, value)
        for name, value in error.get_headers()
        if name.lower() != "content-type"
    ]
    return page, code, headers


def _explanation(error: HTTPException, code: int) -> str:
    if isinstance(error, CSRFError):
        explanation = CSRF_EXPLANATION
    elif isinstance(error, RateLimitExceeded):
        explanation = EXPLANATIONS[429]  # Its description is the limit's text.
    elif error.description != type(error).description:
        explanation = error.description or ""  # Written for this case by a view.
    else:
        explanation = EXPLANATIONS.get(code, error.description or "")
    return explanation


def render_internal_error(error: InternalServerError) -> t.Any:
    # Whatever the failed request wrote was not committed; drop it.
    db.session.rollback()
    return render_error(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(InternalServerError, render_internal_error)
