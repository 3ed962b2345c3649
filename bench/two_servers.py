"""The realistic mix on two servers sharing PostgreSQL and Redis:
``./bench/run two-servers --postgresql URL [options]`` (bench/README.md, "Two
servers sharing PostgreSQL and Redis").

Seeds (or brings up to date) the database ``flaskr_bench_SIZE`` as ``bench/run``
does, then serves Flaskr as two gunicorn servers, each on its own port with its
own instance folder and ``--workers-per-server`` sync workers, sharing that
database and one Redis (under a key prefix made for the run, so nothing an
earlier run stored there is served). Two wrk processes, one per server, load
both at once with the realistic mix of ``bench/mix.py`` (each drawing its own
requests), for half the time to warm up and then for the time measured.

It prints requests/s over both servers and per worker, the ratio to a bare
Flask app with one worker timed in the same run (before and after, the mean),
p50 and p99 over every request of both servers, the page cache's hit ratio
over every worker after the warm-up, and each worker's resident memory at the
end. Beside them, the bare app served the same way as Flaskr (two servers,
the same workers, loaded at once) shows what this machine gives that many
workers at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

import redis

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import check_timing  # noqa: E402
import mix  # noqa: E402
from run import accept_encoding  # noqa: E402
from run import add_accept_encoding_option  # noqa: E402
from run import database_url  # noqa: E402
from run import flaskr_env  # noqa: E402
from run import header_arguments  # noqa: E402
from run import memory_mb  # noqa: E402
from run import ROOT  # noqa: E402
from run import seed  # noqa: E402
from run import serve  # noqa: E402
from run import start_wrk  # noqa: E402
from run import WORK  # noqa: E402
from run import workers_of  # noqa: E402
from run import wrk  # noqa: E402
from run import wrk_figures  # noqa: E402

SERVERS = 2
#: wrk's connections per worker: four, as ``bench/run`` loads its one worker.
CONNECTIONS_PER_WORKER = 4
#: The setting naming the prefix of the page cache's keys in Redis.
REDIS_PREFIX_SETTING = "FLASKR_PAGE_CACHE_REDIS_PREFIX"


def redis_settings(url: str, prefix: str) -> dict[str, str]:
    """Flaskr's settings for sharing the Redis at ``url`` under ``prefix``."""
    return {
        # The page cache's second tier.
        "FLASKR_REDIS_URL": url,
        # A new prefix each run: a database seeded again starts its site
        # version again, so an earlier run's pages would pass for current.
        REDIS_PREFIX_SETTING: prefix,
        # Where several servers keep their throttling and lockout counts
        # (throttling is off in the benchmark, as in bench/run).
        "FLASKR_RATELIMIT_STORAGE_URI": url,
        "FLASKR_RATELIMIT_KEY_PREFIX": prefix,
    }


def latency_dump(into: Path) -> str:
    """Lua for the end of a wrk script: write every latency seen (µs) and how
    many requests took it to ``into``, so that two wrk processes' latencies
    can be put together (their percentiles cannot)."""
    return f"""
-- Added by bench/two_servers.py.
done = function(summary, latency, requests)
  local out = assert(io.open("{into}", "w"))
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(value, " ", count, "\\n")
  end
  out:close()
end
"""


def mix_script(
    audience: mix.Audience,
    write_share: float,
    accept_encoding: str | None,
    folder: Path,
    number: int,
) -> tuple[Path, Path]:
    """The mix's wrk script for server ``number`` (a seed of its own), which
    dumps its latencies at the end; return it and where they go."""
    dump = folder / f"latencies-{number}.txt"
    script = mix.script(
        audience,
        write_share,
        folder / f"mix-{number}.lua",
        accept_encoding=accept_encoding,
        seed=mix.SEED + number,
    )
    with script.open("a") as lua:
        lua.write(latency_dump(dump))
    return script, dump


def percentiles_ms(dumps: list[Path], *points: float) -> list[float]:
    """The latencies (ms) under which ``points`` percent of the requests
    recorded in every file of ``dumps`` (:func:`latency_dump`) were answered."""
    counts: dict[int, int] = {}
    for dump in dumps:
        for line in dump.read_text().splitlines():
            value, count = map(int, line.split())
            counts[value] = counts.get(value, 0) + count
    total = sum(counts.values())
    found = []
    for point in points:
        seen = 0
        for value in sorted(counts):
            seen += counts[value]
            if seen >= total * point / 100:
                found.append(value / 1000)
                break
    return found


