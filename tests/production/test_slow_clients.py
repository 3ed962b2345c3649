"""The production stack (``./dev.sh production``: nginx in front of gunicorn's
two workers) keeps answering while clients hold connections open.

Run with ``./dev.sh slow-clients`` (CI does). It starts ``./dev.sh production``
itself, on 127.0.0.1:8080 as documented, with its files in a temporary folder.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import signal
import socket
import subprocess
import time
import typing as t
from pathlib import Path

import pytest
import requests

from tests.helpers import free_port

pytestmark = pytest.mark.production

ROOT = Path(__file__).parents[2]
PROXY = "127.0.0.1:8080"
SITE = f"http://{PROXY}"
IDLE_CLIENTS = 200
HALF_SENT_CLIENTS = 200
#: What each normal request must be answered within, slow clients or not.
ANSWER_WITHIN = 1.0
NORMAL_PATHS = ("/", "/hello", "/healthz", "/static/style.css", "/feed.atom")


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120  # the first run installs nginx
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"./dev.sh production exited:\n{log.read_text()}")
        # A worker still booting on a busy machine answers late: not up yet.
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer:\n{log.read_text()}")


class Stack(t.NamedTuple):
    gunicorn: tuple[str, int]
    log: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Stack]:
    folder = tmp_path_factory.mktemp("production")
    gunicorn = ("127.0.0.1", free_port())
    log = folder / "stack.log"
    env = {
        **os.environ,
        "FLASKR_PRODUCTION_RUN": str(folder / "run"),
        "FLASKR_INSTANCE_PATH": str(folder / "instance"),
        "FLASKR_BIND": f"{gunicorn[0]}:{gunicorn[1]}",
        "FLASKR_DATABASE_URL": f"sqlite:///{folder / 'flaskr.sqlite'}",
    }
    for name in ("WEB_CONCURRENCY", "FLASKR_WORKER_CLASS", "FLASKR_THREADS"):
        env.pop(name, None)  # the documented two workers, as gunicorn.conf.py has them
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "dev.sh"), "production"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(SITE, process, log)
        yield Stack(gunicorn, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def slow_clients(
    address: tuple[str, int], idle: int, half_sent: int
) -> t.Iterator[list[socket.socket]]:
    """``idle`` connections that send nothing and ``half_sent`` that send part
    of a request (half a request line, or a request line and part of the
    headers), held open until the block ends."""
    held: list[socket.socket] = []
    partial = [b"GET /hel", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Ag"]
    try:
        for number in range(idle + half_sent):
            client = socket.create_connection(address, timeout=5)
            if number >= idle:
                client.sendall(partial[number % 2])
            held.append(client)
        yield held
    finally:
        for client in held:
            client.close()


def still_open(client: socket.socket) -> bool:
    """Whether the server has not closed ``client`` (nothing to read, no EOF)."""
    client.setblocking(False)
    try:
        return client.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        client.setblocking(True)


def timed_get(url: str) -> tuple[int, float]:
    start = time.monotonic()
    response = requests.get(url, timeout=10)
    return response.status_code, time.monotonic() - start


def test_requests_are_answered_while_slow_clients_hold_connections(stack, capsys):
    with slow_clients(("127.0.0.1", 8080), IDLE_CLIENTS, HALF_SENT_CLIENTS) as held:
        answers = [timed_get(f"{SITE}{path}") for path in NORMAL_PATHS * 10]
        assert all(still_open(client) for client in held), "nginx dropped them early"
    statuses = {status for status, _ in answers}
    slowest = max(seconds for _, seconds in answers)
    with capsys.disabled():
        print(
            f"\n{len(answers)} requests with {IDLE_CLIENTS} idle and"
            f" {HALF_SENT_CLIENTS} half-sent connections open: slowest"
            f" {slowest * 1000:.0f} ms"
        )
    assert statuses == {200}
    assert slowest < ANSWER_WITHIN


def test_without_nginx_idle_clients_stop_gunicorn(stack):
    """Why nginx is there: the same idle clients, sent to gunicorn itself, hold
    every thread of its two workers (a thread waits for a new connection's
    request; two workers of four threads are stopped by eight, but which worker
    takes which connection is the kernel's choice, so all of them are sent),
    and a normal request waits (until the clients give up or gunicorn's worker
    timeout)."""
    with slow_clients(stack.gunicorn, idle=IDLE_CLIENTS, half_sent=0):
        host, port = stack.gunicorn
        with pytest.raises(requests.Timeout):
            requests.get(f"http://{host}:{port}/hello", timeout=ANSWER_WITHIN)
    # Once they are gone, it answers again.
    assert requests.get(f"http://{host}:{port}/hello", timeout=10).status_code == 200


def test_flaskr_sees_the_client_through_one_trusted_hop(stack):
    spoofed = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
        "X-Request-ID": "chosen-by-the-client",
    }
    response = requests.get(f"{SITE}/hello?hop-check", headers=spoofed, timeout=10)
    # nginx's own request id, not the client's.
    request_id = response.headers["X-Request-ID"]
    assert request_id != "chosen-by-the-client" and len(request_id) == 32
    deadline = time.monotonic() + 5
    while request_id not in stack.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    [line] = [x for x in stack.log.read_text().splitlines() if request_id in x]
    assert '"address": "127.0.0.1"' in line
    assert "203.0.113.9" not in line
    # Links name the site as nginx serves it, host and port.
    feed = requests.get(f"{SITE}/feed.atom", headers=spoofed, timeout=10).text
    assert f"{SITE}/" in feed
    assert "evil.example" not in feed


def test_nginx_serves_static_files_itself(stack):
    response = requests.get(f"{SITE}/static/style.css", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers  # not Flask's answer
    again = requests.get(
        f"{SITE}/static/style.css",
        headers={"If-None-Match": response.headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304
    assert "/static/style.css" not in stack.log.read_text()


def test_a_request_body_too_large_is_refused_before_gunicorn(stack):
    with socket.create_connection(("127.0.0.1", 8080), timeout=10) as client:
        client.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 9437184\r\n\r\n"
        )
        status_line = client.makefile("rb").readline()
    assert status_line.split()[1] == b"413"
    assert '"path": "/auth/login"' not in stack.log.read_text()


@pytest.mark.parametrize("path", ["/", "/feed.atom"])
def test_kept_pages_pass_nginx_compressed_once(stack, path):
    """Flaskr sends kept pages gzip-compressed to clients that accept it;
    nginx, which compresses these types itself, leaves them as they are."""
    browser = {"Accept-Encoding": "gzip, deflate, br"}
    # Each of the two workers keeps the page at its second request for it.
    for _ in range(6):
        response = requests.get(
            f"{SITE}{path}", headers=browser, stream=True, timeout=10
        )
        body = response.raw.read(decode_content=False)
        if "Content-Encoding" in response.headers:
            break
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"].lower().count("accept-encoding") == 1
    page = gzip.decompress(body)
    assert page.lstrip().lower().startswith((b"<!doctype html", b"<?xml"))
