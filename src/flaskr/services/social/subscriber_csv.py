"""Subscribers as CSV: a download of a list, and an import that invites
each new address of a file.

An import never subscribes anyone: each new address gets an unconfirmed
subscriber and the confirmation mail (``mail/confirm_subscription``), and
nothing else is mailed to it until its owner confirms (double opt-in, as the
subscribe form). An address the site already has is left as it is: its
owner chose what to follow. A file with a bad line is refused whole, naming
the lines. Who may do this is :mod:`.subscriber_admin`'s rule.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import typing as t

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.services.base.addresses import email_key
from flaskr.services.base.addresses import normalized_email
from flaskr.services.base.errors import Invalid
from flaskr.services.base.mail import record_mail
from flaskr.services.base.mail import site_title
from flaskr.services.base.security_log import log_event
from flaskr.services.social import subscriber_admin
from flaskr.services.social import subscriber_links
from flaskr.services.social import subscriptions

#: The largest CSV file an import reads, and the most addresses in it: a
#: writer's list moved from another service fits; a spammer's does not.
IMPORT_MAX_BYTES = 256 * 1024
IMPORT_MAX_ROWS = 2000
#: Lines named in a refusal, at most; the rest are counted.
PROBLEM_LINES_SHOWN = 10
#: The columns of an export (an import reads the first, or ``email``).
CSV_COLUMNS = ("email", "state", "confirmed", "created", "cadence", "follows")
#: Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _stamp(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else ""


def export_csv(actor: User, writer: User | None) -> t.Iterator[str]:
    """``writer``'s subscribers (``None``: all) as CSV, a line at a time,
    oldest first, with a header; logged as a security event.

    :raise NotAllowed: ``actor`` may not see these addresses (raised before
        the first line, so a view can answer 403).
    """
    subscriber_admin.check_addresses(actor, writer)
    log_event(
        "subscribers_exported",
        actor_id=actor.id,
        writer_id=writer.id if writer else None,
    )
    return _csv_lines(writer)


def _csv_lines(writer: User | None) -> t.Iterator[str]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: t.Sequence[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        out.writerow([_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    last = 0
    while True:
        batch = list(
            db.session.scalars(
                sa.select(Subscriber)
                .where(subscriber_admin.following(writer), Subscriber.id > last)
                .order_by(Subscriber.id)
                .limit(500)
            )
        )
        if not batch:
            return
        follows = subscriber_admin.follows_of([subscriber.id for subscriber in batch])
        for subscriber in batch:
            yield line(
                [
                    subscriber.email,
                    "confirmed" if subscriber.confirmed else "waiting",
                    _stamp(subscriber.confirmed),
                    _stamp(subscriber.created),
                    subscriber.cadence,
                    "; ".join(follows.get(subscriber.id, [])),
                ]
            )
        last = batch[-1].id


@dataclasses.dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    #: New addresses: each was sent the confirmation mail.
    invited: int
    #: Addresses already confirmed and following the target.
    already: int
    #: Other addresses the site has (following something else, or not
    #: confirmed yet): left as they are, and not mailed.
    elsewhere: int


def _addresses_in(data: bytes) -> list[tuple[int, str]]:
    """The addresses of a CSV file with their line numbers: the ``email``
    column if a header names one, else the first column.

    :raise Invalid: the file is empty, too large, not UTF-8, not CSV, has
        too many rows, or lines whose address is not one (named by number).
    """
    if not data.strip():
        raise Invalid.of("file", "The file is empty.")
    if len(data) > IMPORT_MAX_BYTES:
        raise Invalid.of(
            "file", f"The file is larger than {IMPORT_MAX_BYTES // 1024} KB."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid.of(
            "file", f"The file is not UTF-8 text (byte {error.start + 1})."
        ) from None
    if "\x00" in text:
        raise Invalid.of("file", "The file is not text.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    column = 0
    first = True
    found: list[tuple[int, str]] = []
    problems: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if first and "@" not in "".join(cells):
                first = False
                # A header: read the column that names addresses.
                names = [cell.casefold() for cell in cells]
                for name in ("email", "e-mail", "email address", "address"):
                    if name in names:
                        column = names.index(name)
                        break
                continue
            first = False
            if len(found) + len(problems) >= IMPORT_MAX_ROWS:
                raise Invalid.of(
                    "file", f"The file has more than {IMPORT_MAX_ROWS:,} addresses."
                )
            address = cells[column] if column < len(cells) else ""
            if address.startswith("'"):  # our own export's guard against formulas
                address = address[1:]
            problem = (
                subscriptions.address_problem(address) if address else "no address"
            )
            if problem:
                problems.append(f"Line {line}: {problem}")
            else:
                found.append((line, address))
    except csv.Error as error:
        raise Invalid.of(
            "file", f"Line {reader.line_num}: this is not CSV ({error})."
        ) from None
    if problems:
        shown = problems[:PROBLEM_LINES_SHOWN]
        if len(problems) > len(shown):
            shown.append(f"… and {len(problems) - len(shown)} more lines.")
        raise Invalid({"file": ["Nothing was imported. Fix these lines:", *shown]})
    if not found:
        raise Invalid.of("file", "The file holds no address.")
    return found


def _invite(address: str, key: str, writer: User | None, target: str) -> bool:
    """Add an unconfirmed subscriber for ``address`` and mail it the link;
    whether it was new (an import beside this one may have added it)."""
    subscriber = Subscriber(
        email=address,
        email_key=key,
        link_key=subscriber_links.new_link_key(),
        created=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(subscriber)
    except IntegrityError:
        return False
    record_mail(
        address,
        "confirm_subscription",
        link=subscriptions.confirmation_link(subscriber, writer),
        target=target,
    )
    return True


def _known(keys: list[str]) -> dict[str, Subscriber]:
    known: dict[str, Subscriber] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known.update(
            (subscriber.email_key, subscriber)
            for subscriber in db.session.scalars(
                sa.select(Subscriber).where(Subscriber.email_key.in_(chunk))
            )
        )
    return known


def import_csv(actor: User, writer: User | None, data: bytes) -> ImportReport:
    """Invite the addresses of a CSV file to follow ``writer`` (``None``: the
    whole site): each new one gets an unconfirmed subscriber, following
    nothing, and the confirmation mail; commit. Addresses the site has are
    left as they are, and not mailed. All or nothing: a bad line refuses
    the file.

    :raise NotAllowed: ``actor`` may not see these addresses.
    :raise Invalid: the file's problems (``file``), lines named.
    """
    subscriber_admin.check_addresses(actor, writer)
    addresses: dict[str, str] = {}
    for _line, address in _addresses_in(data):
        addresses.setdefault(
            email_key(address),
            normalized_email(address),
        )
    known = _known(list(addresses))
    following = set(
        db.session.scalars(
            sa.select(Subscription.subscriber_id).where(
                Subscription.subscriber_id.in_(
                    [subscriber.id for subscriber in known.values()]
                ),
                Subscription.author_id.is_(None)
                if writer is None
                else Subscription.author_id == writer.id,
            )
        )
        if known
        else ()
    )
    target = writer.shown_name if writer is not None else site_title()
    invited = sum(
        _invite(address, key, writer, target)
        for key, address in addresses.items()
        if key not in known
    )
    already = sum(
        1
        for subscriber in known.values()
        if subscriber.id in following and subscriber.confirmed is not None
    )
    report = ImportReport(
        invited=invited, already=already, elsewhere=len(addresses) - invited - already
    )
    log_event(
        "subscribers_imported",
        actor_id=actor.id,
        writer_id=writer.id if writer else None,
        invited=report.invited,
        already=report.already,
        elsewhere=report.elsewhere,
    )
    db.session.commit()
    return report
