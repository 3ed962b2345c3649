"""The header at every width: the site's name keeps its room beside Search,
Write and the account menu, whoever is logged in and however long the name.

Before the account menu, nine items shared the bar and the Write button was
painted over the name at 800 to 1280 px (only "Fl" of "Flaskr" showed).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.base import site
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems

WIDTHS = (390, 800, 1024, 1280)
ADMIN, WRITER = "hedda", "ivo"
# As long as a site's name may be (SITE_TITLE_MAX_LENGTH), in words and in
# one word with no break.
LONG_TITLE = (
    "The Extraordinarily Long Weblog of the Department of Typography and the Open Web"
)
LONG_WORD = "Typographically" * 5
TITLES = {
    "short": "Flaskr",
    "long": LONG_TITLE,
    "word": LONG_WORD,
    "rtl": "הערות מהמעבדה על כלים וטיפוגרפיה",
}


@pytest.fixture(scope="module")
def people(live_app):
    with live_app.test_request_context():
        admin = directory.find_user(ADMIN) or accounts.register_user(ADMIN, PASSWORD)
        if directory.find_user(WRITER) is None:
            accounts.register_user(WRITER, PASSWORD)
        site.set_admin(admin)
    yield
    with live_app.test_request_context():
        site.set_admin(directory.find_user(ADMIN), False)
        site.update_identity("", "", "")


@pytest.mark.parametrize("title", TITLES)
def test_the_name_keeps_its_room(browser, live_server, live_app, people, title):
    with live_app.test_request_context():
        site.update_identity(TITLES[title], "", "")
    shots = SCREENSHOTS / "header"
    shots.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    for who in (None, WRITER, ADMIN):
        for width in WIDTHS:
            context = browser.new_context(
                base_url=live_server, viewport={"width": width, "height": 600}
            )
            page = context.new_page()
            if who:
                log_in(page, who)
            page.goto("/")
            name = page.locator(".site-name")
            expect(name).to_have_attribute("title", TITLES[title])
            problems = layout_problems(page)
            if title != "short":
                # A name too long for two lines ends in an ellipsis, by design;
                # the link's title holds all of it.
                problems = [p for p in problems if "is clipped" not in p]
            bar = page.locator(".header-bar").bounding_box()
            named = page.locator(".site-title").bounding_box()
            assert bar is not None and named is not None
            # The name keeps a fair share of the bar at every width.
            share = 0.3 if width < 500 else 0.45
            if named["width"] < share * bar["width"] and title != "short":
                problems.append(f"name is {named['width']:.0f}px of {bar['width']}")
            if bar["height"] > 64:
                problems.append(f"the bar is {bar['height']:.0f}px high")
            if problems:
                found[f"{who or 'visitor'} at {width}"] = problems
            page.screenshot(path=shots / f"{title}-{who or 'visitor'}-{width}.png")
            context.close()
    assert not found, found


def test_a_short_name_is_never_cut(browser, live_server, live_app, people):
    """The default name, whole, at a phone's width with every button shown."""
    with live_app.test_request_context():
        site.update_identity("", "", "")
    context = browser.new_context(
        base_url=live_server, viewport={"width": 320, "height": 600}
    )
    page = context.new_page()
    log_in(page, ADMIN)
    page.goto("/")
    expect(page.locator(".site-title")).to_have_text("Flaskr")
    assert layout_problems(page) == []
    context.close()
