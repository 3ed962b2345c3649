"""The Lighthouse leg: Google's Lighthouse audits the real site on 127.0.0.1,
with Debian's Chromium and Lighthouse's default phone emulation.

Its tests are marked ``lighthouse`` and run by ``./dev.sh lighthouse``, which
installs Lighthouse from the npm registry at the version package-lock.json
names. Reports go to ``test-artifacts/lighthouse/``.
"""

from __future__ import annotations

import re
import threading
import typing as t
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import db
from flaskr.schema import init_db
from tests.conftest import make_config
from tests.realistic_site import PASSWORD
from tests.realistic_site import RealisticSite
from tests.realistic_site import seed_realistic_site
from tests.realistic_site import WRITER

HERE = Path(__file__).parent
REPORTS = HERE.parents[1] / "test-artifacts" / "lighthouse"

_CSRF = re.compile(r'<input[^>]*name="[^"]*csrf_token"[^>]*value="([^"]+)"')

#: Each audited page's scores (0–100 by category) and Lighthouse runs, for the
#: summary table.
SCORES: dict[str, dict[str, int]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.lighthouse)


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    if not SCORES:
        return
    categories = ("performance", "accessibility", "best-practices", "seo", "runs")
    terminalreporter.section("Lighthouse scores (phone emulation)")
    terminalreporter.write_line(
        f"{'page':<10}" + "".join(f"{name:>16}" for name in categories)
    )
    for page, scores in SCORES.items():
        terminalreporter.write_line(
            f"{page:<10}"
            + "".join(f"{scores.get(name, '-')!s:>16}" for name in categories)
        )
    terminalreporter.write_line(f"Reports: {REPORTS}/")


class Site(t.NamedTuple):
    address: str
    pages: RealisticSite
    #: The writer's session cookie ("name=value"), for pages behind a login.
    cookie: str


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Site]:
    """The realistic blog, served by a thread on a free port of 127.0.0.1,
    with a logged-in writer's session."""
    database = tmp_path_factory.mktemp("lighthouse") / "flaskr.sqlite"
    app = create_app(make_config(f"sqlite:///{database}"))
    with app.app_context():
        init_db()
        db.engine.dispose()
    pages = seed_realistic_site(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_port}"
    try:
        yield Site(address, pages, _log_in(address, app.config["SESSION_COOKIE_NAME"]))
    finally:
        server.shutdown()
        thread.join()


def _log_in(address: str, cookie_name: str) -> str:
    """Log the writer in through the login form, as a browser would."""
    with requests.Session() as browser:
        form = browser.get(f"{address}/auth/login", timeout=30)
        token = _CSRF.search(form.text)
        assert token, "the login form has no CSRF token"
        answer = browser.post(
            f"{address}/auth/login",
            data={"username": WRITER, "password": PASSWORD, "csrf_token": token[1]},
            timeout=30,
        )
        answer.raise_for_status()
        session = browser.cookies.get(cookie_name)
        assert session, "logging in set no session cookie"
        return f"{cookie_name}={session}"
