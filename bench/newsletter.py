"""A new post mailed to many subscribers: ``./bench/run newsletter [options]``.

Makes a new site (SQLite in ``bench/work/newsletter/``, or with
``--postgresql URL`` the database ``flaskr_bench_newsletter`` on that server,
made again for each run), adds ``--subscribers`` confirmed subscribers (a
third follow both the writer and the site, so each must still get one mail),
starts ``--servers`` gunicorn servers of one sync worker each, whose
background timers do the work (``BACKGROUND_INTERVAL`` 0.5 s), and
publishes one post. An aiosmtpd server in this process takes the mail and
counts it by ``Message-ID``.

It prints the time from the publication's commit to the last mail accepted,
each worker's peak resident memory (``VmHWM``), and what arrived: distinct
``Message-ID``s, recipients with exactly one, and any ``Message-ID``
accepted twice. With ``--kill send`` (or ``fanout``) it sends ``kill -9`` to
the first server's worker once 30% of the mails were accepted (or 30% of the
ledger was written); gunicorn starts a new worker, and the claims the dead one
held run out after their lease (two minutes) before anyone takes them over.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import email.parser
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller

HERE = Path(__file__).parent
ROOT = HERE.parent
WORK = HERE / "work" / "newsletter"
sys.path.insert(0, str(HERE))

from run import _postgresql  # noqa: E402
from run import free_port  # noqa: E402
from run import workers_of  # noqa: E402


class Counter:
    """The SMTP server's side: each accepted mail's Message-ID and recipients."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: collections.Counter[str] = collections.Counter()
        self.recipients: dict[str, set[str]] = collections.defaultdict(set)
        self.last = 0.0

    async def handle_DATA(self, server: object, session: object, envelope) -> str:
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.content)
        message_id = str(headers["Message-ID"])
        with self.lock:
            self.by_id[message_id] += 1
            for recipient in envelope.rcpt_tos:
                self.recipients[recipient].add(message_id)
            self.last = time.monotonic()
        return "250 Message accepted"

    def distinct(self) -> int:
        with self.lock:
            return len(self.by_id)


