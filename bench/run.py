"""Serve Flaskr and a bare Flask app the same way, load each page with wrk, and
print requests/s, p50, p99 and the ratio to the bare app, per blog size.

Run it through ``bench/run`` (which installs wrk); see bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import typing as t
import urllib.parse
from pathlib import Path

import requests

HERE = Path(__file__).parent
ROOT = HERE.parent
WORK = HERE / "work"
#: How long the worker is left idle before its memory is read again (gunicorn's
#: ``trim_memory_after`` hands freed memory back after 2 s).
IDLE_SECONDS = 4
LOG_IN = "log in"
#: Logins are loaded in rounds, each compared with a check timed around it:
#: the machine's speed drifts between moments by as much as the 10% asked.
LOGIN_ROUNDS = 4
BARE_LOG_IN = "log in, bare Flask"
FLOOR_LOG_IN = "log in, floor"
CHECK = "check"
APP = "in the app"
#: How the benchmark configures Flaskr, besides where its database is.
FLASKR_SETTINGS = {
    "FLASKR_SECRET_KEY": "bench-" + "k" * 40,
    "FLASKR_RATELIMIT_ENABLED": "false",
    # The login benchmark posts without a token; everything else is as shipped.
    "FLASKR_WTF_CSRF_ENABLED": "false",
    "FLASKR_ACCESS_LOG_LEVEL": "WARNING",
    "FLASKR_SECURITY_LOG_LEVEL": "WARNING",
}
#: What today's browsers send (Chrome since 123, Firefox since 126; Safari
#: leaves out zstd), feed readers and HTTP libraries send a shorter list with
#: gzip in it too, and nginx in front passes it on: so every request the
#: benchmark makes says it. ``--accept-encoding none`` leaves it out, as the
#: runs before issue 38 did (see bench/README.md).
BROWSERS_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
CSRF = re.compile(r'<input[^>]*name="[^"]*csrf_token"[^>]*value="([^"]+)"')


def add_accept_encoding_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-encoding",
        metavar="HEADER",
        default=BROWSERS_ACCEPT_ENCODING,
        help="the Accept-Encoding header of every request (default: a browser's,"
        f" {BROWSERS_ACCEPT_ENCODING!r}); 'none' sends none, as runs before"
        " issue 38 did",
    )


def accept_encoding(option: str) -> str | None:
    """The header value ``--accept-encoding`` asks for, or ``None`` for none."""
    return None if option.lower() == "none" else option


def header_arguments(accept_encoding: str | None) -> list[str]:
    """wrk's arguments adding the ``Accept-Encoding`` header, if there is one."""
    return ["-H", f"Accept-Encoding: {accept_encoding}"] if accept_encoding else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgresql_database(server: str, size: int | str) -> str:
    """The URL of the benchmark's database for ``size`` (or the floor login's)
    on the PostgreSQL ``server`` (a URL naming any database there, which is
    left alone)."""
    return server.rsplit("/", 1)[0] + f"/flaskr_bench_{size}"


def database_url(size: int, postgresql: str | None = None) -> str:
    """The URL of the benchmark's database for ``size``."""
    if postgresql:
        return postgresql_database(postgresql, size)
    return f"sqlite:///{WORK / f'{size}-posts' / 'flaskr.sqlite'}"


def flaskr_env(
    size: int, postgresql: str | None = None, *, page_cache: bool = True
) -> dict[str, str]:
    folder = WORK / (f"{size}-posts" + ("-postgresql" if postgresql else ""))
    folder.mkdir(parents=True, exist_ok=True)
    database = (
        {"FLASKR_DATABASE_URL": postgresql_database(postgresql, size)}
        if postgresql
        else {}
    )
    return {
        **os.environ,
        **database,
        "FLASKR_INSTANCE_PATH": str(folder),
        **FLASKR_SETTINGS,
        **({} if page_cache else {"FLASKR_PAGE_CACHE_BYTES": "0"}),
    }


def _postgresql(url: str) -> t.Any:
    """A psycopg connection (autocommit) to the database SQLAlchemy's ``url`` names."""
    import psycopg

    return psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )


