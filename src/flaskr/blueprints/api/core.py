"""The JSON API's blueprint and what every endpoint shares: token
authentication, request bodies, paging parameters, errors, CORS.

Requests are authenticated by ``Authorization: Token <token>`` (or
``Bearer``) only; the session cookie is ignored (``authenticates_by_token``),
so a page on another site cannot act through a reader's browser, and the API
needs no CSRF token. Every error is JSON (``plumbing.errors.answer_in_json``).
"""

from __future__ import annotations

import functools
import typing as t

from flask import Blueprint
from flask import current_app
from flask import Flask
from flask import g
from flask import request
from flask.blueprints import BlueprintSetupState
from werkzeug import Response
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from flaskr.db import MAX_ID
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.plumbing.errors import answer_in_json
from flaskr.plumbing.errors import json_errors
from flaskr.plumbing.protection import open_to_other_sites
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts.directory import get_user
from flaskr.services.accounts.presence import note_seen
from flaskr.services.accounts.sessions import api_token_record
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import LockedOut
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.errors import ServiceError
from flaskr.web.lookups import whole_number
from flaskr.web.users import authenticates_by_token

bp = Blueprint("api", __name__, url_prefix="/api")

View = t.Callable[..., t.Any]

#: Methods that change nothing; the others count toward ``API_WRITE_LIMITS``.
_READING = frozenset({"GET", "HEAD", "OPTIONS"})

#: Headers a browser page on an allowed origin may send (CORS).
_ALLOWED_HEADERS = "Authorization, Content-Type, X-Requested-With"
_ALLOWED_METHODS = "GET, POST, PUT, DELETE"


def unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("Token"))


@bp.before_request
def authenticate() -> None:
    """Set ``g.user`` from the request's token, or ``None`` without one.

    :raise 401: a token that is not (or no longer) valid, even where a
        visitor may read: the client should know its token ended.
    """
    g.user = None
    g.api_token_id = None
    g.api_token = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("token", "bearer") or not token:
        raise unauthorized("Send your token as: Authorization: Token <token>.")
    record = api_token_record(token)
    user = get_user(record.user_id) if record is not None else None
    if record is None or user is None or user.state in WITHDRAWN_STATES:
        raise unauthorized("This token is not valid: log in again for a new one.")
    note_seen(user)
    g.user, g.api_token_id, g.api_token = user, record.id, token


def token_required(view: View) -> View:
    """:raise 401: the request carries no token."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            raise unauthorized("Log in first: this needs your token.")
        return view(**kwargs)

    return wrapped_view


def read_body(name: str) -> dict[str, t.Any]:
    """The object ``name`` of the request's JSON body (``{"user": {...}}``).

    :raise Invalid: the body is not JSON, or has no such object.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get(name), dict):
        raise Invalid.of("body", f'Send a JSON object with an object "{name}" in it.')
    return t.cast(dict[str, t.Any], body[name])


def text_field(
    fields: t.Mapping[str, t.Any], name: str, *, required: bool = False
) -> str | None:
    """The string ``fields[name]``, or ``None`` if absent (or null).

    :raise Invalid: it is required and absent, or not a string.
    """
    value = fields.get(name)
    if value is None:
        if required:
            raise Invalid.of(name, f"{name} is required.")
        return None
    if not isinstance(value, str):
        raise Invalid.of(name, f"{name} must be a string.")
    return value


def whole_number_argument(name: str, default: int, lowest: int, highest: int) -> int:
    """The query argument ``name`` as a whole number in ``[lowest, highest]``.

    :raise Invalid: it is something else.
    """
    text = request.args.get(name)
    if text is None:
        return default
    number = whole_number(text, 0, MAX_ID)
    if number is None:
        raise Invalid.of(name, f"{name} must be a whole number.")
    if not lowest <= number <= highest:
        raise Invalid.of(name, f"{name} must be from {lowest} to {highest}.")
    return number


def page_limit() -> int:
    """``limit``: how many items a list gives (20 unless asked, at most
    ``API_PAGE_LIMIT``)."""
    return whole_number_argument("limit", 20, 1, current_app.config["API_PAGE_LIMIT"])


def page_offset() -> int:
    """``offset``: how many items to skip, at most ``API_MAX_OFFSET``: deeper
    pages follow the ``next`` link, which costs the same at any depth."""
    return whole_number_argument("offset", 0, 0, current_app.config["API_MAX_OFFSET"])


def led_by_field(field: str, message: str) -> str:
    """``message`` as RealWorld's ``errors.body`` carries it: led by the name
    of the field it is about, unless it starts with that name already (as
    "image must be a string." does) or is about the request as a whole."""
    if field == "body" or message.lower().startswith(field.lower() + " "):
        return message
    return f"{field}: {message}"


def spec_messages(problems: t.Mapping[str, list[str]]) -> list[str]:
    """Every message of a refusal, each led by its field, in the order the
    use case found them."""
    return [
        led_by_field(field, message)
        for field, messages in problems.items()
        for message in messages
    ]


@bp.errorhandler(Invalid)
def unprocessable(error: Invalid) -> Response:
    """422 in RealWorld's ``GenericErrorModel``, ``{"errors": {"body": [...]}}``,
    whoever refused: a use case (the domain's ``Invalid``) or the API's own
    reading of the request."""
    response: Response = json_errors({"body": spec_messages(error.problems)}, 422)
    return response


@bp.errorhandler(LockedOut)
def locked_out(error: LockedOut) -> Response:
    response: Response = json_errors({"body": [str(error)]}, 429)
    response.headers["Retry-After"] = str(error.wait_seconds)
    return response


@bp.errorhandler(NotAllowed)
def forbidden(error: NotAllowed) -> Response:
    response: Response = json_errors({"body": [str(error)]}, 403)
    return response


@bp.errorhandler(ServiceError)
def refused(error: ServiceError) -> Response:
    response: Response = json_errors({"body": [str(error)]}, 422)
    return response


@bp.after_request
def allow_origins(response: Response) -> Response:
    """CORS: pages on ``API_CORS_ORIGINS`` may call the API (and see its
    answers); others may not. No cookies are involved, so no credentials."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is None or origin not in current_app.config["API_CORS_ORIGINS"]:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "Retry-After, Link"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = _ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def _reading() -> bool:
    return request.method in _READING


limiter.limit(lambda: current_app.config["API_WRITE_LIMITS"], exempt_when=_reading)(bp)


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    app = t.cast(Flask, state.app)
    answer_in_json(app, bp.url_prefix or "/api")
    authenticates_by_token(app, bp.name)
    open_to_other_sites(app, bp.name)
