"""Mail goes out after the response, never inside it.

A request whose transaction recorded a mail (``services.mail.record_mail``)
sends the due mails once its response is on its way, so the visitor never
waits for the SMTP server (and a reset page takes as long whether or not it
recorded a mail). Every worker also looks for mail due again (a retry, or one
a dead worker left) after a response now and then (``MAIL_RETRY_INTERVAL``),
and ``flask --app flaskr send-mail`` does the same from cron.
"""

from __future__ import annotations

import logging
import time
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask import Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.base.mail import has_due_mail
from flaskr.services.base.mail import mail_logger

_RECORDED = "flaskr_mail_recorded"
_COMMITTED = "flaskr_mail_committed"


@event.listens_for(Session, "after_flush")
def _note_recorded_mail(session: Session, context: t.Any) -> None:
    if any(isinstance(obj, OutboxMail) for obj in session.new):
        session.info[_RECORDED] = True


@event.listens_for(Session, "after_commit")
def _note_committed_mail(session: Session) -> None:
    if session.info.pop(_RECORDED, False):
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_mail(session: Session) -> None:
    session.info.pop(_RECORDED, None)


class _RetryClock:
    """When this worker last looked for mail due again."""

    def __init__(self) -> None:
        self.last_look = time.monotonic()

    def due(self, interval: float) -> bool:
        now = time.monotonic()
        if now - self.last_look < interval:
            return False
        self.last_look = now
        return True


def _deliver(app: Flask, look_first: bool) -> None:
    with app.app_context():
        try:
            if not look_first or has_due_mail():
                deliver_due_mail()
        except sa.exc.SQLAlchemyError:
            # The mail stays in the outbox for the next look.
            db.session.rollback()
            mail_logger.exception("sending mail failed")


def init_app(app: Flask) -> None:
    if mail_logger.level == logging.NOTSET:
        # Mails written to the log (no MAIL_SERVER) are INFO: show them.
        mail_logger.setLevel(logging.INFO)
    clock = _RetryClock()

    @app.after_request
    def send_mail_after_response(response: Response) -> Response:
        recorded = db.session.info.pop(_COMMITTED, False)
        interval = float(current_app.config["MAIL_RETRY_INTERVAL"])
        if recorded or clock.due(interval):
            flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
            response.call_on_close(lambda: _deliver(flask_app, look_first=not recorded))
        return response