def load_at_once(
    urls: list[str], seconds: int, extra: list[list[str]], connections: int
) -> list[dict[str, float]]:
    """Load each of ``urls`` with a wrk process of its own (with its ``extra``
    arguments), all at once; return each one's figures."""
    processes = [
        start_wrk(url, seconds, *arguments, connections=connections)
        for url, arguments in zip(urls, extra, strict=True)
    ]
    try:
        return [
            wrk_figures(url, process)
            for url, process in zip(urls, processes, strict=True)
        ]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def forget_run_keys(url: str, prefix: str) -> tuple[int, int]:
    """Delete the keys the run stored under ``prefix`` in the Redis at ``url``;
    return how many there were and the bytes Redis held for them."""
    store = redis.Redis.from_url(url)
    keys = list(store.scan_iter(match=f"*{prefix}*", count=1000))
    held = 0
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        sizes = store.pipeline(transaction=False)
        for key in batch:
            sizes.memory_usage(key)
        held += sum(size or 0 for size in sizes.execute())
        store.unlink(*batch)
    store.close()
    return len(keys), held


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait()


@dataclasses.dataclass
class Run:
    """What one run at one size measured."""

    #: Each server's wrk figures (rate, p50, p99, requests).
    servers: list[dict[str, float]]
    #: p50 and p99 (ms) over every request of both servers.
    p50: float
    p99: float
    #: The bare app, one worker, before and after Flaskr's run.
    hello_rates: tuple[float, float]
    #: The bare app served as Flaskr was: each server's figures.
    bare_servers: list[dict[str, float]]
    #: Page cache hits over all requests of the measured run, every worker.
    hit_ratio: float
    #: Requests made in the warm-up, over both servers.
    warm_up_requests: int
    #: Per server, each worker's resident memory at the end and its peak (MB).
    memory: list[list[tuple[float, float]]]
    #: Keys under the run's prefix in Redis at the end, and their bytes.
    redis_keys: int
    redis_bytes: int

    @property
    def rate(self) -> float:
        return sum(figures["rate"] for figures in self.servers)

    @property
    def hello(self) -> float:
        return statistics.mean(self.hello_rates)

    @property
    def bare_rate(self) -> float:
        return sum(figures["rate"] for figures in self.bare_servers)


