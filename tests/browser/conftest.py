"""Browser tests: the real site on 127.0.0.1, driven by Playwright in Chromium.

They use Debian's Chromium (``apt-get install chromium``), never a browser that
Playwright downloads. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import db
from flaskr.schema import init_db
from tests.conftest import make_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app the live server serves, for tests that set data up directly."""
    folder = tmp_path_factory.mktemp("live")
    app = create_app(make_config(f"sqlite:///{folder / 'flaskr.sqlite'}"))
    with app.app_context():
        init_db()
        db.engine.dispose()
    return app


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> t.Iterator[str]:
    """The site, served by a thread on a free port of 127.0.0.1."""
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> t.Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> t.Iterator[t.Callable[..., Page]]:
    """Open pages in fresh browser contexts (separate cookies), on the live site."""
    contexts = []

    def open_page(**context_options: t.Any) -> Page:
        context = browser.new_context(base_url=live_server, **context_options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> t.Callable[[Page, str], None]:
    """``screenshot(page, step)`` saves the whole page as a PNG for people to see."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> None:
        page.screenshot(
            path=SCREENSHOTS / f"{request.node.name}-{step}.png", full_page=True
        )

    return take
