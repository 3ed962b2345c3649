"""What the multiserver tests share: two gunicorn servers on one PostgreSQL
and one Redis (``servers``), an SMTP server they both mail (``smtp``), and
their settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import requests

from tests.conftest import SmtpServer
from tests.helpers import free_port

ROOT = Path(__file__).parents[2]
DATABASE = os.environ.get(
    "FLASKR_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("FLASKR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CSRF = re.compile(r'<input[^>]*name="[^"]*csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "multi-server passphrase"
#: Where this run's servers keep pages in Redis.
PAGE_PREFIX = f"multiserver:{secrets.token_hex(4)}:"


def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited: {process.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or listening while its workers still boot
            # (slow on a busy machine).
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy")


@pytest.fixture(scope="module")
def smtp() -> t.Iterator[SmtpServer]:
    """The SMTP server both servers send through, on 127.0.0.1."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> t.Iterator[list[str]]:
    shared = {
        "FLASKR_MAIL_SERVER": "127.0.0.1",
        "FLASKR_MAIL_PORT": str(smtp.port),
        # Each worker's timer looks for due mail and events twice a second.
        "FLASKR_BACKGROUND_INTERVAL": "0.5",
        "FLASKR_DATABASE_URL": DATABASE,
        "FLASKR_RATELIMIT_STORAGE_URI": REDIS,
        # Kept pages shared by both servers, in a namespace of this run's own.
        "FLASKR_REDIS_URL": REDIS,
        "FLASKR_PAGE_CACHE_REDIS_PREFIX": PAGE_PREFIX,
        # On a machine busy with both servers, a slow answer must not count
        # as Redis failing (which keeps pages per worker for a while).
        "FLASKR_PAGE_CACHE_REDIS_TIMEOUT": "2",
        # A fresh prefix: Redis keeps counts between runs.
        "FLASKR_RATELIMIT_KEY_PREFIX": secrets.token_hex(8),
        # The tests register more writers from one address than a minute's
        # registrations allow (the limits themselves are tested with logins).
        "FLASKR_REGISTER_LIMITS": "100 per minute",
        # ... and faster than a person fills the form.
        "FLASKR_REGISTER_MIN_FILL_SECONDS": "0",
        "FLASKR_SECRET_KEY": secrets.token_hex(32),
        "WEB_CONCURRENCY": "2",
    }
    processes, urls = [], []
    for number in range(2):
        env = {
            **os.environ,
            **shared,
            # Nothing else is shared: each server has its own instance folder.
            "FLASKR_INSTANCE_PATH": str(tmp_path_factory.mktemp(f"server{number}")),
        }
        if number == 0:
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "flask", "--app", "flaskr", "init-db", "--yes"],
                env=env,
                check=True,
                capture_output=True,
            )
        url = f"http://127.0.0.1:{free_port()}"
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                "--bind", url.removeprefix("http://"), "flaskr:create_app()",
            ],
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        processes.append(process)
        urls.append(url)
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_healthy(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: gunicorn's graceful shutdown
        for process in processes:
            assert process.wait(timeout=40) == 0


class Browser:
    """One browser (one cookie jar) that may talk to either server."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def get(self, server: str, path: str) -> requests.Response:
        return self.http.get(server + path, allow_redirects=False, timeout=10)

    def post(
        self, server: str, path: str, form_page: str, **data: t.Any
    ) -> requests.Response:
        """POST to ``path`` with the CSRF token from ``form_page`` (same server)."""
        page = self.get(server, form_page).text
        token = CSRF.search(page)
        assert token is not None, f"no form on {form_page}"
        return self.http.post(
            server + path,
            data={**data, "csrf_token": token.group(1)},
            files=data.pop("_files", None),
            allow_redirects=False,
            timeout=10,
        )

    def register_and_log_in(self, server: str, name: str) -> None:
        self.post(
            server, "/auth/register", "/auth/register", username=name, password=PASSWORD
        )
        assert self.log_in(server, name).status_code == 302

    def log_in(
        self, server: str, name: str, password: str = PASSWORD
    ) -> requests.Response:
        return self.post(
            server, "/auth/login", "/auth/login", username=name, password=password
        )

    def logged_in(self, server: str) -> bool:
        return self.get(server, "/auth/account").status_code == 200


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"