def measure(size: int, args: argparse.Namespace) -> Run:
    """Serve Flaskr (``size`` posts) and the bare app, load them, and measure."""
    encoding = accept_encoding(args.accept_encoding)
    workers = args.workers_per_server
    connections = CONNECTIONS_PER_WORKER * workers
    folder = WORK / "two-servers"
    hits = folder / "hits"
    hits.mkdir(parents=True, exist_ok=True)
    for old in hits.iterdir():
        old.unlink()
    prefix = f"bench-{secrets.token_hex(6)}:"
    shared = {
        **flaskr_env(size, args.postgresql),
        **redis_settings(args.redis, prefix),
        "PYTHONPATH": str(HERE),
        check_timing.HITS_FOLDER: str(hits),
    }
    bare_env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        # The floor login is not loaded here: an in-memory database per worker.
        "YARDSTICK_DATABASE_URL": "sqlite://",
    }
    hello_app = "check_timing:yardsticks()"
    flaskr_servers, urls = [], []
    bare_servers: list[subprocess.Popen[bytes]] = []
    hello, hello_url = serve(hello_app, bare_env, ROOT)
    try:
        for number in range(1, SERVERS + 1):
            instance = WORK / f"{size}-posts-postgresql-server{number}"
            instance.mkdir(parents=True, exist_ok=True)
            env = {**shared, "FLASKR_INSTANCE_PATH": str(instance)}
            server, url = serve("check_timing:flaskr()", env, ROOT, workers)
            flaskr_servers.append(server)
            urls.append(url)
        reader_headers = header_arguments(encoding)
        hello_before = wrk(f"{hello_url}/", args.seconds, *reader_headers)

        users = max(10, size // 100)  # as seed-demo makes them
        database = database_url(size, args.postgresql)
        audience = mix.audience(urls[0], database, WORK, users)
        scripts = [
            mix_script(audience, args.write_share, encoding, folder, number)
            for number in range(1, SERVERS + 1)
        ]
        dumps = [dump for _, dump in scripts]

        warm_up = args.warm_up or max(1, args.seconds // 2)
        script_arguments = [["-s", str(script)] for script, _ in scripts]
        warming = load_at_once(urls, warm_up, script_arguments, connections)
        hits_before = check_timing.all_page_cache_hits(hits)
        figures = load_at_once(urls, args.seconds, script_arguments, connections)
        hits_during = check_timing.all_page_cache_hits(hits) - hits_before
        memory = [
            [(memory_mb(pid), memory_mb(pid, "VmHWM")) for pid in workers_of(server)]
            for server in flaskr_servers
        ]
        p50, p99 = percentiles_ms(dumps, 50, 99)
        requests_made = sum(each["requests"] for each in figures)
        stop(flaskr_servers)
        flaskr_servers = []

        hello_after = wrk(f"{hello_url}/", args.seconds, *reader_headers)
        bare_urls = []
        for _ in range(SERVERS):
            server, url = serve(hello_app, bare_env, ROOT, workers)
            bare_servers.append(server)
            bare_urls.append(f"{url}/")
        bare = load_at_once(
            bare_urls, args.seconds, [reader_headers] * SERVERS, connections
        )
    finally:
        stop([*flaskr_servers, *bare_servers, hello])
        redis_keys, redis_bytes = forget_run_keys(args.redis, prefix)
    return Run(
        servers=figures,
        p50=p50,
        p99=p99,
        hello_rates=(hello_before["rate"], hello_after["rate"]),
        bare_servers=bare,
        hit_ratio=hits_during / requests_made,
        warm_up_requests=sum(each["requests"] for each in warming),
        memory=memory,
        redis_keys=redis_keys,
        redis_bytes=redis_bytes,
    )


def report(size: int, run: Run, args: argparse.Namespace) -> None:
    workers = SERVERS * args.workers_per_server
    encoding = accept_encoding(args.accept_encoding)
    warm_up = args.warm_up or max(1, args.seconds // 2)
    print(
        f"\n{size:,} posts: {SERVERS} servers × {args.workers_per_server} sync"
        f" worker(s), {args.write_share:.0%} writes, {warm_up} s warm-up,"
        f" {args.seconds} s measured, Accept-Encoding: {encoding or '(none)'}"
    )
    print(
        f"  {'':<28}{'req/s':>9}{'per worker':>12}{'ratio':>7}"
        f"{'p50 ms':>8}{'p99 ms':>8}"
    )
    rows = [
        (f"server {number}", each["rate"], each["p50"], each["p99"])
        for number, each in enumerate(run.servers, 1)
    ]
    rows.append(("both", run.rate, run.p50, run.p99))
    for name, rate, p50, p99 in rows:
        per_worker = rate / (workers if name == "both" else args.workers_per_server)
        print(
            f"  {name:<28}{rate:>9.1f}{per_worker:>12.1f}"
            f"{per_worker / run.hello:>7.3f}{p50:>8.2f}{p99:>8.2f}"
        )
    before, after = run.hello_rates
    print(
        f"  {'bare app, one worker':<28}{run.hello:>9.1f}{run.hello:>12.1f}"
        f"{1:>7.3f}   (before {before:.0f}, after {after:.0f})"
    )
    bare_per_worker = run.bare_rate / workers
    print(
        f"  {'bare app served as Flaskr':<28}{run.bare_rate:>9.1f}"
        f"{bare_per_worker:>12.1f}{bare_per_worker / run.hello:>7.3f}"
    )
    print(
        f"  Flaskr per worker / the bare app served as Flaskr, per worker:"
        f" {run.rate / run.bare_rate:.3f}"
    )
    requests_made = sum(each["requests"] for each in run.servers)
    socket_errors = sum(each["socket errors"] for each in run.servers)
    print(
        f"  requests: {run.warm_up_requests:,} in the warm-up, {requests_made:,}"
        f" measured; connections cut or timed out (wrk): {socket_errors:,}"
    )
    print(
        f"  page cache hit ratio after the warm-up (hits of all {workers} workers"
        f" / all requests, writes included): {run.hit_ratio:.3f}"
    )
    for number, workers_memory in enumerate(run.memory, 1):
        shown = ", ".join(
            f"{now:.0f} MB (peak {peak:.0f})" for now, peak in workers_memory
        )
        print(f"  server {number}, each worker's resident memory at the end: {shown}")
    print(
        f"  Redis keys under the run's prefix at the end: {run.redis_keys:,}"
        f" ({run.redis_bytes / 2**20:.1f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        required=True,
        help="the PostgreSQL server (a URL naming any database on it); the"
        " benchmark's databases are flaskr_bench_SIZE there",
    )
    parser.add_argument("--redis", metavar="URL", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--workers-per-server", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--warm-up", type=int, metavar="SECONDS", help="default: half of --seconds"
    )
    parser.add_argument("--write-share", type=float, default=0.01)
    add_accept_encoding_option(parser)
    args = parser.parse_args()
    redis.Redis.from_url(args.redis).ping()  # fails now rather than mid-run

    WORK.mkdir(exist_ok=True)
    runs = {}
    for size in (int(size) for size in args.sizes.split(",")):
        seed(size, args.postgresql)
        runs[size] = measure(size, args)
    for size, run in runs.items():
        report(size, run, args)


if __name__ == "__main__":
    main()
