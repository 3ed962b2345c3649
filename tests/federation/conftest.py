"""What the federation leg shares: Flaskr sites served by gunicorn on
loopback ports (``Site``, ``start_site``), a browser that talks to them
through HTTP only (``Browser``), and fediverse-pasture's peer
(``pasture``), run by the interpreter of ``.venv-pasture``.

Run with ``./dev.sh federation`` (CI does), which makes ``.venv-pasture`` and
names its interpreter in ``FLASKR_PASTURE_PYTHON``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import requests

from tests.helpers import free_port

ROOT = Path(__file__).parents[2]
PEER = Path(__file__).parent / "pasture_peer.py"
CSRF = re.compile(r'<input[^>]*name="([^"]*csrf_token)"[^>]*value="([^"]+)"')
PASSWORD = "federation passphrase"


def wait_until(
    what: str, check: t.Callable[[], t.Any], timeout: float = 30, every: float = 0.3
) -> t.Any:
    """``check()``'s first true answer, asked every ``every`` seconds.

    :raise AssertionError: none came within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(every)


def _answers(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{what} at {url} exited: {process.returncode}")
        try:
            requests.get(url, timeout=2)
        except (requests.ConnectionError, requests.Timeout):
            return False
        return True

    wait_until(f"{what} at {url}", up, timeout=60, every=0.2)


@dataclasses.dataclass
class Site:
    """One Flaskr served by gunicorn (with its background timer, which sends
    the deliveries) on ``url``, with SQLite in its own instance folder."""

    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    #: The server's environment: its instance folder and secret key.
    env: dict[str, str]

    @property
    def database(self) -> Path:
        return Path(self.env["FLASKR_INSTANCE_PATH"]) / "flaskr.sqlite"

    @property
    def host(self) -> str:
        """The host part of this site's handles: ``127.0.0.1:PORT``."""
        return self.url.removeprefix("http://")

    def record_state(self) -> None:
        """Add to the log what a failed test needs to be understood: each
        worker's threads' stacks (``kill -USR2``, see ``gunicorn.conf.py``)
        and the site's queues of events and deliveries."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = children.read_text().split() if children.exists() else []
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(worker), signal.SIGUSR2)
        time.sleep(1)  # the stacks are written by the workers themselves
        queues = {
            "event": "SELECT id, kind, due, dispatched FROM event",
            "event_delivery": "SELECT * FROM event_delivery",
            "federation_delivery": "SELECT id, inbox, signer, attempts, "
            "next_attempt, done, failed, last_error FROM federation_delivery",
        }
        with self.log.open("a") as log, sqlite3.connect(self.database) as database:
            for table, query in queues.items():
                print(f"--- {table}", file=log)
                for row in database.execute(query):
                    print(row, file=log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def site_environment(instance: Path, url: str) -> dict[str, str]:
    # None of the shell's FLASKR_* settings (a database URL, say) leak in.
    env = {key: value for key, value in os.environ.items() if "FLASKR_" not in key}
    return {
        **env,
        "FLASKR_INSTANCE_PATH": str(instance),
        "FLASKR_SITE_URL": url,
        "FLASKR_FEDERATION": "true",
        # Loopback and plain http are refused by default (SECURITY.md):
        # allowed here as for peers on one private network.
        "FLASKR_FEDERATION_ALLOW_HTTP": "true",
        "FLASKR_FEDERATION_ALLOW_PRIVATE": "true",
        # Each worker's timer sends due deliveries twice a second.
        "FLASKR_BACKGROUND_INTERVAL": "0.5",
        "FLASKR_SECRET_KEY": secrets.token_hex(32),
        "FLASKR_REGISTER_LIMITS": "100 per minute",
        "FLASKR_REGISTER_MIN_FILL_SECONDS": "0",
        # pasture sends a few hundred activities from one address.
        "FLASKR_FEDERATION_INBOX_LIMITS": "10000 per minute",
        # Two workers: one may wait on the other site while the other
        # answers a fetch of this site's actor.
        "WEB_CONCURRENCY": "2",
        "FLASKR_LOG_LEVEL": "info",
    }


def start_site(folder: Path, name: str, database: Path) -> Site:
    """A fresh Flaskr serving on a free port, on a copy of ``database`` (see
    :func:`empty_database`); wait for it with :func:`wait_ready`."""
    url = f"http://127.0.0.1:{free_port()}"
    instance = folder / name
    instance.mkdir(parents=True)
    env = site_environment(instance, url)
    shutil.copyfile(database, instance / "flaskr.sqlite")
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                "--bind", url.removeprefix("http://"), "flaskr:create_app()",
            ],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Site(name, url, log, process, env)


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database made by ``init-db``, which every site copies: making
    one takes seconds on a busy machine."""
    instance = tmp_path_factory.mktemp("empty")
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "flaskr", "init-db", "--yes"],
        env=site_environment(instance, "http://127.0.0.1"),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return instance / "flaskr.sqlite"


