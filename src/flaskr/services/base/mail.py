"""Mail: recorded in an outbox with what caused it, sent afterwards.

:func:`record_mail` adds an ``OutboxMail`` row to the session, so the mail is
committed with the token or the change it tells of, or rolled back with it.
:func:`deliver_due_mail` sends what is due, over SMTP with the standard
library's ``smtplib`` and ``email`` (or, without ``MAIL_SERVER``, to the log).

Written here, not taken from a library: Flask-Mail and Flask-Mailman send
inside the request, and no maintained library keeps an outbox on SQLite and
PostgreSQL alike. A sender *claims* the mails it sends by moving their
``next_attempt`` a lease ahead, in a committed transaction of its own:

- on PostgreSQL it picks them with ``FOR UPDATE SKIP LOCKED``, so two servers
  never claim one mail and neither waits for the other;
- on SQLite, whose writers take turns anyway, each claim is a conditional
  ``UPDATE`` that only one sender can win.

A mail is marked sent once the SMTP server accepted it. A sender that dies in
between leaves its claim to expire, and the mail goes out again (at least once,
with the same ``Message-ID``); one that fails tries again later, backing off,
up to ``MAIL_MAX_ATTEMPTS``. With ``MAIL_SEND_RATE`` set, each sender keeps
to that many mails a second, and claims no more than it sends in half a
lease, so a slow sender's claim never runs out under it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import json
import logging
import smtplib
import ssl
import time
import typing as t
from email.headerregistry import Address
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import OutboxMail
from flaskr.services.base.site import read_identity

mail_logger = logging.getLogger("flaskr.mail")

#: How long a claim holds a mail: longer than one SMTP conversation takes.
CLAIM_LEASE = dt.timedelta(minutes=2)
#: The wait after the first failure; it doubles with each, up to the longest.
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)
#: Mails one call sends at most, so a long queue is sent a batch at a time.
BATCH = 20
#: The sender's name in ``MAIL_FROM`` that stands for "the site's title": the
#: default's, so a site renamed on ``/admin`` signs its mails with its name.
PLACEHOLDER_SENDER_NAME = "Flaskr"


class MailError(Exception):
    """A mail the SMTP server refused, or could not be reached for."""


def record_mail(recipient: str, template: str, **context: t.Any) -> OutboxMail:
    """Add a mail from the templates ``mail/<template>.{subject,txt,html}``
    to the session; it is sent after the caller commits."""
    env = current_app.jinja_env
    context.setdefault("site_url", current_app.config["SITE_URL"] or "")
    context.setdefault("site_title", site_title())
    return add_mail(
        recipient,
        subject=env.get_template(f"mail/{template}.subject").render(**context),
        text_body=env.get_template(f"mail/{template}.txt").render(**context),
        html_body=env.get_template(f"mail/{template}.html").render(**context),
    )


def add_mail(
    recipient: str,
    *,
    subject: str,
    text_body: str,
    html_body: str,
    headers: t.Mapping[str, str] | None = None,
) -> OutboxMail:
    """Add a mail written already to the session (a fan-out renders one post
    once for many readers); it is sent after the caller commits.

    :param headers: headers of its own (``List-Unsubscribe``), sent as given.
    """
    mail = OutboxMail(
        recipient=recipient,
        subject=" ".join(subject.split())[:200],
        text_body=text_body,
        html_body=html_body,
        message_id=new_message_id(),
        attempts=0,
        failed=False,
        headers=json.dumps(dict(headers)) if headers else "",
    )
    db.session.add(mail)
    return mail


def new_message_id() -> str:
    """A ``Message-ID`` on the domain of ``MAIL_FROM``."""
    domain = email.utils.parseaddr(current_app.config["MAIL_FROM"])[1]
    return email.utils.make_msgid(domain=domain.partition("@")[2] or None)


def site_title() -> str:
    """The title readers know the site by, as every page shows it."""
    return read_identity(current_app.config["SITE_TITLE"]).title


def sender() -> Address:
    """``MAIL_FROM``, named with the site's title unless it names itself
    (a name other than the default's)."""
    name, address = email.utils.parseaddr(current_app.config["MAIL_FROM"])
    if name in ("", PLACEHOLDER_SENDER_NAME):
        name = site_title()
    return Address(display_name=name, addr_spec=address)


def message_of(mail: OutboxMail, sent_by: Address | None = None) -> EmailMessage:
    """The mail as a MIME message: plain text, with an HTML alternative.

    :param sent_by: the ``From`` address; :func:`sender` when not given.
    """
    message = EmailMessage()
    message["From"] = sent_by or sender()
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = email.utils.format_datetime(mail.created)
    message["Message-ID"] = mail.message_id
    if mail.headers:
        for name, value in json.loads(mail.headers).items():
            message[name] = value
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    return message


def _due(limit: int) -> sa.Select[int]:
    return (
        sa.select(OutboxMail.id)
        .where(
            OutboxMail.sent.is_(None),
            OutboxMail.next_attempt <= utcnow(),
            OutboxMail.failed.is_(False),
        )
        .order_by(OutboxMail.next_attempt, OutboxMail.id)
        .limit(limit)
    )


def _claim(limit: int) -> list[OutboxMail]:
    """Take up to ``limit`` due mails for this sender, and commit: other
    senders leave them alone until the lease ends."""
    lease_end = utcnow() + CLAIM_LEASE
    claimed: list[int] = []
    if db.session.get_bind().dialect.name == "postgresql":
        claimed = list(
            db.session.scalars(_due(limit).with_for_update(skip_locked=True))
        )
        if claimed:
            db.session.execute(
                sa.update(OutboxMail)
                .where(OutboxMail.id.in_(claimed))
                .values(next_attempt=lease_end, attempts=OutboxMail.attempts + 1)
            )
    else:
        for mail_id in db.session.scalars(_due(limit)).all():
            won = db.session.execute(
                sa.update(OutboxMail)
                .where(
                    OutboxMail.id == mail_id,
                    OutboxMail.sent.is_(None),
                    OutboxMail.next_attempt <= utcnow(),
                )
                .values(next_attempt=lease_end, attempts=OutboxMail.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if affected_rows(won) == 1:
                claimed.append(mail_id)
    db.session.commit()
    if not claimed:
        return []
    mails = db.session.scalars(
        sa.select(OutboxMail).where(OutboxMail.id.in_(claimed)).order_by(OutboxMail.id)
    )
    return list(mails)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate checks as the system sets them; made once per process, as
    loading the system's certificates takes longer than sending a mail."""
    return ssl.create_default_context()


def _connect() -> smtplib.SMTP:
    config = current_app.config
    timeout = float(config["MAIL_TIMEOUT"])
    server, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    smtp: smtplib.SMTP
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(server, port, timeout=timeout, context=_tls_context())
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=_tls_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _retry_later(mail: OutboxMail, error: Exception) -> None:
    mail.last_error = f"{type(error).__name__}: {error}"[:500]
    if mail.attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        mail.failed = True
        mail_logger.error("gave up on mail %s: %s", mail.id, mail.last_error)
        return
    wait = min(FIRST_RETRY * 2 ** (mail.attempts - 1), LONGEST_RETRY)
    mail.next_attempt = utcnow() + wait
    mail_logger.warning(
        "mail %s not sent (attempt %s), next in %s: %s",
        mail.id,
        mail.attempts,
        wait,
        mail.last_error,
    )


class _Pace:
    """Keeps one sender to ``MAIL_SEND_RATE`` mails a second (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next_send = time.monotonic()

    def claim_size(self) -> int:
        """Mails to claim at once: what this sender sends in half a lease."""
        if not self.interval:
            return BATCH
        return max(1, min(BATCH, int(CLAIM_LEASE.total_seconds() / 2 / self.interval)))

    def wait(self) -> None:
        """Wait until the next mail may go."""
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_send > now:
            time.sleep(self.next_send - now)
        self.next_send = max(now, self.next_send) + self.interval


def _send_all(mails: list[OutboxMail], pace: _Pace) -> int:
    """Send ``mails`` over one SMTP connection; mark each as it goes."""
    if not current_app.config["MAIL_SERVER"]:
        for mail in mails:
            # Development: the mail is in the log, links and all.
            mail_logger.info(
                "mail to %s\nSubject: %s\n\n%s",
                mail.recipient,
                mail.subject,
                mail.text_body,
            )
            mail.sent = utcnow()
            db.session.commit()
        return len(mails)
    sent = 0
    sent_by = sender()
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as error:
        for mail in mails:
            _retry_later(mail, error)
        db.session.commit()
        return 0
    with smtp:
        for mail in mails:
            pace.wait()
            try:
                smtp.send_message(message_of(mail, sent_by))
            except (OSError, smtplib.SMTPException) as error:
                _retry_later(mail, error)
            else:
                mail.sent = utcnow()
                mail.last_error = None
                sent += 1
            db.session.commit()
    return sent


def deliver_due_mail() -> int:
    """Send the mails that are due, a batch at a time; return how many were
    sent. Safe to run in any number of workers and servers at once."""
    sent = 0
    pace = _Pace(float(current_app.config["MAIL_SEND_RATE"]))
    while mails := _claim(pace.claim_size()):
        sent += _send_all(mails, pace)
    return sent