def peak_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--postgresql", metavar="URL")
    parser.add_argument("--kill", choices=["none", "send", "fanout"], default="none")
    parser.add_argument("--batch", type=int, default=500, help="NEWSLETTER_BATCH")
    args = parser.parse_args()

    smtp_port = free_port()
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    WORK.mkdir(parents=True, exist_ok=True)
    settings = {
        "FLASKR_SECRET_KEY": "bench-" + "k" * 40,
        "FLASKR_RATELIMIT_ENABLED": "false",
        "FLASKR_ACCESS_LOG_LEVEL": "WARNING",
        "FLASKR_SECURITY_LOG_LEVEL": "WARNING",
        "FLASKR_INSTANCE_PATH": str(WORK),
        "FLASKR_MAIL_SERVER": "127.0.0.1",
        "FLASKR_MAIL_PORT": str(smtp_port),
        "FLASKR_MAIL_FROM": "Bench <bench@flaskr.example>",
        "FLASKR_SITE_URL": "https://flaskr.example",
        "FLASKR_BACKGROUND_INTERVAL": "0.5",
        "FLASKR_NEWSLETTER_BATCH": str(args.batch),
    }
    if args.postgresql:
        url = args.postgresql.rsplit("/", 1)[0] + "/flaskr_bench_newsletter"
        with _postgresql(args.postgresql) as connection:
            connection.execute('DROP DATABASE IF EXISTS "flaskr_bench_newsletter"')
            connection.execute('CREATE DATABASE "flaskr_bench_newsletter"')
        settings["FLASKR_DATABASE_URL"] = url
    else:
        for name in ("flaskr.sqlite", "flaskr.sqlite-wal", "flaskr.sqlite-shm"):
            (WORK / name).unlink(missing_ok=True)
    os.environ.update(settings)
    flask = [sys.executable, "-m", "flask", "--app", "flaskr"]
    subprocess.run([*flask, "init-db", "--yes"], check=True, cwd=ROOT)  # noqa: S603

    from flaskr import create_app
    from flaskr.db import db
    from flaskr.models import OutboxMail
    from flaskr.models import PostMailing
    from flaskr.models import Subscriber
    from flaskr.models import Subscription
    from flaskr.models import User
    from flaskr.services.content import writing
    from flaskr.services.social.subscriber_links import new_link_key

    app = create_app()
    app.config["BACKGROUND_INTERVAL"] = 0  # this process only publishes
    with app.app_context():
        writer = User("writer", "not a hash")
        db.session.add(writer)
        db.session.flush()
        db.session.execute(
            sa.insert(Subscriber),
            [
                {
                    "email": f"reader{n}@example.org",
                    "email_key": f"reader{n}@example.org",
                    "link_key": new_link_key(),
                    "confirmed": dt.datetime.now(dt.UTC),
                    "cadence": "each",
                }
                for n in range(args.subscribers)
            ],
        )
        ids = db.session.scalars(sa.select(Subscriber.id)).all()
        rows = [{"subscriber_id": i, "author_id": None} for i in ids]
        rows += [{"subscriber_id": i, "author_id": writer.id} for i in ids[::3]]
        db.session.execute(sa.insert(Subscription), rows)
        db.session.commit()
        writer_id = writer.id

    log = (WORK / "servers.log").open("ab")
    servers = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{free_port()}",
                "--log-level",
                "warning",
                "flaskr:create_app()",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )  # fmt: skip
        for _ in range(args.servers)
    ]
    peaks: dict[int, float] = {}
    try:
        deadline = time.monotonic() + 30
        while not all(workers_of(server) for server in servers):
            assert time.monotonic() < deadline, "the servers did not start"
            time.sleep(0.2)
        time.sleep(2)  # the workers' timers are running

        with app.app_context():
            author = db.session.get(User, writer_id)
            writing.create_post(
                author,
                "News for everyone",
                "A post **for** all.",
                tags=[],
                publish=True,
            )
        started = time.monotonic()
        print(
            f"published to {args.subscribers:,} subscribers, {args.servers} server(s), "
            f"{'PostgreSQL' if args.postgresql else 'SQLite'}, batch {args.batch}"
        )
        killed = False
        finished = fanned_out = None
        deadline = started + 900
        while time.monotonic() < deadline:
            for server in servers:
                for pid in workers_of(server):
                    peak = peak_mb(pid)
                    if peak is not None:
                        peaks[pid] = max(peaks.get(pid, 0.0), peak)
            if args.kill != "none" and not killed:
                if args.kill == "send":
                    reached = counter.distinct() >= 0.3 * args.subscribers
                else:
                    with app.app_context():
                        written = db.session.scalar(
                            sa.select(sa.func.count()).select_from(PostMailing)
                        )
                        db.session.rollback()
                    reached = written >= 0.3 * args.subscribers
                if reached:
                    [victim] = workers_of(servers[0])
                    os.kill(victim, signal.SIGKILL)
                    killed = True
                    at = time.monotonic() - started
                    print(
                        f"kill -9 worker {victim} at {at:.1f} s: "
                        f"{counter.distinct():,} mails accepted"
                    )
            if fanned_out is None:
                with app.app_context():
                    written = db.session.scalar(
                        sa.select(sa.func.count()).select_from(PostMailing)
                    )
                    db.session.rollback()
                if written >= args.subscribers:
                    fanned_out = time.monotonic() - started
            if counter.distinct() >= args.subscribers:
                with app.app_context():
                    waiting = db.session.scalar(
                        sa.select(sa.func.count()).where(OutboxMail.sent.is_(None))
                    )
                    db.session.rollback()
                if finished is None:
                    finished = counter.last - started
                if not waiting:
                    break
            time.sleep(0.25)
        else:
            print("did not finish in 15 minutes")
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
        controller.stop()

    twice = sum(1 for count in counter.by_id.values() if count > 1)
    once = sum(1 for ids in counter.recipients.values() if len(ids) == 1)
    more = sum(1 for ids in counter.recipients.values() if len(ids) > 1)
    if fanned_out is not None:
        print(f"every mail in the outbox {fanned_out:.1f} s after publishing")
    if finished is not None:
        print(f"last mail accepted {finished:.1f} s after publishing")
    print(
        f"distinct Message-IDs {len(counter.by_id):,}; recipients with exactly one "
        f"{once:,}, with more {more:,}, with none "
        f"{args.subscribers - once - more:,}; Message-IDs accepted twice {twice:,}"
    )
    for pid, peak in sorted(peaks.items()):
        print(f"worker {pid}: peak {peak:.0f} MB")


if __name__ == "__main__":
    main()
