"""A spike through the production front: ``./bench/run spike [options]``.

Starts ``./dev.sh production`` (nginx in front of gunicorn, as documented) on
free ports against the benchmark's database for ``--posts`` (seeded by
``bench/run.py``'s functions), opens ``--connections`` keep-alive connections
from ``--addresses`` loopback addresses (127.0.0.2 and up: nginx limits
connections per address, so one address is not a spike), and loads one post
and the home page with a share of writes (likes, unlikes and comments by
logged-in writers, each form with its CSRF token, as a browser posts it).

Phase 1, open loop: ``--rate`` requests a second in all, each timed from the
moment it was due, so time spent waiting for a free connection or in a queue
counts. Phase 2, closed loop: each connection sends its next request as soon as
the last one is answered, for the highest rate. Both again with the page cache
off (``--page-cache both``, the default). It prints a table of requests,
rate, p50/p99/max latency, answers by status, errors, and how much CPU this
generator and the whole machine used (the generator shares the machine's
cores with nginx and gunicorn). See bench/README.md, "A spike through the
front".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import os
import random
import re
import resource
import runpy
import signal
import subprocess
import sys
import time
import typing as t
import urllib.parse
from pathlib import Path

import requests

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # run as a script with PYTHONSAFEPATH
    sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402 (bench/run.py: seeding, settings, ports)

ROOT = HERE.parent
WORK = bench.WORK / "spike"
#: Writers' sessions (demo1, demo2, ...), each with its own CSRF token.
WRITERS = 10
#: Of the writes: likes and unlikes, the rest comments.
LIKE_SHARE = 0.7
#: A request not answered within this long counts as an error (nginx gives up
#: on gunicorn after 35 s, gunicorn.conf.py's timeout and a little more).
REQUEST_TIMEOUT = 40.0
#: Connections opened at once while the pool is built (a spike's readers do not
#: all arrive in the same millisecond either).
OPENING_AT_ONCE = 100
USER_AGENT = "flaskr-spike"
#: A post's one address: /p/<slug>, or /<id> for a post without a slug.
POST_LINK = re.compile(r'<a href="(/p/[^"#?]+|/\d+)"')
LIKE_FORM = re.compile(r'action="/(\d+)/like"')


class Write(t.NamedTuple):
    """A logged-in writer: the session cookie and the form's CSRF token."""

    cookie: str
    csrf_token: str


