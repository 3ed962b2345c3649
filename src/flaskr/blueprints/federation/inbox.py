"""The inboxes: each writer's and the shared one.

Remote servers POST signed activities here. Each answer is JSON: 202 taken;
400 malformed, 401 a signature that does not check, 403 a blocked server,
404 no such inbox (or federation off), 413 too large, 415 not JSON, 429 too
many from one server. Requests are counted per server (the ``keyId``'s
host), whatever addresses it sends from.
"""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import Flask
from flask import request
from flask.blueprints import BlueprintSetupState
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug import Response

from flaskr.blueprints.federation.views import bp
from flaskr.plumbing.errors import answer_in_json
from flaskr.plumbing.protection import open_to_other_sites
from flaskr.plumbing.throttle import limiter
from flaskr.services.base.security_log import log_event
from flaskr.services.federation import ids
from flaskr.services.federation import inbox


def _server_key() -> str:
    """What inbox POSTs are counted by: the signing server's domain, read
    from the ``Signature`` header before anything is fetched; the client's
    address for an unsigned request."""
    domain = inbox.claimed_domain(dict(request.headers))
    return f"server:{domain}" if domain else f"address:{get_remote_address()}"


def _log_breach(limit: RequestLimit) -> None:
    log_event(
        "inbox_refused",
        reason="rate limited",
        status=429,
        domain=inbox.claimed_domain(dict(request.headers)),
        limit=str(limit.limit),
    )


_limited = limiter.shared_limit(
    lambda: str(current_app.config["FEDERATION_INBOX_LIMITS"]),
    scope="federation-inbox",
    key_func=_server_key,
    on_breach=_log_breach,
)


def _read_body() -> bytes:
    """The request's body, up to ``FEDERATION_MAX_BYTES``.

    :raise 415: not ActivityStreams JSON.
    :raise 413: longer than the limit.
    """
    media_type = (request.mimetype or "").lower()
    if media_type not in inbox.JSON_TYPES:
        abort(415, description="Send the activity as application/activity+json.")
    limit = int(current_app.config["FEDERATION_MAX_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=f"An activity may be at most {limit} bytes.")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413, description=f"An activity may be at most {limit} bytes.")
    return body


def _take(user_id: int | None) -> tuple[Response, int] | Response:
    body = _read_body()
    target = request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    try:
        inbox.take(request.method, target, dict(request.headers), body, user_id)
    except inbox.InboxRefused as refusal:
        abort(refusal.status, description=str(refusal))
    response = current_app.response_class(status=202)
    return response


@bp.route("/ap/users/<id:user_id>/inbox", methods=["POST"], endpoint="user_inbox")
@_limited
def user_inbox(user_id: int) -> t.Any:
    """Take an activity for one writer."""
    if not ids.federating() or not inbox.has_inbox(user_id):
        abort(404, description="There is no such inbox.")
    return _take(user_id)


@bp.route("/ap/inbox", methods=["POST"], endpoint="shared_inbox")
@_limited
def shared_inbox() -> t.Any:
    """Take an activity for the site: the shared inbox."""
    if not ids.federating():
        abort(404, description="There is no such inbox.")
    return _take(None)


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    app = t.cast(Flask, state.app)
    answer_in_json(app, "/ap")
    # Remote servers, not browsers, post here: no cookie acts for anyone.
    open_to_other_sites(app, bp.name)
