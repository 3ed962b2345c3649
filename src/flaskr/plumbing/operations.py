"""Running Flaskr: a health check, request ids, and a structured access log."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

import sqlalchemy as sa
from flask import Flask
from flask import g
from flask import has_request_context
from flask import jsonify
from flask import request
from flask import Response
from flask.logging import default_handler
from sqlalchemy.exc import SQLAlchemyError

from flaskr.db import db
from flaskr.services.base import security_log

access_logger = logging.getLogger("flaskr.access")

#: A request id a proxy or load balancer may pass on; anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_ID_HEADER = "X-Request-ID"


def healthz() -> tuple[Response, int]:
    """For load balancers: 200 when the database answers, 503 when it does not.

    It sets no cookie and reads no session, so it costs one trivial query.
    """
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok"), 200


def request_id_for(given: str) -> str:
    """The id of a request: the one the proxy sent, if it is sane, else a new one."""
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def log_access(
    *,
    request_id: str,
    method: str,
    path: str,
    status: int,
    started: float,
    address: str | None,
    user_id: int | None,
    size: int | None,
    cached: bool = False,
) -> None:
    """Write one request's line to the access log, if its level is on.

    :param started: ``time.perf_counter()`` when the request came in.
    :param cached: whether the page cache answered (Flask never saw it).
    """
    if not access_logger.isEnabledFor(logging.INFO):
        return
    record = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "address": address,
        "user_id": user_id,
        "bytes": size,
        "cached": cached,
    }
    access_logger.info(json.dumps(record, sort_keys=True))


def start_request() -> None:
    """Give the request an id."""
    g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Send the request id back, and log the request as one JSON line."""
    request_id = g.get("request_id")
    if request_id is None:  # the request failed before it started
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    if access_logger.isEnabledFor(logging.INFO):
        user = g.get("user")
        log_access(
            request_id=request_id,
            method=request.method,
            path=request.path,
            status=response.status_code,
            started=g.request_started,
            address=request.remote_addr,
            user_id=user.id if user is not None else None,
            size=response.calculate_content_length(),
        )
    return response


def write_lines_to_stderr(logger: logging.Logger) -> None:
    """Give ``logger`` a handler that writes each message alone on a line to
    stderr, unless logging is configured (it, or an ancestor, has a handler
    other than Flask's default one).

    Without this, gunicorn (which configures only its own loggers) would drop
    the lines; through Flask's default handler they would get a text prefix
    that breaks the JSON.
    """
    ancestor: logging.Logger | None = logger
    while ancestor is not None:
        if any(handler is not default_handler for handler in ancestor.handlers):
            return
        if not ancestor.propagate:
            break
        ancestor = ancestor.parent
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


def access_log_level(app: Flask) -> str:
    """``ACCESS_LOG_LEVEL``, or by default INFO (one line per request), except
    in debug mode, where the development server writes its own line."""
    configured: str | None = app.config["ACCESS_LOG_LEVEL"]
    if configured:
        return configured
    return "WARNING" if app.debug else "INFO"


class RequestFields(logging.Filter):
    """Adds the client's address, the path and the request id to each
    security event logged in a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and isinstance(record.args, tuple):
            for arg in record.args:
                if isinstance(arg, security_log.Event):
                    arg.fields.setdefault("address", request.remote_addr)
                    arg.fields.setdefault("path", request.path)
                    arg.fields.setdefault("request_id", g.get("request_id"))
        return True


def init_app(app: Flask) -> None:
    if not any(isinstance(f, RequestFields) for f in security_log.logger.filters):
        security_log.logger.addFilter(RequestFields())
    app.add_url_rule("/healthz", "healthz", healthz)
    app.before_request(start_request)
    app.after_request(finish_request)
    if access_logger.level == logging.NOTSET:
        access_logger.setLevel(access_log_level(app))