def _create_postgresql_database(server: str, size: int | str) -> bool:
    """Create the database for ``size`` unless it exists; return whether it did.
    (Drop it to seed again.)"""
    name = postgresql_database(server, size).rsplit("/", 1)[1]
    with _postgresql(server) as connection:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if connection.execute(query, (name,)).fetchone():
            return False
        connection.execute(f'CREATE DATABASE "{name}"')  # a name made above
    return True


def seed(size: int, postgresql: str | None = None) -> None:
    env = flaskr_env(size, postgresql)
    flask = [sys.executable, "-m", "flask", "--app", "flaskr"]
    if postgresql:
        seeded = not _create_postgresql_database(postgresql, size)
    else:
        seeded = (Path(env["FLASKR_INSTANCE_PATH"]) / "flaskr.sqlite").exists()
    if seeded:  # by an earlier run: bring its schema up to date
        subprocess.run([*flask, "upgrade-db"], env=env, check=True)  # noqa: S603
    else:
        subprocess.run([*flask, "init-db", "--yes"], env=env, check=True)  # noqa: S603
        # On PostgreSQL seed-demo's row-by-row load takes hours past a few
        # hundred thousand posts: the rest are copies (bench/grow.py).
        if str(HERE) not in sys.path:
            sys.path.insert(0, str(HERE))
        import grow

        seeded_posts = min(size, grow.GROW_FROM) if postgresql else size
        subprocess.run(  # noqa: S603
            [*flask, "seed-demo", "--posts", str(seeded_posts)], env=env, check=True
        )
        if seeded_posts < size:
            with _postgresql(postgresql_database(postgresql, size)) as connection:
                grow.grow(connection, size)
    # A live site's upkeep, after the bulk load or a migration's new index.
    if postgresql:
        # What autovacuum would do: statistics for the planner, and the
        # full-text index's pending entries merged into it.
        with _postgresql(postgresql_database(postgresql, size)) as connection:
            connection.execute("VACUUM ANALYZE")
    else:
        subprocess.run([*flask, "optimize-search"], env=env, check=True)  # noqa: S603


def serve(
    app: str, env: dict[str, str], cwd: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """Serve ``app`` with gunicorn (``workers`` sync workers) on a free port;
    return the server and its URL once it answers."""
    url = f"http://127.0.0.1:{free_port()}"
    # Servers' logs (mail written to the log, warnings) go to a file, not
    # between the figures.
    log = (WORK / "servers.log").open("ab")
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "gunicorn", "--workers", str(workers),
            # One thread: with more, gunicorn would run gthread whatever the
            # class says (gunicorn.conf.py's default is four).
            "--worker-class", "sync", "--threads", "1",
            "--bind", url.removeprefix("http://"),
            "--log-level", "warning", app,
        ],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=log,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return process, url
        # Not listening yet, or its first page (rendered with every cache
        # cold) took longer than the second a busy machine can take.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start: see {log.name}")


