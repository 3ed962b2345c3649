"""Security events as structured log lines: one JSON object per event.

Lines never hold passwords, session tokens or CSRF tokens. A name typed at the
login form is logged only when it is a real account's: an unknown "name" may be
a password typed in the wrong field, so it is logged as a short hash instead.

In a request, :mod:`flaskr.plumbing.operations` adds the client's address, the
path and the request id to each event (a logging filter), so the services that
log need know nothing of requests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing as t

from flask import Flask

logger = logging.getLogger("flaskr.security")


class Event:
    """One event's fields; written out as JSON when the line is formatted, so
    a filter may add fields first."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, t.Any]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return json.dumps(self.fields, sort_keys=True, default=str)


def log_event(event: str, **fields: t.Any) -> None:
    """Log ``event`` with ``fields``."""
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info("%s", Event({"event": event, **fields}))


def unknown_name(name: str) -> str:
    """A stand-in for a name that is no account's, to correlate attempts."""
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    if logger.level == logging.NOTSET:
        logger.setLevel(app.config["SECURITY_LOG_LEVEL"])
