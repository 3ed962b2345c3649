"""Mail and events go out after the response, never inside it.

A request whose transaction recorded a mail (``services.base.mail.record_mail``)
sends the due mails once its response is on its way, so the visitor never
waits for the SMTP server (and a reset page takes as long whether or not it
recorded a mail). Events (``services.base.events.record_event``) go to their
handlers on every server's timer (``plumbing/background.py``), in batches:
handing over one event at a time, after each response, cost each comment
several transactions. Where the timer is off (``BACKGROUND_INTERVAL = 0``),
the response hands over the events some handler wants. What fails, and what a
dead worker left, is retried by the timer, whatever the traffic, or by cron.
"""

from __future__ import annotations

import logging
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from flask import Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.services.base.events import event_logger
from flaskr.services.base.events import RECORDED_DUE_KINDS
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.base.mail import mail_logger
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.event_handlers import HANDLED_KINDS
from flaskr.services.federation.delivery import deliver_due as deliver_federation
from flaskr.services.federation.delivery import delivery_logger

_RECORDED_MAIL = "flaskr_mail_recorded"
_COMMITTED = "flaskr_work_committed"


@event.listens_for(Session, "after_flush")
def _note_recorded_mail(session: Session, context: t.Any) -> None:
    if any(isinstance(obj, OutboxMail) for obj in session.new):
        session.info[_RECORDED_MAIL] = True


def _timer_runs() -> bool:
    return float(current_app.config["BACKGROUND_INTERVAL"]) > 0


@event.listens_for(Session, "after_commit")
def _note_committed_work(session: Session) -> None:
    mail = session.info.pop(_RECORDED_MAIL, False)
    # Events cost the response nothing while the timer runs: it hands them to
    # their handlers in batches, within BACKGROUND_INTERVAL. Without it, the
    # response delivers the ones some handler wants.
    handled = session.info.pop(RECORDED_DUE_KINDS, set()) & HANDLED_KINDS
    if mail or (handled and not _timer_runs()):
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_work(session: Session) -> None:
    session.info.pop(_RECORDED_MAIL, None)
    session.info.pop(RECORDED_DUE_KINDS, None)


def deliver_events_then_mail(app: Flask) -> None:
    """Send the due mail, after running the handlers on the due events if no
    timer does (then the mail includes what they recorded, and the activities
    they queued for remote inboxes go after it). A failure leaves the work
    for the next look."""
    with app.app_context():
        steps = [(deliver_due_mail, mail_logger)]
        if not _timer_runs():
            # What the handlers queued for remote inboxes goes too.
            steps.insert(0, (deliver_due_events, event_logger))
            steps.append((deliver_federation, delivery_logger))
        for deliver, logger in steps:
            try:
                deliver()
            except sa.exc.SQLAlchemyError:
                db.session.rollback()
                logger.exception("delivering failed")


def init_app(app: Flask) -> None:
    for logger in (mail_logger, event_logger, delivery_logger):
        if logger.level == logging.NOTSET:
            # Mails written to the log (no MAIL_SERVER) are INFO: show them.
            logger.setLevel(logging.INFO)

    @app.after_request
    def deliver_after_response(response: Response) -> Response:
        if db.session.info.pop(_COMMITTED, False):
            flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
            response.call_on_close(lambda: deliver_events_then_mail(flask_app))
        return response