def start_wrk(
    url: str, seconds: int, *extra: str, connections: int = 4
) -> subprocess.Popen[str]:
    """Start wrk (one thread) on ``url``; read its figures with :func:`wrk_figures`."""
    return subprocess.Popen(  # noqa: S603
        [  # noqa: S607
            "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
            *extra, url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def wrk_figures(url: str, process: subprocess.Popen[str]) -> dict[str, float]:
    """Wait for the wrk ``process`` loading ``url``; return its rate, p50 and
    p99 (ms) and how many requests it made. Raises if any answer was an error."""
    output, _ = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, output)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests_made = int(re.search(r"(\d+) requests in", output).group(1))
    latencies = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", output))

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{output}")
    # Connections refused, cut or timed out (wrk gives up after 2 s).
    socket_errors = re.search(r"Socket errors: ([^\n]+)", output)
    broken = re.findall(r"\d+", socket_errors.group(1)) if socket_errors else []
    return {
        "rate": rate,
        "p50": ms(latencies["50"]),
        "p99": ms(latencies["99"]),
        "requests": requests_made,
        "socket errors": sum(map(int, broken)),
    }


def wrk(url: str, seconds: int, *extra: str) -> dict[str, float]:
    """Load ``url`` with wrk (one thread, four connections): see :func:`wrk_figures`."""
    return wrk_figures(url, start_wrk(url, seconds, *extra))


def logged_in_cookie(url: str) -> str:
    http = requests.Session()
    http.post(
        f"{url}/auth/login",
        data={"username": "demo1", "password": "demo password"},
        allow_redirects=False,
    )
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    """The process ids of gunicorn ``server``'s workers."""
    found = subprocess.run(  # noqa: S603
        ["ps", "--ppid", str(server.pid), "-o", "pid="],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [int(pid) for pid in found]


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A ``field`` of process ``pid``'s memory (``VmRSS``: resident now;
    ``VmHWM``: the most it was), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no {field} for process {pid}")


def worker_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """The resident memory of gunicorn ``process``'s largest worker, in MB."""
    return max(memory_mb(pid) for pid in workers_of(process))


def search_rotation_script() -> Path:
    """A wrk script that searches a different pair of demo words each time, so
    no answer comes from the page cache: what search itself costs."""
    from flaskr.cli.demo import WORDS

    # More pairs than a run makes requests, so none is asked for twice.
    pairs = [f"{first}+{second}" for first in WORDS for second in WORDS]
    script = WORK / "search_rotation.lua"
    script.write_text(
        "local queries = {" + ",".join(f'"{pair}"' for pair in pairs) + "}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  return wrk.format(nil, "/search?q=" .. queries[n % #queries + 1])\n'
        "end\n"
    )
    return script


def password_hash_ms(samples: int = 60) -> float:
    """Median time of one argon2id check at Flaskr's settings, in this process."""
    from flaskr.config import DEFAULTS
    from flaskr.services.accounts.passwords import Passwords

    passwords = Passwords(
        time_cost=DEFAULTS["PASSWORD_HASH_TIME_COST"],
        memory_cost=DEFAULTS["PASSWORD_HASH_MEMORY_COST"],
        parallelism=DEFAULTS["PASSWORD_HASH_PARALLELISM"],
    )
    stored = passwords.hash("demo password")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        passwords.verify(stored, "demo password")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def worker_timings(url: str) -> dict[str, float]:
    """What the worker serving ``url`` measured since the last call
    (``bench/check_timing.py``): the mean check (``CHECK``) and the mean POST
    request in the app (``APP``), in ms; NaN where there were none."""
    if str(HERE) not in sys.path:  # run as a script with PYTHONSAFEPATH
        sys.path.insert(0, str(HERE))
    import check_timing

    server = urllib.parse.urlsplit(url)._replace(path=check_timing.PATH)
    reading = requests.get(server.geturl(), timeout=10).text.split()
    checks, check_seconds, posts, app_seconds = map(float, reading)
    return {
        CHECK: check_seconds * 1000 / checks if checks else math.nan,
        APP: app_seconds * 1000 / posts if posts else math.nan,
    }


@dataclasses.dataclass
class LoginRounds:
    """Each login over all rounds (mean rate, median p50, worst p99), and what
    was measured in each round."""

    figures: dict[str, dict[str, float]]
    #: Per round: the check's ms in this process (``CHECK``), ms per login of
    #: each kind, and the worker's own timings (``(kind, CHECK)`` and
    #: ``(kind, APP)``: see :func:`worker_timings`).
    timings: list[dict[t.Any, float]]
    #: Flaskr's worker memory (MB) just after its last logins.
    memory_mb: float


def login_rounds(
    urls: dict[str, str],
    flaskr: subprocess.Popen[bytes],
    seconds: int,
    *extra: str,
) -> LoginRounds:
    """Load each login in ``urls`` (name: URL, Flaskr's last) in turn for
    ``LOGIN_ROUNDS`` rounds that together last ``seconds`` each, timing the
    check here around each round and reading each worker's own timings."""
    each = max(1, round(seconds / LOGIN_ROUNDS))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    timings = []
    for number in range(LOGIN_ROUNDS):
        before = password_hash_ms(20)
        in_worker = {}
        # The order turns round every round, so none gets all the drift;
        # Flaskr goes last in the last one, for its memory as the logins end.
        flaskr_last = (LOGIN_ROUNDS - number) % 2 == 1
        for name in list(urls)[:: 1 if flaskr_last else -1]:
            worker_timings(urls[name])  # starts its count
            runs[name].append(wrk(urls[name], each, *extra))
            in_worker[name] = worker_timings(urls[name])
        if number == LOGIN_ROUNDS - 1:
            memory_mb = worker_rss_mb(flaskr)
        check = (before + password_hash_ms(20)) / 2
        timings.append(
            {CHECK: check}
            | {name: 1000 / runs[name][-1]["rate"] for name in urls}
            | {
                (name, part): ms
                for name, parts in in_worker.items()
                for part, ms in parts.items()
            }
        )

    def overall(figures: list[dict[str, float]]) -> dict[str, float]:
        return {
            "rate": statistics.mean(f["rate"] for f in figures),
            "p50": statistics.median(f["p50"] for f in figures),
            "p99": max(f["p99"] for f in figures),
        }

    return LoginRounds(
        {name: overall(figures) for name, figures in runs.items()}, timings, memory_mb
    )


def rotation_script(path: str) -> Path:
    """A wrk script asking for ``path`` with a new query string each time, so no
    answer can come from the page cache: what a first view costs."""
    script = WORK / f"rotate{path.replace('/', '_')}.lua"
    script.write_text(
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        f'  return wrk.format(nil, "{path}?r=" .. n)\n'
        "end\n"
    )
    return script


def api_token(url: str) -> str:
    """A JSON API token of demo1, who follows a thousand writers."""
    user = {"email": "demo1@example.org", "password": "demo password"}
    response = requests.post(f"{url}/api/users/login", json={"user": user}, timeout=60)
    response.raise_for_status()
    return str(response.json()["user"]["token"])


def pages(url: str) -> dict[str, tuple[str, list[str]]]:
    """Each page to load, as (url, extra wrk arguments)."""
    feed = requests.get(f"{url}/feed.atom", timeout=10).text
    # A post's one address: /p/<slug> (/<id> only redirects there).
    post_url = re.search(r'href="(http://[^"]+/(?:p/[^"]+|\d+))"', feed).group(1)
    cookie = logged_in_cookie(url)
    requests.get(f"{url}/", headers={"Cookie": cookie}, timeout=60)
    token = ["-H", f"Authorization: Token {api_token(url)}"]
    return {
        "index": (f"{url}/", []),
        "index, logged in": (f"{url}/", ["-H", f"Cookie: {cookie}"]),
        "post page": (post_url, []),
        "tag page": (f"{url}/tag/python", []),
        "author page": (f"{url}/u/demo1", []),
        "Atom feed": (f"{url}/feed.atom", []),
        "RSS feed": (f"{url}/feed.rss", []),
        "API articles": (f"{url}/api/articles", []),
        "API articles, uncached": (url, ["-s", str(rotation_script("/api/articles"))]),
        "API feed (uncached)": (f"{url}/api/articles/feed", token),
        "Following, uncached": (
            url,
            ["-H", f"Cookie: {cookie}", "-s", str(rotation_script("/following"))],
        ),
        # Before the searches: the worker's memory is read while logins run, and
        # again after pages have been served without any for a while.
        LOG_IN: (f"{url}/auth/login", ["-s", str(HERE / "login.lua")]),
        "search": (f"{url}/search?q=garden+coffee", []),
        "search, uncached": (url, ["-s", str(search_rotation_script())]),
    }


def uncached_pages(
    cold_url: str, post_url: str, cookie: str
) -> dict[str, tuple[str, list[str]]]:
    """The first pages again, from a server with the page cache off: what a
    first view costs."""
    post_path = urllib.parse.urlsplit(post_url).path
    return {
        f"{name}, cache off": (cold_url + path, extra)
        for name, path, extra in (
            ("index", "/", []),
            ("index, logged in", "/", ["-H", f"Cookie: {cookie}"]),
            ("post page", post_path, []),
            ("tag page", "/tag/python", []),
            ("author page", "/u/demo1", []),
            ("Atom feed", "/feed.atom", []),
            ("RSS feed", "/feed.rss", []),
        )
    }


def page_cache_hits(url: str) -> int:
    """How many requests the page cache of the worker at ``url`` answered."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import check_timing

    server = urllib.parse.urlsplit(url)._replace(path=check_timing.HITS_PATH)
    return int(requests.get(server.geturl(), timeout=10).text)


#: The mixes: (name, share of requests that write, whether the cache is on).
MIXES = (
    ("mix, reads only", 0.0, True),
    ("mix, 1% writes", 0.01, True),
    ("mix, 5% writes", 0.05, True),
    ("mix, 1% writes, cache off", 0.01, False),
)


def run_mixes(
    urls: dict[bool, str],
    database: str,
    size: int,
    seconds: int,
    accept_encoding: str | None,
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Load each mix of :data:`MIXES` (after a warm-up of half the time, which
    writes too), every request with ``accept_encoding`` (if any); return its
    figures and the page cache's hit ratio (hits over all requests, writes
    included)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import mix

    users = max(10, size // 100)  # as seed-demo makes them
    audience = mix.audience(urls[True], database, WORK, users)
    figures, hit_ratios = {}, {}
    for name, write_share, cached in MIXES:
        url = urls[cached]
        script = mix.script(
            audience, write_share, WORK / "mix.lua", accept_encoding=accept_encoding
        )
        wrk(url, max(1, seconds // 2), "-s", str(script))
        hits = page_cache_hits(url)
        figures[name] = wrk(url, seconds, "-s", str(script))
        hit_ratios[name] = (page_cache_hits(url) - hits) / figures[name]["requests"]
    return figures, hit_ratios


def login_report(name: str, timings: list[dict[t.Any, float]]) -> str:
    """What a login of kind ``name`` cost besides its check, as shares of the
    check, over the rounds (the median, then each round's)."""
    checks = [row[name, CHECK] for row in timings]
    shares = {
        # ms per login (all the worker's time under load) against the check
        # in the same requests; then only what the app itself took.
        "all the rest": [row[name] / row[name, CHECK] for row in timings],
        "of which in the app": [row[name, APP] / row[name, CHECK] for row in timings],
        "all the rest against the check timed in the runner": [
            row[name] / row[CHECK] for row in timings
        ],
    }
    lines = [f"checks in the worker of {min(checks):.2f}–{max(checks):.2f} ms"]
    for label, ratios in shares.items():
        extra = [(ratio - 1) * 100 for ratio in ratios]
        each = ", ".join(f"{value:+.1f}%" for value in extra)
        lines.append(f"{label} {statistics.median(extra):+.1f}% ({each})")
    return ";\n    ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="use this PostgreSQL server (a URL naming any database on it) instead"
        " of SQLite; the benchmark makes its own databases there",
    )
    add_accept_encoding_option(parser)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    encoding = accept_encoding(args.accept_encoding)
    encoding_header = header_arguments(encoding)

    # Served from the project's folder, so gunicorn reads the same settings.
    yardstick_env = {**os.environ, "PYTHONPATH": str(HERE)}
    WORK.mkdir(exist_ok=True)
    if args.postgresql:  # the floor login's tables, on the same server
        _create_postgresql_database(args.postgresql, "floor")
        yardstick_env["YARDSTICK_DATABASE_URL"] = postgresql_database(
            args.postgresql, "floor"
        )
    hello, hello_url = serve("check_timing:yardsticks()", yardstick_env, ROOT)
    results: dict[int, dict[str, dict[str, float]]] = {}
    memory: dict[int, tuple[float, float, float]] = {}
    login_timings: dict[int, list[dict[t.Any, float]]] = {}
    hello_rates: dict[int, tuple[float, float]] = {}
    hit_ratios: dict[int, dict[str, float]] = {}
    try:
        for size in sizes:
            seed(size, args.postgresql)
            env = flaskr_env(size, args.postgresql)
            flaskr_app = "check_timing:flaskr()"
            flaskr, url = serve(flaskr_app, {**env, "PYTHONPATH": str(HERE)}, ROOT)
            cold_env = flaskr_env(size, args.postgresql, page_cache=False)
            cold, cold_url = serve(
                flaskr_app, {**cold_env, "PYTHONPATH": str(HERE)}, ROOT
            )
            try:
                hello_before = wrk(hello_url + "/", args.seconds, *encoding_header)
                results[size] = {"hello": hello_before}
                first_pages = pages(url)
                post_url = first_pages["post page"][0]
                cookie = first_pages["index, logged in"][1][1].removeprefix("Cookie: ")
                all_pages = {
                    **first_pages,
                    **uncached_pages(cold_url, post_url, cookie),
                }
                for name, (page, extra) in all_pages.items():
                    if not extra:  # warm up: the first request renders the page
                        requests.get(page, timeout=60)
                    if name == LOG_IN:
                        urls = {
                            BARE_LOG_IN: f"{hello_url}/auth/login",
                            FLOOR_LOG_IN: f"{hello_url}/floor/login",
                            LOG_IN: page,
                        }
                        logins = login_rounds(
                            urls, flaskr, args.seconds, *extra, *encoding_header
                        )
                        results[size].update(logins.figures)
                        login_timings[size] = logins.timings
                        during_logins = logins.memory_mb
                    else:
                        results[size][name] = wrk(
                            page, args.seconds, *extra, *encoding_header
                        )
                database = database_url(size, args.postgresql)
                mixed, hit_ratios[size] = run_mixes(
                    {True: url, False: cold_url},
                    database,
                    size,
                    args.seconds,
                    encoding,
                )
                results[size].update(mixed)
                at_end = worker_rss_mb(flaskr)
                time.sleep(IDLE_SECONDS)
                memory[size] = (during_logins, at_end, worker_rss_mb(flaskr))
                # The machine's speed drifts during a run: the ratios are to the
                # mean of the bare app timed before and after Flaskr's pages.
                hello_after = wrk(hello_url + "/", args.seconds, *encoding_header)
                hello_rates[size] = (hello_before["rate"], hello_after["rate"])
                results[size]["hello"] = {
                    "rate": statistics.mean(hello_rates[size]),
                    "p50": max(hello_before["p50"], hello_after["p50"]),
                    "p99": max(hello_before["p99"], hello_after["p99"]),
                }
            finally:
                for server in (flaskr, cold):
                    server.terminate()
                    server.wait()
    finally:
        hello.terminate()
        hello.wait()

    print(f"\nevery request with Accept-Encoding: {encoding or '(none)'}")
    print(f"\n{'page':<20}" + "".join(f"{f'{size:,} posts':>40}" for size in sizes))
    print(
        f"{'':<20}" + "".join(f"{'req/s   p50 ms   p99 ms   ratio':>40}" for _ in sizes)
    )
    for name in results[sizes[0]]:
        row = f"{name:<20}"
        for size in sizes:
            figures = results[size][name]
            ratio = figures["rate"] / results[size]["hello"]["rate"]
            row += f"{figures['rate']:>16.1f}{figures['p50']:>9.2f}"
            row += f"{figures['p99']:>9.2f}{ratio:>6.3f}"
        print(row)
    print("\npage cache hit ratio in the mixes (hits / all requests, writes included):")
    for size, ratios in hit_ratios.items():
        shown = ", ".join(f"{name} {ratio:.3f}" for name, ratio in ratios.items())
        print(f"  {size:,} posts: {shown}")
    print("\nhello, requests/s before and after Flaskr's pages (ratios use the mean):")
    for size, (before, after) in hello_rates.items():
        print(f"  {size:,} posts: {before:.0f} / {after:.0f}")
    if len(sizes) > 1:
        first, last = results[sizes[0]], results[sizes[-1]]
        print(
            "\nrate at the largest size / rate at the smallest, and the same for the"
            " ratio to hello (which takes out the machine's drift between the two):"
        )
        for name in first:
            growth = last[name]["rate"] / first[name]["rate"]
            drift = last["hello"]["rate"] / first["hello"]["rate"]
            print(f"  {name:<20}{growth:.2f}  {growth / drift:.2f}")
    print(
        "\nlog in: the rest of the request beside the password check, per round"
        f" (the median of {LOGIN_ROUNDS})"
    )
    for size, timings in login_timings.items():
        for name in (LOG_IN, FLOOR_LOG_IN, BARE_LOG_IN):
            print(f"  {size:,} posts, {name}: {login_report(name, timings)}")
    print(
        "\nworker resident memory: as the logins end / at the end of the run"
        f" / after {IDLE_SECONDS} s idle"
    )
    for size, (during_logins, at_end, idle) in memory.items():
        print(
            f"  {size:,} posts: {during_logins:.0f} MB / {at_end:.0f} MB"
            f" / {idle:.0f} MB"
        )


if __name__ == "__main__":
    main()