@dataclasses.dataclass
class Audience:
    """What the generator asks for: two pages to read and the writers."""

    host: str
    port: int
    post_page: str
    post_ids: list[int]
    writers: list[Write]
    #: The header every request sends (bench/run.py's ``--accept-encoding``).
    accept_encoding: str | None
    written: int = 0

    def _headers(self) -> str:
        encoding = self.accept_encoding
        return (
            f"Host: {self.host}:{self.port}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html\r\n"
            + (f"Accept-Encoding: {encoding}\r\n" if encoding else "")
        )

    def reading(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{self._headers()}\r\n".encode()

    def writing(self, rng: random.Random) -> bytes:
        """A like, an unlike or a comment on one of the home page's posts."""
        self.written += 1
        writer = rng.choice(self.writers)
        post = rng.choice(self.post_ids)
        if rng.random() < LIKE_SHARE:
            path = f"/{post}/like"
            form = {"liked": rng.choice(("yes", "no"))}
        else:
            path = f"/{post}/comments"
            form = {"body": f"A comment from the spike, number {self.written}."}
        body = urllib.parse.urlencode({**form, "csrf_token": writer.csrf_token})
        return (
            f"POST {path} HTTP/1.1\r\n{self._headers()}Cookie: {writer.cookie}\r\n"
            f"Origin: http://{self.host}:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()


class Mix:
    """Draws each request: ``write_share`` writes, the rest the post page and
    the home page, half each."""

    def __init__(self, audience: Audience, write_share: float, seed: int) -> None:
        self.audience = audience
        self.write_share = write_share
        self.rng = random.Random(seed)  # noqa: S311 (a benchmark's choices)
        self.reads = [audience.reading(audience.post_page), audience.reading("/")]

    def next(self) -> tuple[bool, bytes]:
        """(whether it writes, the request's bytes)"""
        if self.rng.random() < self.write_share:
            return True, self.audience.writing(self.rng)
        return False, self.rng.choice(self.reads)


class ConnectionLost(Exception):
    """The server closed a kept-alive connection before answering."""


class Connection:
    """One client connection from its own source address, kept alive and
    opened again when the server closes it (as a browser does)."""

    def __init__(self, source: str, host: str, port: int) -> None:
        self.source, self.host, self.port = source, host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = False

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0)
        )
        self.used = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send ``request``; return the answer's status and whether the
        connection had to be opened again (the server had closed it while it
        was idle, or said it would)."""
        reopened = False
        if self.writer is None:
            await self.open()
            reopened = True
        try:
            return await self._exchange(request), reopened
        except ConnectionLost:
            if not self.used or reopened:
                raise
        # Closed by the server between requests (keep-alive's end): what a
        # browser does, open again and send once more.
        self.close()
        await self.open()
        return await self._exchange(request), True

    async def _exchange(self, request: bytes) -> int:
        assert self.reader is not None and self.writer is not None
        reader = self.reader
        try:
            self.writer.write(request)
            await self.writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as lost:
            self.close()
            raise ConnectionLost from lost
        self.used = True
        status = int(head[9:12])
        headers = head.lower()
        if b"transfer-encoding: chunked" in headers:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)  # the chunk and its CRLF
                if size == 0:
                    break
        else:
            length = re.search(rb"\r\ncontent-length: *(\d+)", headers)
            await reader.readexactly(int(length.group(1)) if length else 0)
        if b"\r\nconnection: close" in headers:
            self.close()
        return status


@dataclasses.dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    statuses: collections.Counter[int] = dataclasses.field(
        default_factory=collections.Counter
    )
    write_statuses: collections.Counter[int] = dataclasses.field(
        default_factory=collections.Counter
    )
    errors: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    reopened: int = 0
    generator_cpu: float = 0.0
    front_cpu: float = 0.0
    machine_cpu: float = 0.0

    def record(self, writes: bool, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        (self.write_statuses if writes else self.statuses)[status] += 1

    @property
    def failures(self) -> int:
        """Errors and answers that are not what a browser wanted: any 4xx or
        5xx (a write's 302 is its success)."""
        bad = sum(
            count
            for counter in (self.statuses, self.write_statuses)
            for status, count in counter.items()
            if status >= 400
        )
        return bad + sum(self.errors.values())

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def group_cpu_seconds(group: int) -> float:
    """CPU seconds used so far by the live processes of process group
    ``group`` (the front: dev.sh, nginx, gunicorn and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # After the command's name in parentheses: state, ppid, pgrp, ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_use(phase: Phase, front: int) -> t.Iterator[None]:
    """Fill in the phase's wall time and CPU shares: this process's and the
    front's (process group ``front``), as shares of one core, and the whole
    machine's, as a share of all its cores."""
    started, before = time.monotonic(), resource.getrusage(0)
    busy_before, front_before = machine_busy(), group_cpu_seconds(front)
    yield
    after, busy_after = resource.getrusage(0), machine_busy()
    phase.seconds = time.monotonic() - started
    phase.front_cpu = (group_cpu_seconds(front) - front_before) / phase.seconds
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    phase.generator_cpu = used / phase.seconds
    phase.machine_cpu = (busy_after[0] - busy_before[0]) / max(
        1, busy_after[1] - busy_before[1]
    )


async def exchange_timed(
    connection: Connection, request: bytes
) -> tuple[int | None, str | None, bool]:
    """(status or None, the error's name or None, whether it reopened)"""
    try:
        status, reopened = await asyncio.wait_for(
            connection.exchange(request), REQUEST_TIMEOUT
        )
        return status, None, reopened
    except TimeoutError:
        connection.close()
        return None, "timeout", False
    except (ConnectionLost, OSError, asyncio.IncompleteReadError, ValueError) as error:
        connection.close()
        cause = error.__cause__ or error
        return None, type(cause).__name__, False


async def open_pool(
    host: str, port: int, connections: int, addresses: int
) -> list[Connection]:
    """``connections`` open connections, spread over ``addresses`` source
    addresses from 127.0.0.2 (all of 127/8 is loopback on Linux)."""
    sources = [f"127.0.{(n + 2) // 256}.{(n + 2) % 256}" for n in range(addresses)]
    pool = [Connection(sources[n % addresses], host, port) for n in range(connections)]
    opening = asyncio.Semaphore(OPENING_AT_ONCE)

    async def open_one(connection: Connection) -> None:
        async with opening:
            await connection.open()

    await asyncio.gather(*(open_one(connection) for connection in pool))
    return pool


async def open_loop(
    pool: list[Connection], mix: Mix, rate: float, seconds: float, front: int
) -> Phase:
    """``rate`` requests a second for ``seconds``, whatever the answers do;
    each timed from when it was due. A request takes the connection idle the
    longest (so all of them are used), and waits for one if none is idle."""
    phase = Phase(f"open loop, {rate:g}/s")
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in pool:
        idle.put_nowait(connection)
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    async def one(due: float, writes: bool, request: bytes) -> None:
        connection = await idle.get()
        status, error, reopened = await exchange_timed(connection, request)
        idle.put_nowait(connection)
        phase.reopened += reopened
        if error is not None:
            phase.errors[error] += 1
        else:
            assert status is not None
            phase.record(writes, status, loop.time() - due)

    with cpu_use(phase, front):
        start = loop.time()
        for number in range(int(rate * seconds)):
            due = start + number / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            task = asyncio.create_task(one(due, *mix.next()))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running)
    return phase