def wait_ready(site: Site) -> Site:
    _answers(f"{site.url}/healthz", site.process, f"Flaskr {site.name}")
    return site


class Browser:
    """One person's browser (one cookie jar) on one site."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.http = requests.Session()

    def get(self, path: str, **headers: str) -> requests.Response:
        return self.http.get(
            self.site.url + path, headers=headers, allow_redirects=False, timeout=15
        )

    def post(self, path: str, form_page: str, **data: t.Any) -> requests.Response:
        """POST ``data`` to ``path`` with the CSRF token of the first form on
        ``form_page`` whose token field ends ``csrf_token`` and starts with
        ``data.pop("_prefix", "")``."""
        prefix = data.pop("_prefix", "")
        page = self.get(form_page)
        assert page.status_code == 200, f"{form_page}: {page.status_code}"
        tokens = [
            (field, value)
            for field, value in CSRF.findall(page.text)
            if field == f"{prefix}csrf_token"
        ]
        assert tokens, f"no form with {prefix}csrf_token on {form_page}"
        field, value = tokens[0]
        return self.http.post(
            self.site.url + path,
            data={**data, field: value},
            allow_redirects=False,
            timeout=30,
        )

    def register_and_log_in(self, name: str) -> None:
        self.post("/auth/register", "/auth/register", username=name, password=PASSWORD)
        response = self.post(
            "/auth/login", "/auth/login", username=name, password=PASSWORD
        )
        assert response.status_code == 302, f"{name} could not log in"

    def hold_first_comments(self) -> None:
        """As the site's administrator: hold every account's first comment
        for a moderator (a remote author's first reply is one)."""
        response = self.post(
            "/admin/comments",
            "/admin",
            _prefix="comments-",
            **{
                "comments-policy": "anyone",
                "comments-rules": ["first_comment"],
                "comments-link_limit": "2",
                "comments-words": "",
                "comments-account_hours": "24",
            },
        )
        assert response.status_code == 302, response.text[:2000]

    def publish(self, title: str, body: str) -> tuple[str, int]:
        """Publish a post; its page's path and its id."""
        response = self.post(
            "/create", "/create", title=title, body=body, action="publish"
        )
        assert response.status_code == 302, response.text[:2000]
        path = response.headers["Location"]
        found = re.search(r'href="/(\d+)/update"', self.get(path).text)
        assert found is not None, "no edit link on the post's page"
        return path, int(found.group(1))


def actor_of(site: Site, username: str) -> str:
    """The actor id WebFinger gives for ``username`` on ``site``."""
    response = requests.get(
        f"{site.url}/.well-known/webfinger",
        params={"resource": f"acct:{username}@{site.host}"},
        timeout=10,
    )
    assert response.status_code == 200, f"WebFinger: {response.status_code}"
    links = response.json()["links"]
    return str(
        next(
            link["href"]
            for link in links
            if link.get("rel") == "self" and "activity" in link.get("type", "")
        )
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> t.Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def logs(request: pytest.FixtureRequest) -> t.Iterator[list[tuple[str, Path]]]:
    """Servers' logs (a name and a file) to print when the test fails."""
    kept: list[tuple[str, Path]] = []
    yield kept
    if request.node.stash.get(FAILED, False):
        for name, path in kept:
            print(f"\n===== log of {name} =====")
            print(path.read_text(errors="replace")[-60_000:])


@pytest.fixture
def sites(
    request: pytest.FixtureRequest,
    logs: list[tuple[str, Path]],
    tmp_path: Path,
    empty_database: Path,
) -> t.Iterator[t.Callable[..., list[Site]]]:
    """Starts Flaskr sites by name, side by side (each ``init-db`` and
    gunicorn's start take seconds); stops them after the test (and prints
    their logs when it failed)."""
    started: list[Site] = []

    def start(*names: str) -> list[Site]:
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            futures = [
                pool.submit(start_site, tmp_path, name, empty_database)
                for name in names
            ]
        new = [future.result() for future in futures if not future.exception()]
        started.extend(new)  # stopped after the test, whatever happens next
        for future in futures:
            future.result()  # raises what one start raised
        for site in new:
            logs.append((f"Flaskr {site.name} ({site.url})", site.log))
        for site in new:
            wait_ready(site)
        return new

    yield start
    if request.node.stash.get(FAILED, False):
        for site in started:
            site.record_state()
    for site in started:
        site.stop()


@dataclasses.dataclass
class Pasture:
    """fediverse-pasture's peer (``pasture_peer.py``) on ``url``."""

    url: str
    log: Path

    def verify_actor(self, actor_uri: str) -> dict[str, t.Any]:
        """pasture's verify-actor result for ``actor_uri``: ``{"result":
        {name: {"get_actor", "post_inbox"}, "webfinger": bool}, "messages"}``."""
        response = requests.post(
            self.url + "/",
            data={"actor_uri": actor_uri},
            headers={"Accept": "application/json"},
            timeout=120,
        )
        assert response.status_code == 200, response.text[:2000]
        return dict(response.json())

    def fetch(self, uri: str) -> dict[str, t.Any]:
        return dict(
            requests.post(self.url + "/fetch", json={"uri": uri}, timeout=60).json()
        )

    def send_note(self, to: str, content: str, in_reply_to: str | None = None) -> t.Any:
        return requests.post(
            self.url + "/send-note",
            json={"to": to, "content": content, "in_reply_to": in_reply_to},
            timeout=60,
        ).json()

    def send_inputs(self, to: str, in_reply_to: str) -> list[dict[str, t.Any]]:
        """Every fediverse-pasture-inputs example sent as a reply."""
        return list(
            requests.post(
                self.url + "/send-inputs",
                json={"to": to, "in_reply_to": in_reply_to},
                timeout=120,
            ).json()
        )

    @property
    def actor(self) -> str:
        """pasture's application actor, which ``fetch`` and ``send_note`` use."""
        return f"{self.url}/actor"


def pasture_python() -> str:
    python = os.environ.get("FLASKR_PASTURE_PYTHON") or str(
        ROOT / ".venv-pasture" / "bin" / "python"
    )
    if not Path(python).exists():
        pytest.fail(
            f"no fediverse-pasture interpreter at {python}: run ./dev.sh federation"
        )
    return python


@pytest.fixture(scope="module")
def pasture(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Pasture]:
    folder = tmp_path_factory.mktemp("pasture")
    port = free_port()
    log = folder / "pasture.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [pasture_python(), str(PEER), "--port", str(port), "--data", str(folder)],
            # bovine keeps a cache of JSON-LD contexts in the working folder.
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _answers(f"{url}/actor", process, "fediverse-pasture")
        yield Pasture(url, log)
    finally:
        process.terminate()
        process.wait(timeout=20)
