"""Security events as structured log lines: one JSON object per event.

Lines never hold passwords, session tokens or CSRF tokens. A name typed at the
login form is logged only when it is a real account's: an unknown "name" may be
a password typed in the wrong field, so it is logged as a short hash instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing as t

from flask import Flask
from flask import g
from flask import has_request_context
from flask import request

logger = logging.getLogger("flaskr.security")


def log_event(event: str, **fields: t.Any) -> None:
    """Log ``event`` with ``fields`` and, in a request, the client's address."""
    if not logger.isEnabledFor(logging.INFO):
        return
    record: dict[str, t.Any] = {"event": event}
    if has_request_context():
        record["address"] = request.remote_addr
        record["path"] = request.path
        record["request_id"] = g.get("request_id")
    record.update(fields)
    logger.info(json.dumps(record, sort_keys=True, default=str))


def unknown_name(name: str) -> str:
    """A stand-in for a name that is no account's, to correlate attempts."""
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    if logger.level == logging.NOTSET:
        logger.setLevel(app.config["SECURITY_LOG_LEVEL"])
