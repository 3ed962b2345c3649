"""Mail and event commands: deliver what is due (for cron), and a test mail."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from flaskr.db import db
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.base.mail import record_mail
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.social.newsletter import send_weekly_digests
from flaskr.services.social.subscriptions import purge_unconfirmed


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the mails that are due (each server's timer also does)."""
    sent = deliver_due_mail()
    click.echo(f"Sent {sent} mail{'' if sent == 1 else 's'}.")


@click.command("deliver-events")
@with_appcontext
def deliver_events_command() -> None:
    """Hand the due events to their handlers, then send the mail they made
    (each server's timer also does)."""
    handled = deliver_due_events()
    sent = deliver_due_mail()
    click.echo(
        f"Handled {handled} event{'' if handled == 1 else 's'}, "
        f"sent {sent} mail{'' if sent == 1 else 's'}."
    )


@click.command("send-digests")
@with_appcontext
def send_digests_command() -> None:
    """Write the weekly digests that are due, forget the addresses that
    never confirmed in time, then send mail (each server's timer also does,
    once an hour)."""
    written = send_weekly_digests()
    purged = purge_unconfirmed()
    sent = deliver_due_mail()
    click.echo(
        f"Wrote {written} digest{'' if written == 1 else 's'}, "
        f"forgot {purged} unconfirmed address{'' if purged == 1 else 'es'}, "
        f"sent {sent} mail{'' if sent == 1 else 's'}."
    )


@click.command("send-test-mail")
@click.argument("address")
@with_appcontext
def send_test_mail_command(address: str) -> None:
    """Send a test mail to ADDRESS with the mail settings, and say whether the
    SMTP server took it (it stays in the outbox for retries if not)."""
    if "@" not in address or any(c.isspace() for c in address):
        raise click.BadParameter("not an e-mail address", param_hint="ADDRESS")
    mail = record_mail(address, "test")
    db.session.commit()
    deliver_due_mail()
    db.session.refresh(mail)
    if mail.sent is None:
        raise click.ClickException(f"Not sent yet: {mail.last_error}")
    click.echo(f"Sent a test mail to {address}.")