async def closed_loop(
    pool: list[Connection], mix: Mix, seconds: float, front: int
) -> Phase:
    """Every connection asks again as soon as it is answered, for ``seconds``;
    the rate is the answers within that time over it."""
    phase = Phase("closed loop")
    loop = asyncio.get_running_loop()

    async def keep_asking(connection: Connection, end: float) -> None:
        while (started := loop.time()) < end:
            writes, request = mix.next()
            status, error, reopened = await exchange_timed(connection, request)
            phase.reopened += reopened
            if error is not None:
                phase.errors[error] += 1
                await asyncio.sleep(0.1)  # not a tight loop of failures
            elif loop.time() <= end:
                assert status is not None
                phase.record(writes, status, loop.time() - started)

    with cpu_use(phase, front):
        end = loop.time() + seconds
        await asyncio.gather(*(keep_asking(connection, end) for connection in pool))
    # Answers after the end are not counted; the rate is over the window.
    phase.seconds = seconds
    return phase


def log_in(site: str, username: str, post_page: str) -> Write:
    """Log ``username`` in through the form (with its CSRF token) and read the
    token the post page's forms carry in that session."""
    http = requests.Session()
    token = bench.CSRF.search(http.get(f"{site}/auth/login", timeout=60).text)
    assert token, "no CSRF token on the login form"
    answer = http.post(
        f"{site}/auth/login",
        data={
            "username": username,
            "password": "demo password",
            "csrf_token": token.group(1),
        },
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302, (
        f"{username} could not log in: {answer.status_code}"
    )
    form_token = bench.CSRF.search(http.get(site + post_page, timeout=60).text)
    assert form_token, "no CSRF token on the post page for a writer"
    cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    return Write(cookie, form_token.group(1))


def audience(site: str, accept_encoding: str | None) -> Audience:
    """The home page's first post as the spike's post, the home page's posts
    as the ones written to, and ``WRITERS`` logged-in writers."""
    home = requests.get(f"{site}/", timeout=60).text
    pages = list(dict.fromkeys(POST_LINK.findall(home)))
    assert pages, "no post on the home page"
    writers = [log_in(site, f"demo{n}", pages[0]) for n in range(1, WRITERS + 1)]
    # A post's id is in its like form, which only a logged-in reader sees.
    writer = requests.Session()
    writer.headers["Cookie"] = writers[0].cookie
    post_ids = []
    for page in pages:
        found = LIKE_FORM.search(writer.get(site + page, timeout=60).text)
        assert found, f"no like form on {page} for a writer"
        post_ids.append(int(found.group(1)))
    split = urllib.parse.urlsplit(site)
    return Audience(
        host=split.hostname or "127.0.0.1",
        port=split.port or 80,
        post_page=pages[0],
        post_ids=post_ids,
        writers=writers,
        accept_encoding=accept_encoding,
    )


class Front(t.NamedTuple):
    process: subprocess.Popen[bytes]
    site: str
    log: Path


def documented_model() -> dict[str, t.Any]:
    """gunicorn.conf.py's own worker model (workers, worker_class, threads),
    with none of the variables that change it set."""
    names = ("WEB_CONCURRENCY", "FLASKR_WORKER_CLASS", "FLASKR_THREADS")
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.update(saved)
    return {name: settings[name] for name in ("workers", "worker_class", "threads")}


def start_front(args: argparse.Namespace, page_cache: bool) -> Front:
    """``./dev.sh production`` on free ports, in a process group of its own;
    returns once nginx answers with a page from gunicorn."""
    name = "cache-on" if page_cache else "cache-off"
    run_folder = WORK / name
    run_folder.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{bench.free_port()}"
    env = {
        **bench.flaskr_env(args.posts, args.postgresql, page_cache=page_cache),
        # Writes post the form's token, as a browser does.
        "FLASKR_WTF_CSRF_ENABLED": "true",
        "FLASKR_DATABASE_URL": bench.database_url(args.posts, args.postgresql),
        "FLASKR_PRODUCTION_RUN": str(run_folder),
        "FLASKR_PROXY_LISTEN": listen,
        "FLASKR_BIND": f"127.0.0.1:{bench.free_port()}",
        "WEB_CONCURRENCY": str(args.workers),
        "FLASKR_WORKER_CLASS": args.worker_class,
        "FLASKR_THREADS": str(args.threads),
        # This checkout's code, even where .venv is another checkout's.
        "PYTHONPATH": str(ROOT / "src"),
    }
    if args.redis:
        env["FLASKR_REDIS_URL"] = args.redis
    # Every run's log is kept, one after the other: a 502 is explained there
    # (nginx's error log goes to it too).
    log = WORK / f"{name}.log"
    with log.open("ab") as output:
        output.write(
            f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {vars(args)}\n".encode()
        )
        output.flush()
        process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "dev.sh"), "production"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # nginx, gunicorn and dev.sh: one group
        )
    front = Front(process, f"http://{listen}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"./dev.sh production stopped: see {log}")
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(f"{front.site}/healthz", timeout=2).status_code == 200:
                return front
        time.sleep(0.3)
    stop_front(front)
    raise RuntimeError(f"{front.site} did not answer: see {log}")


def stop_front(front: Front) -> None:
    """SIGTERM to the whole group (gunicorn finishes its requests), then
    SIGKILL if it has not stopped within gunicorn's graceful timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(front.process.pid, signal.SIGTERM)
    try:
        front.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(front.process.pid, signal.SIGKILL)
        front.process.wait()


async def spike(
    args: argparse.Namespace, front: Front, page_cache: bool
) -> list[Phase]:
    site, group = front.site, front.process.pid
    crowd = audience(site, bench.accept_encoding(args.accept_encoding))
    split = urllib.parse.urlsplit(site)
    for path in ("/", crowd.post_page):  # the first view renders each page
        requests.get(site + path, timeout=60)
    opened = time.monotonic()
    pool = await open_pool(
        split.hostname or "127.0.0.1",
        split.port or 80,
        args.connections,
        args.addresses,
    )
    print(
        f"  {len(pool)} connections from {args.addresses} addresses opened in"
        f" {time.monotonic() - opened:.1f} s",
        file=sys.stderr,
    )
    cache = "cache on" if page_cache else "cache off"
    try:
        first = await open_loop(
            pool, Mix(crowd, args.write_share, 1), args.rate, args.seconds, group
        )
        first.name += f", {cache}"
        second = await closed_loop(
            pool, Mix(crowd, args.write_share, 2), args.seconds, group
        )
        second.name += f", {cache}"
    finally:
        for connection in pool:
            connection.close()
    return [first, second]


def statuses(phase: Phase) -> str:
    reads = " ".join(f"{s}×{n}" for s, n in sorted(phase.statuses.items()))
    writes = " ".join(f"{s}×{n}" for s, n in sorted(phase.write_statuses.items()))
    return f"reads {reads}; writes {writes or 'none'}"


def report(args: argparse.Namespace, phases: list[Phase]) -> None:
    print(
        f"\nspike: {args.posts:,} posts"
        f" ({'PostgreSQL' if args.postgresql else 'SQLite'}),"
        f" {args.workers} {args.worker_class} workers"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
        + f" on {os.cpu_count()} cores, {args.connections} connections from"
        f" {args.addresses} addresses, {args.write_share:.0%} writes,"
        f" {args.seconds:g} s a phase"
    )
    header = (
        f"{'phase':<30}{'answers':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'5xx':>6}{'errors':>8}{'reopened':>9}{'gen CPU':>9}"
        f"{'front':>8}{'/CPU-s':>8}{'machine':>9}"
    )
    print(header)
    for phase in phases:
        answers = sum(phase.statuses.values()) + sum(phase.write_statuses.values())
        server_errors = sum(
            n
            for counter in (phase.statuses, phase.write_statuses)
            for s, n in counter.items()
            if s >= 500
        )
        print(
            f"{phase.name:<30}{answers:>9}{answers / phase.seconds:>9.0f}"
            f"{phase.percentile(0.5):>9.1f}{phase.percentile(0.99):>9.1f}"
            f"{phase.percentile(1.0):>9.1f}{server_errors:>6}{phase.failures:>8}"
            f"{phase.reopened:>9}{phase.generator_cpu:>9.0%}{phase.front_cpu:>8.0%}"
            f"{answers / max(phase.front_cpu * phase.seconds, 1e-9):>8.0f}"
            f"{phase.machine_cpu:>9.0%}"
        )
    print("\nanswers by status, and errors:")
    for phase in phases:
        errors = ", ".join(f"{name} {n}" for name, n in phase.errors.items())
        print(
            f"  {phase.name}: {statuses(phase)}"
            + (f"; errors: {errors}" if errors else "")
        )
    print(
        "\ngen CPU and front: the CPU time this generator and the front (nginx,"
        " gunicorn) used over the phase, as shares of one core; /CPU-s: answers per"
        " CPU second of the front (its cost per request, which other load on the"
        " machine does not change);"
        f" machine: all {os.cpu_count()} cores' busy share (nginx, gunicorn, the"
        " generator and anything else running)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="this PostgreSQL server (a URL naming any database on it) instead of"
        " SQLite; bench/run's database flaskr_bench_POSTS there",
    )
    parser.add_argument(
        "--redis", metavar="URL", help="FLASKR_REDIS_URL for the servers"
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--addresses", type=int, default=200)
    parser.add_argument("--write-share", type=float, default=0.01)
    parser.add_argument("--page-cache", choices=("on", "off", "both"), default="both")
    bench.add_accept_encoding_option(parser)
    model = documented_model()
    parser.add_argument(
        "--workers",
        type=int,
        default=model["workers"],
        help="WEB_CONCURRENCY (default: gunicorn.conf.py's, %(default)s)",
    )
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default=model["worker_class"],
        help="FLASKR_WORKER_CLASS (default: gunicorn.conf.py's, %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=model["threads"],
        help="FLASKR_THREADS, for gthread (default: gunicorn.conf.py's, %(default)s)",
    )
    args = parser.parse_args()
    if not 1 <= args.addresses <= 250 * 256:
        parser.error("--addresses: from 1 to 64,000")

    # Room for every connection, nginx's and gunicorn's aside.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.connections + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    os.environ["PYTHONPATH"] = str(ROOT / "src")  # seeding with this checkout's code
    WORK.mkdir(parents=True, exist_ok=True)
    bench.seed(args.posts, args.postgresql)
    phases: list[Phase] = []
    settings = {"on": [True], "off": [False], "both": [True, False]}[args.page_cache]
    for page_cache in settings:
        front = start_front(args, page_cache)
        try:
            phases += asyncio.run(spike(args, front, page_cache))
        finally:
            stop_front(front)
    report(args, phases)
    if any(phase.failures for phase in phases):
        print(f"\nfailures: see the servers' logs in {WORK}", file=sys.stderr)


if __name__ == "__main__":
    main()
